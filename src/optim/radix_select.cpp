// Radix selection of the k-th largest value; see include/winnow/optim/radix_select.h.
#include "winnow/optim/radix_select.h"

#include <cstring>

#include "winnow/core/error.h"

namespace winnow {
namespace {

constexpr uint32_t kBins = 1u << 16;

// The bit patterns of non-negative floats (and of NaN with a clear sign bit, above +inf)
// order as their values do. -0.0 (the sign bit alone) counts as 0; any other pattern with the
// sign bit set is a negative value, which the radix path does not serve.
inline uint32_t order_key(uint32_t bits) { return bits == 0x80000000u ? 0u : bits; }

bool radix_eligible(const std::vector<torch::Tensor>& tensors) {
  for (const auto& t : tensors) {
    if (!t.defined() || t.device().type() != torch::kCPU || t.scalar_type() != torch::kFloat ||
        !t.is_contiguous()) {
      return false;
    }
  }
  return true;
}

const uint32_t* bits_of(const torch::Tensor& t) {
  return reinterpret_cast<const uint32_t*>(t.data_ptr<float>());
}

struct RadixSelection {
  bool done = false;     // false: a negative entry was found, use the fallback
  uint32_t key = 0;      // order key of the k-th largest value
  int64_t above = 0;     // entries whose key is larger
};

RadixSelection radix_select(const std::vector<torch::Tensor>& tensors, int64_t k) {
  RadixSelection result;
  std::vector<int64_t> histogram(kBins, 0);
  uint32_t sign = 0;
  for (const auto& t : tensors) {
    const uint32_t* bits = bits_of(t);
    const int64_t n = t.numel();
    for (int64_t i = 0; i < n; ++i) {
      const uint32_t key = order_key(bits[i]);
      sign |= key;
      ++histogram[key >> 16];
    }
  }
  if (sign & 0x80000000u) return result;
  // From the top bin down, the bin that holds the k-th largest; then the same inside it.
  int64_t above = 0;
  uint32_t high = kBins;
  while (high > 0 && above + histogram[--high] < k) above += histogram[high];
  std::fill(histogram.begin(), histogram.end(), 0);
  for (const auto& t : tensors) {
    const uint32_t* bits = bits_of(t);
    const int64_t n = t.numel();
    for (int64_t i = 0; i < n; ++i) {
      const uint32_t key = order_key(bits[i]);
      if ((key >> 16) == high) ++histogram[key & 0xffffu];
    }
  }
  uint32_t low = kBins;
  while (low > 0 && above + histogram[--low] < k) above += histogram[low];
  result.done = true;
  result.key = (high << 16) | low;
  result.above = above;
  return result;
}

float float_of(uint32_t key) {
  float value;
  std::memcpy(&value, &key, sizeof value);
  return value;
}

}  // namespace

torch::Tensor kth_largest(const std::vector<torch::Tensor>& tensors, int64_t k) {
  require(!tensors.empty(), "kth_largest: no tensors");
  int64_t total = 0;
  for (const auto& t : tensors) total += t.numel();
  require(k >= 1 && k <= total, "kth_largest: k = {} must be in [1, {}]", k, total);
  if (radix_eligible(tensors)) {
    const auto selection = radix_select(tensors, k);
    if (selection.done) return torch::tensor(float_of(selection.key));
  }
  std::vector<torch::Tensor> flat;
  flat.reserve(tensors.size());
  for (const auto& t : tensors) flat.push_back(t.reshape({-1}));
  return std::get<0>(torch::cat(flat).kthvalue(total - k + 1));
}

torch::Tensor top_count_mask(const torch::Tensor& values, int64_t count) {
  const int64_t n = values.numel();
  require(count >= 0 && count <= n, "top_count_mask: count = {} must be in [0, {}]", count, n);
  if (count == n) return torch::ones_like(values);
  if (count == 0) return torch::zeros_like(values);
  if (radix_eligible({values})) {
    const auto selection = radix_select({values}, count);
    if (selection.done) {
      // One pass: larger keys, then the first (count - above) equal ones.
      auto mask = torch::empty_like(values);
      float* out = mask.data_ptr<float>();
      const uint32_t* bits = bits_of(values);
      int64_t missing = count - selection.above;
      for (int64_t i = 0; i < n; ++i) {
        const uint32_t key = order_key(bits[i]);
        bool take = key > selection.key;
        if (key == selection.key && missing > 0) {
          take = true;
          --missing;
        }
        out[i] = take ? 1.0f : 0.0f;
      }
      return mask;
    }
  }
  const auto threshold = kth_largest({values}, count);
  auto above = values.gt(threshold);
  const int64_t missing = count - above.sum().item<int64_t>();
  // Entries equal to the threshold fill the rest, first in memory order.
  auto tied = values.eq(threshold).reshape({-1});
  auto take = tied.logical_and(tied.cumsum(0, torch::kLong).le(missing));
  return above.logical_or(take.view_as(values)).to(values.scalar_type());
}

}  // namespace winnow
