#pragma once
// How well a clustering (e.g. DBSCAN's pseudo-identities in asymmetric co-teaching, Yang et al.,
// AAAI 2020) recovers the true classes: pairwise precision / recall / F as ACT's calScores
// (selftrainingACT.py) reports them, and NMI and ARI as scikit-learn computes them.
#include <cstdint>

#include <torch/torch.h>

namespace winnow {

struct ClusterQuality {
  double pairwise_precision = 0, pairwise_recall = 0, pairwise_f = 0;  // in [0, 1]
  double nmi = 0;          // normalized mutual information (arithmetic mean normalisation, sklearn's default)
  double ari = 0;          // adjusted Rand index, in [-1, 1]
  int64_t clusters = 0;    // distinct non-negative predicted labels
  int64_t unassigned = 0;  // predicted label < 0
};

// predicted, truth: integer [N] (any values; only equality matters). A negative predicted label
// means "unassigned" (DBSCAN's -1): each such sample is a singleton cluster of its own for every
// score, so it forms no predicted pair.
//
// Over all unordered pairs of samples, TP = pairs in the same predicted cluster and the same
// true class; pairwise_precision = TP / pairs in the same predicted cluster, pairwise_recall =
// TP / pairs in the same true class, pairwise_f their harmonic mean. A ratio 0/0 (no predicted
// pairs, e.g. all singletons; no true pairs; or precision = recall = 0) is reported as 0, so
// all-singletons scores 0 even against all-singleton truth.
//
// Naming note: ACT's calScores groups by the TRUE id and takes its "precision" over pairs that
// share a true id, which is what is called recall here (and vice versa); it also scores the
// outliers by their k-NN labels instead of as singletons. The definitions above are the usual
// ones (precision: how pure the predicted clusters are).
//
// nmi = sklearn.metrics.normalized_mutual_info_score(truth, predicted) with
// average_method="arithmetic"; ari = sklearn.metrics.adjusted_rand_score(truth, predicted),
// both with sklearn's special cases: both labelings a single cluster (or N = 0) give NMI 1;
// identical pair structure (no pair split by one labeling and joined by the other; includes
// N < 2, a single cluster each, all singletons each) gives ARI 1; one labeling with a single
// cluster and the other with several gives NMI 0.
//
// Cost O(N log N) via a contingency table, never O(N^2) pairs. Throws winnow::Error for
// non-1-D or non-integer inputs or different lengths.
ClusterQuality cluster_quality(const torch::Tensor& predicted, const torch::Tensor& truth);

}  // namespace winnow
