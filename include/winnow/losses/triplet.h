#pragma once
// Batch-hard triplet loss (Hermans, Beyer & Leibe, "In Defense of the Triplet Loss for Person
// Re-Identification", 2017), per sample. For each anchor a of a batch, the hardest positive is
// the farthest sample with a's label and the hardest negative the closest sample with another
// label:
//   l(a) = max(0, margin + max_p d(a, p) - min_n d(a, n)),  d = euclidean distance.
// Returned per anchor (shape [B]) so that sample selection can rank anchors by their loss, as
// asymmetric co-teaching does (its official code builds the loss with reduction "none").
#include <cstdint>

#include <torch/torch.h>

namespace winnow {

struct TripletOutput {
  torch::Tensor loss;       // float [B], differentiable
  torch::Tensor separated;  // bool [B]: hardest negative farther than hardest positive
};

// features: float [B, D]; labels: int64 [B]. An anchor whose label no other sample shares
// has itself as its hardest positive (distance ~0); an anchor with no negative in the batch
// contributes 0 (there is no triplet to violate), instead of the official code's error on an
// empty minimum.
TripletOutput batch_hard_triplet(const torch::Tensor& features, const torch::Tensor& labels, double margin);

// Euclidean distances between the rows of `x` [B, D], with the gradient kept finite at 0
// (distances are clamped at 1e-12 before the square root, as the reference implementation).
torch::Tensor pairwise_euclidean(const torch::Tensor& x);

}  // namespace winnow
