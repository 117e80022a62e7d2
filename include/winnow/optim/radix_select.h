#pragma once
// The k-th largest value of the entries of several tensors, by radix selection.
//
// CDR splits every step's weights at the k-th largest criticality |grad * w| (Xia et al.
// 2021, Sec. 3). ATen's CPU kthvalue / topk are general quickselects over strided data and
// cost ~10 ms for the 670k weights of an mlp 784-512-512-10, several times the network's
// forward and backward at batch 32. Criticalities are non-negative, and the bit patterns of
// non-negative IEEE floats sort as the floats do, so two passes of a 65,536-bin histogram
// (high 16 bits, then the low 16 bits inside the chosen bin) find the exact value in ~0.7 ms,
// with no copy and no concatenation of the tensors.
#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace winnow {

// The k-th largest (k = 1: the maximum) of all entries of `tensors`, taken together, as a
// 0-dim tensor of their dtype on their device. 1 <= k <= total entries. Exact: the value
// kthvalue(n - k + 1) of their concatenation gives. The radix path serves contiguous float32
// CPU tensors whose entries are >= 0 (NaN counts as the largest, as in kthvalue); any other
// input (other dtypes, CUDA, negative entries) goes to kthvalue.
torch::Tensor kth_largest(const std::vector<torch::Tensor>& tensors, int64_t k);

// Mask (same shape and dtype as `values`, 1 = selected) of exactly `count` entries holding the
// largest values; among entries equal to the count-th largest value the first ones in memory
// order are taken, so the count is exact and the choice deterministic.
torch::Tensor top_count_mask(const torch::Tensor& values, int64_t count);

}  // namespace winnow
