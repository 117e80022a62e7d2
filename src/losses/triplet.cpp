#include "winnow/losses/triplet.h"

#include <limits>

#include "winnow/core/error.h"

namespace winnow {

torch::Tensor pairwise_euclidean(const torch::Tensor& x) {
  // ||a||^2 + ||b||^2 - 2 a.b, one matmul instead of a [B, B, D] difference tensor.
  auto squared = x.pow(2).sum(1, /*keepdim=*/true);
  auto d2 = squared + squared.t() - 2.0 * x.matmul(x.t());
  return d2.clamp_min(1e-12).sqrt();
}

TripletOutput batch_hard_triplet(const torch::Tensor& features, const torch::Tensor& labels, double margin) {
  require(features.dim() == 2, "triplet loss: features must be [B, D], got {} dimensions", features.dim());
  require(labels.dim() == 1 && labels.size(0) == features.size(0),
          "triplet loss: {} labels for {} feature rows", labels.numel(), features.size(0));
  require(margin >= 0, "triplet loss: margin = {}: must be >= 0", margin);
  auto dist = pairwise_euclidean(features);
  auto same = labels.unsqueeze(0).eq(labels.unsqueeze(1));
  // Hardest positive: the largest distance among same-label samples (the anchor itself is one,
  // so the set is never empty). Hardest negative: the smallest among the others; +inf where an
  // anchor has none, which makes its hinge 0.
  auto hardest_positive = dist.masked_fill(same.logical_not(), -1.0).amax(1);
  auto hardest_negative = dist.masked_fill(same, std::numeric_limits<float>::infinity()).amin(1);
  auto has_negative = same.logical_not().any(1);
  auto violation = (margin + hardest_positive - hardest_negative).clamp_min(0.0);
  TripletOutput out;
  out.loss = torch::where(has_negative, violation, torch::zeros_like(violation));
  out.separated = hardest_negative.detach().gt(hardest_positive.detach());
  return out;
}

}  // namespace winnow
