#include "winnow/report/npy.h"

#include <fmt/format.h>

#include "winnow/core/error.h"
#include "winnow/report/files.h"

namespace winnow {

void write_npy(const std::string& path, const torch::Tensor& tensor) {
  std::string descr;
  switch (tensor.scalar_type()) {
    case torch::kFloat32: descr = "<f4"; break;
    case torch::kFloat64: descr = "<f8"; break;
    case torch::kInt64: descr = "<i8"; break;
    case torch::kBool: descr = "|b1"; break;
    default: fail("write_npy {}: unsupported dtype {}", path, c10::toString(tensor.scalar_type()));
  }
  auto data = tensor.contiguous().cpu();
  std::string shape;
  for (int64_t d = 0; d < data.dim(); ++d) shape += fmt::format("{},", data.size(d));
  if (data.dim() > 1) shape.pop_back();  // (N,) for one dimension, (N, K) otherwise
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", descr, shape);
  // magic (6) + version (2) + header length (2) + header + '\n', padded to a multiple of 64.
  const size_t unpadded = 10 + header.size() + 1;
  header += std::string((64 - unpadded % 64) % 64, ' ') + "\n";
  std::string bytes = "\x93NUMPY";
  bytes += '\x01';
  bytes += '\x00';
  bytes += static_cast<char>(header.size() & 0xff);
  bytes += static_cast<char>((header.size() >> 8) & 0xff);
  bytes += header;
  bytes.append(static_cast<const char*>(data.data_ptr()), data.numel() * data.element_size());
  atomic_write_text(path, bytes);
}

}  // namespace winnow
