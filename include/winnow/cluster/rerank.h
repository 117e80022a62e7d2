#pragma once
// k-reciprocal re-ranking (Zhong, Zheng, Cao & Li, "Re-ranking Person Re-identification with
// k-reciprocal Encoding", CVPR 2017), in the form asymmetric co-teaching uses it to build the
// distance that DBSCAN clusters (Yang et al., "Asymmetric Co-Teaching for Unsupervised
// Cross-Domain Person Re-Identification", AAAI 2020, Sec. 3.1; official code reid/rerank.py):
// all target samples are both probe and gallery, and an optional source term pulls apart
// target samples that lie far from every labelled source sample.
#include <cstdint>

#include <torch/torch.h>

namespace winnow {

struct RerankOptions {
  int64_t k1 = 20;     // size of the k-reciprocal neighbourhood R(p, k1) (paper's k1)
  int64_t k2 = 6;      // local query expansion over the k2 nearest neighbours; 1 turns it off
  double lambda = 0.1; // weight of the source term; 0 gives the pure Jaccard distance
  // Throws winnow::Error naming the field when a value is out of range.
  void validate() const;
};

// target: floating [N, D] features of the unlabelled target samples; source: floating [M, D]
// features of the labelled source samples (ignored, and may be undefined, when lambda == 0).
// Returns float32 [N, N] on the CPU:
//   (1 - lambda) * jaccard(i, j) + lambda * (s_i + s_j),
// where jaccard is the k-reciprocal Jaccard distance (in [0, 1], ~0 on the diagonal) and s_t
// is target t's normalised distance to its nearest source sample. The result is symmetric.
// Features are L2-normalised first; computed in float32 as the official code does. Needs
// 2 <= N, k1 < N and k2 <= N; cost is one N x N distance matrix plus sparse work linear in N.
torch::Tensor k_reciprocal_distance(const torch::Tensor& target, const torch::Tensor& source,
                                    const RerankOptions& options = {});

}  // namespace winnow
