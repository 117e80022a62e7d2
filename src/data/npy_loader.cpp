// NPY files (numpy.save): magic "\x93NUMPY", version, header length, then a Python dict
// literal {'descr': '<f4', 'fortran_order': False, 'shape': (N, D), } padded with spaces,
// then the raw C-order array. The payload is read with one call into a tensor of its dtype.
#include <fmt/ranges.h>

#include <array>
#include <charconv>
#include <cstring>
#include <string_view>

#include "data/io.h"
#include "winnow/core/error.h"
#include "winnow/data/loaders.h"

namespace winnow {
namespace detail {
namespace {

struct NpyHeader {
  std::string descr;
  bool fortran_order = false;
  std::vector<int64_t> shape;
};

torch::ScalarType dtype_of(const std::string& descr, const std::string& path) {
  if (descr == "<f4") return torch::kFloat32;
  if (descr == "<f8") return torch::kFloat64;
  if (descr == "|u1" || descr == "<u1") return torch::kUInt8;
  if (descr == "<i4") return torch::kInt32;
  if (descr == "<i8") return torch::kInt64;
  fail(
      "'{}': NPY dtype '{}' is not supported; allowed: '<f4', '<f8', '|u1', '<i4', '<i8' "
      "(little-endian; convert with array.astype('<f4'))",
      path, descr);
}

// The text right after `key`'s colon in the header dict.
std::string_view dict_value(std::string_view dict, const std::string& key, const std::string& path) {
  for (const char quote : {'\'', '"'}) {
    const std::string quoted = quote + key + quote;
    const size_t at = dict.find(quoted);
    if (at == std::string_view::npos) continue;
    std::string_view rest = dict.substr(at + quoted.size());
    const size_t colon = rest.find(':');
    if (colon == std::string_view::npos) break;
    rest.remove_prefix(colon + 1);
    while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
    return rest;
  }
  fail("'{}': NPY header has no '{}' entry: {}", path, key, dict);
}

std::string parse_quoted(std::string_view value, const std::string& path) {
  require(!value.empty() && (value.front() == '\'' || value.front() == '"'),
          "'{}': NPY header 'descr' is not a string", path);
  const size_t end = value.find(value.front(), 1);
  require(end != std::string_view::npos, "'{}': NPY header 'descr' string is not closed", path);
  return std::string(value.substr(1, end - 1));
}

// "(60000, 784)", "(5,)" or "()".
std::vector<int64_t> parse_shape(std::string_view value, const std::string& path) {
  require(!value.empty() && value.front() == '(', "'{}': NPY header 'shape' is not a tuple", path);
  const size_t close = value.find(')');
  require(close != std::string_view::npos, "'{}': NPY header 'shape' tuple is not closed", path);
  std::string_view inside = value.substr(1, close - 1);
  std::vector<int64_t> shape;
  while (true) {
    while (!inside.empty() && (inside.front() == ' ' || inside.front() == ',')) inside.remove_prefix(1);
    if (inside.empty()) return shape;
    int64_t dim = -1;
    const auto [end, error] = std::from_chars(inside.data(), inside.data() + inside.size(), dim);
    require(error == std::errc() && dim >= 0, "'{}': NPY header 'shape' has a bad dimension: {}", path,
            value.substr(0, close + 1));
    shape.push_back(dim);
    inside.remove_prefix(static_cast<size_t>(end - inside.data()));
  }
}

NpyHeader read_header(GzReader& in) {
  std::array<char, 8> preamble{};
  in.read_exact(preamble.data(), preamble.size(), "NPY magic and version");
  require(std::memcmp(preamble.data(), "\x93NUMPY", 6) == 0,
          "'{}': not an NPY file (no \\x93NUMPY magic at byte offset 0)", in.path());
  const auto major = static_cast<unsigned char>(preamble[6]);
  require(major >= 1 && major <= 3, "'{}': NPY format version {} is not supported (1 to 3 are)", in.path(),
          major);
  // Version 1 stores the header length in 2 bytes, versions 2 and 3 in 4 (little-endian).
  std::array<unsigned char, 4> length_bytes{};
  const size_t length_size = major == 1 ? 2 : 4;
  in.read_exact(length_bytes.data(), length_size, "NPY header length");
  uint32_t length = 0;
  for (size_t i = length_size; i-- > 0;) length = (length << 8) | length_bytes[i];
  in.require_available(length, "NPY header");
  std::string dict(length, '\0');
  in.read_exact(dict.data(), length, "NPY header");

  NpyHeader header;
  header.descr = parse_quoted(dict_value(dict, "descr", in.path()), in.path());
  const auto order = dict_value(dict, "fortran_order", in.path());
  require(order.rfind("False", 0) == 0 || order.rfind("True", 0) == 0,
          "'{}': NPY header 'fortran_order' is neither True nor False", in.path());
  header.fortran_order = order.rfind("True", 0) == 0;
  header.shape = parse_shape(dict_value(dict, "shape", in.path()), in.path());
  return header;
}

}  // namespace

torch::Tensor read_npy(const std::string& path) {
  GzReader in(path);
  const NpyHeader header = read_header(in);
  require(!header.fortran_order,
          "'{}': NPY array is in Fortran order; save it in C order (numpy.ascontiguousarray)", path);
  require(!header.shape.empty(), "'{}': NPY array is a scalar; expected an array with a sample axis", path);
  const auto dtype = dtype_of(header.descr, path);
  const int64_t count = checked_numel(header.shape, path);
  const auto element = static_cast<int64_t>(torch::elementSize(dtype));
  require(count <= INT64_MAX / element, "'{}': the header's dimensions overflow 64 bits (in bytes)", path);
  const auto bytes = static_cast<uint64_t>(count * element);
  in.require_available(bytes, "NPY array data");
  auto array = torch::empty(header.shape, dtype);
  in.read_exact(array.data_ptr(), bytes, "NPY array data");
  in.expect_end("NPY array data");
  return array;
}

}  // namespace detail

torch::Tensor load_npy_features(const std::string& features_path) {
  auto features = detail::read_npy(features_path);
  require(features.dim() >= 2, "'{}': features have shape [{}]; expected [N, D] or [N, C, H, W]",
          features_path, fmt::join(features.sizes(), ", "));
  // A stack of grayscale images [N, H, W] gets its channel axis, as models expect [N, C, H, W].
  if (features.dim() == 3) features = features.unsqueeze(1);
  // Bytes are pixels, scaled to [0, 1] like the IDX and CIFAR loaders; other types keep values.
  const bool pixels = features.scalar_type() == torch::kUInt8;
  features = features.to(torch::kFloat32);
  if (pixels) features.div_(255.0);
  detail::require_finite(features, features_path);
  return features;
}

Dataset load_npy(const std::string& features_path, const std::string& labels_path, int64_t num_classes) {
  auto features = load_npy_features(features_path);
  Dataset data;
  data.name = features_path;
  data.inputs = features;
  data.labels = detail::read_label_file(labels_path);
  require(data.labels.size(0) == data.inputs.size(0), "'{}' holds {} samples but '{}' holds {} labels",
          features_path, data.inputs.size(0), labels_path, data.labels.size(0));
  require(num_classes >= 0, "'{}': num_classes must be >= 0 (0: from the labels), got {}", labels_path,
          num_classes);
  const int64_t highest = data.labels.numel() > 0 ? data.labels.max().item<int64_t>() : 0;
  if (num_classes > 0 && highest >= num_classes) {
    fail("'{}': label {} at index {} is out of range [0, {}]", labels_path, highest,
         data.labels.argmax().item<int64_t>(), num_classes - 1);
  }
  data.num_classes = num_classes > 0 ? num_classes : highest + 1;
  data.validate();
  return data;
}

}  // namespace winnow
