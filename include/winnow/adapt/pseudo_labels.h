#pragma once
// One round's pseudo-labels of the target domain, as ACT's official code makes them:
// k-reciprocal re-ranked Jaccard distance (with the source term), DBSCAN on that distance
// (eps from the rho rule in the first round, then kept), inliers labelled by their cluster
// and every outlier by its nearest inlier (1-NN on L2-normalised features).
#include <cstdint>
#include <optional>

#include <torch/torch.h>

#include "winnow/cluster/rerank.h"

namespace winnow {

struct ClusteringOptions {
  RerankOptions rerank;       // k1 20, k2 6, lambda 0.1
  double rho = 1.6e-3;        // eps = mean of the smallest rho share of pairwise distances
  int64_t min_samples = 4;    // DBSCAN's core-point neighbourhood size
};

struct PseudoLabels {
  torch::Tensor labels;  // int64 [N]: the cluster of each sample (outliers: their nearest inlier's)
  torch::Tensor inlier;  // bool [N]: DBSCAN placed the sample in a cluster
  int64_t clusters = 0;
  double eps = 0;        // the DBSCAN radius used

  int64_t outliers() const { return inlier.numel() - inlier.sum().item<int64_t>(); }
  // DBSCAN's own labels: -1 for outliers.
  torch::Tensor dbscan_labels() const { return labels.masked_fill(inlier.logical_not(), -1); }
};

// target: pooled features [N, F] of the target samples; source: [M, F] (used when lambda > 0).
// `eps`: the radius of an earlier round; empty: computed by the rho rule.
// Throws when DBSCAN finds no cluster (with a message suggesting a larger rho).
PseudoLabels make_pseudo_labels(const torch::Tensor& target, const torch::Tensor& source,
                                const ClusteringOptions& options, std::optional<double> eps);

// Bool [N]: the pseudo-label of each sample names a cluster whose inliers are mostly of the
// sample's true identity (majority vote over the cluster's inliers). Scoring only (`truth` is
// hidden from training): how correct the 1-NN labels of outliers are, selected or not.
torch::Tensor pseudo_label_correct(const PseudoLabels& pseudo, const torch::Tensor& truth);

}  // namespace winnow
