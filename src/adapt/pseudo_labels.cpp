#include "winnow/adapt/pseudo_labels.h"

#include "winnow/cluster/dbscan.h"
#include "winnow/cluster/outliers.h"
#include "winnow/core/error.h"

namespace winnow {

PseudoLabels make_pseudo_labels(const torch::Tensor& target, const torch::Tensor& source,
                                const ClusteringOptions& options, std::optional<double> eps) {
  auto distance = k_reciprocal_distance(target, source, options.rerank);
  PseudoLabels out;
  out.eps = eps ? *eps : dbscan_eps_from_rho(distance, options.rho);
  auto dbscan = dbscan_precomputed(distance, out.eps, options.min_samples);
  out.inlier = dbscan.ge(0);
  out.clusters = out.inlier.any().item<bool>() ? dbscan.max().item<int64_t>() + 1 : 0;
  require(out.clusters > 0,
          "DBSCAN (eps {:.4g}, min_samples {}) placed none of the {} target samples in a cluster: raise "
          "method.rho (now {}) so that eps grows, or lower method.min_samples",
          out.eps, options.min_samples, target.size(0), options.rho);
  out.labels = label_outliers_nearest_inlier(target, dbscan);
  return out;
}

torch::Tensor pseudo_label_correct(const PseudoLabels& pseudo, const torch::Tensor& truth) {
  const int64_t identities = truth.max().item<int64_t>() + 1;
  // Contingency of (cluster, identity) over inliers; the majority identity of each cluster.
  auto inlier_index = pseudo.inlier.nonzero().squeeze(1);
  auto cell = pseudo.labels.index_select(0, inlier_index) * identities + truth.index_select(0, inlier_index);
  auto counts = torch::bincount(cell, {}, pseudo.clusters * identities).view({pseudo.clusters, identities});
  auto majority = counts.argmax(1);
  return majority.index_select(0, pseudo.labels).eq(truth);
}

}  // namespace winnow
