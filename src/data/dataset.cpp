#include "winnow/data/dataset.h"

#include "winnow/core/error.h"

namespace winnow {

std::vector<int64_t> Dataset::sample_shape() const {
  auto sizes = inputs.sizes().vec();
  sizes.erase(sizes.begin());
  return sizes;
}

Dataset Dataset::subset(const torch::Tensor& indices) const {
  Dataset out = *this;
  out.inputs = inputs.index_select(0, indices);
  out.labels = labels.index_select(0, indices);
  if (true_labels.defined()) out.true_labels = true_labels.index_select(0, indices);
  return out;
}

void Dataset::validate() const {
  require(inputs.defined() && inputs.dim() >= 2, "data set '{}': inputs must be [N, ...]", name);
  require(inputs.scalar_type() == torch::kFloat32, "data set '{}': inputs must be float32", name);
  require(labels.defined() && labels.dim() == 1 && labels.scalar_type() == torch::kInt64,
          "data set '{}': labels must be int64 [N]", name);
  require(labels.size(0) == inputs.size(0), "data set '{}': {} inputs but {} labels", name,
          inputs.size(0), labels.size(0));
  require(num_classes >= 2, "data set '{}': needs at least 2 classes, has {}", name, num_classes);
  if (labels.numel() > 0) {
    int64_t lo = labels.min().item<int64_t>();
    int64_t hi = labels.max().item<int64_t>();
    require(lo >= 0 && hi < num_classes, "data set '{}': labels range over [{}, {}], allowed [0, {}]",
            name, lo, hi, num_classes - 1);
  }
  if (true_labels.defined()) {
    require(true_labels.sizes() == labels.sizes(), "data set '{}': true labels and labels differ in size",
            name);
  }
  require(class_names.empty() || static_cast<int64_t>(class_names.size()) == num_classes,
          "data set '{}': {} class names for {} classes", name, class_names.size(), num_classes);
}

}  // namespace winnow
