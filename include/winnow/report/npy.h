#pragma once
// Writes a tensor as a NumPy .npy file (format version 1.0, little-endian, C order), atomically:
// numpy.load reads it as it is.
#include <string>

#include <torch/torch.h>

namespace winnow {

// float32, float64, int64 or bool tensors of any shape.
void write_npy(const std::string& path, const torch::Tensor& tensor);

}  // namespace winnow
