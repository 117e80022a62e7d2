#pragma once
// The in-memory data set: every sample lives in one tensor, so batches are slices, never
// per-sample collation.
#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace winnow {

struct Dataset {
  std::string name;
  // float32, [N, C, H, W] for images or [N, D] for feature vectors.
  torch::Tensor inputs;
  // int64 [N]: the labels training sees (possibly noisy: given by the user or simulated).
  torch::Tensor labels;
  // int64 [N] where the clean labels are known (simulated noise, clean benchmarks);
  // undefined otherwise.
  torch::Tensor true_labels;
  int64_t num_classes = 0;
  std::vector<std::string> class_names;  // empty where unknown

  int64_t size() const { return inputs.defined() ? inputs.size(0) : 0; }
  bool has_true_labels() const { return true_labels.defined(); }
  // Shape of one sample, e.g. {1, 28, 28} or {D}.
  std::vector<int64_t> sample_shape() const;
  // The samples at `indices` (int64 [M]), in that order.
  Dataset subset(const torch::Tensor& indices) const;
  // Throws winnow::Error unless shapes, dtypes and label ranges agree.
  void validate() const;
};

}  // namespace winnow
