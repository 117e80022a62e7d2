#pragma once
// Helpers shared by the model files: validation of the ModelSpec, output sizes of
// convolutions and pools, and parameter counts for describe().
#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include "winnow/core/error.h"
#include "winnow/dist/sync_batch_norm.h"
#include "winnow/models/network.h"

namespace winnow::model_detail {

struct ImageShape {
  int64_t channels = 0;
  int64_t height = 0;
  int64_t width = 0;
};

inline std::string shape_string(const std::vector<int64_t>& shape) {
  return fmt::format("{{{}}}", fmt::join(shape, ", "));
}

inline void require_classes(const ModelSpec& spec, const std::string& model) {
  require(spec.num_classes >= 1, "model '{}': num_classes = {}: must be >= 1", model,
          spec.num_classes);
}

// Number of input features of one sample (any shape, flattened).
inline int64_t flat_size(const ModelSpec& spec, const std::string& model) {
  require(!spec.input_shape.empty(), "model '{}': the input shape is empty", model);
  int64_t size = 1;
  for (int64_t d : spec.input_shape) {
    require(d >= 1, "model '{}': input shape {} has a dimension < 1", model,
            shape_string(spec.input_shape));
    size *= d;
  }
  return size;
}

// The {C, H, W} of a convolutional model's input; flat {D} input is an error.
inline ImageShape image_shape(const ModelSpec& spec, const std::string& model) {
  flat_size(spec, model);
  require(spec.input_shape.size() == 3,
          "model '{}' needs image input {{C, H, W}} (e.g. {{1, 28, 28}}); got input shape {}; "
          "use model.name = \"mlp\" for flat input",
          model, shape_string(spec.input_shape));
  return {spec.input_shape[0], spec.input_shape[1], spec.input_shape[2]};
}

// Output size of a convolution or pooling window along one axis (floor mode, as PyTorch);
// 0 where the window does not fit.
inline int64_t window_out(int64_t size, int64_t kernel, int64_t stride = 1, int64_t padding = 0) {
  int64_t span = size + 2 * padding - kernel;
  return span < 0 ? 0 : span / stride + 1;
}

// Checks a batch against the channels (and, where `exact_size`, the height and width) the
// model was built for, so a wrong input gives a message instead of a shape error deep inside.
inline void check_image_batch(const torch::Tensor& x, const ImageShape& shape, bool exact_size,
                              const char* model) {
  bool ok = x.dim() == 4 && x.size(1) == shape.channels &&
            (!exact_size || (x.size(2) == shape.height && x.size(3) == shape.width));
  if (!ok) {
    fail("model '{}' was built for input [N, {}, {}, {}]; got a batch of shape {}", model,
         shape.channels, shape.height, shape.width, shape_string(x.sizes().vec()));
  }
}

inline int64_t count_parameters(const torch::nn::Module& module) {
  int64_t count = 0;
  for (const auto& p : module.parameters()) count += p.numel();
  return count;
}

// The 3x3, padding 1, bias-free convolution of the ResNets (batch norm follows it).
inline torch::nn::Conv2d conv3x3(int64_t in, int64_t out, int64_t stride) {
  return torch::nn::Conv2d(
      torch::nn::Conv2dOptions(in, out, 3).stride(stride).padding(1).bias(false));
}

inline std::string image_string(const ImageShape& s) {
  return fmt::format("{}x{}x{}", s.channels, s.height, s.width);
}

}  // namespace winnow::model_detail
