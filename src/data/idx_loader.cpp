// IDX files (MNIST, Fashion-MNIST): a big-endian header — magic 0x00000803 for unsigned-byte
// images [N, H, W], 0x00000801 for unsigned-byte labels [N] — then the payload. Each payload
// is read with one gzread straight into a tensor; the conversion to float is one vectorised op.
#include <array>

#include "data/io.h"
#include "winnow/core/error.h"
#include "winnow/data/loaders.h"

namespace winnow {
namespace {

constexpr uint32_t kImagesMagic = 0x00000803;
constexpr uint32_t kLabelsMagic = 0x00000801;

uint32_t read_big_endian_u32(detail::GzReader& in, const std::string& what) {
  std::array<unsigned char, 4> bytes{};
  in.read_exact(bytes.data(), bytes.size(), what);
  return (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) | (uint32_t{bytes[2]} << 8) |
         uint32_t{bytes[3]};
}

// Reads the magic and the `rank` dimensions that follow it.
std::vector<int64_t> read_idx_header(detail::GzReader& in, uint32_t expected_magic, size_t rank,
                                     const char* kind) {
  const uint32_t magic = read_big_endian_u32(in, "IDX magic number");
  require(magic == expected_magic,
          "'{}': not an IDX {} file: magic number is 0x{:08x}, expected 0x{:08x} (unsigned bytes, {} "
          "dimension{})",
          in.path(), kind, magic, expected_magic, rank, rank == 1 ? "" : "s");
  std::vector<int64_t> dims;
  for (size_t i = 0; i < rank; ++i) {
    dims.push_back(read_big_endian_u32(in, "IDX header dimension " + std::to_string(i)));
  }
  return dims;
}

// The unsigned-byte payload of the given shape, read in one call.
torch::Tensor read_payload(detail::GzReader& in, const std::vector<int64_t>& shape, const char* what) {
  in.require_available(static_cast<uint64_t>(detail::checked_numel(shape, in.path())), what);
  auto bytes = torch::empty(shape, torch::kUInt8);
  in.read_exact(bytes.data_ptr<uint8_t>(), static_cast<size_t>(bytes.numel()), what);
  in.expect_end(what);
  return bytes;
}

torch::Tensor read_idx_images(const std::string& path) {
  detail::GzReader in(path);
  auto dims = read_idx_header(in, kImagesMagic, 3, "images");
  require(dims[1] > 0 && dims[2] > 0, "'{}': image size {}x{} in the IDX header must be positive", path,
          dims[1], dims[2]);
  auto pixels = read_payload(in, {dims[0], 1, dims[1], dims[2]}, "image data");
  return pixels.to(torch::kFloat32).div_(255.0);
}

torch::Tensor read_idx_labels(const std::string& path) {
  detail::GzReader in(path);
  auto dims = read_idx_header(in, kLabelsMagic, 1, "labels");
  return read_payload(in, {dims[0]}, "label data").to(torch::kInt64);
}

}  // namespace

Dataset load_idx(const std::string& images_path, const std::string& labels_path, int64_t num_classes) {
  Dataset data;
  data.name = images_path;
  data.inputs = read_idx_images(images_path);
  data.labels = read_idx_labels(labels_path);
  require(data.inputs.size(0) == data.labels.size(0), "'{}' holds {} images but '{}' holds {} labels",
          images_path, data.inputs.size(0), labels_path, data.labels.size(0));
  require(num_classes >= 2, "IDX data set '{}': num_classes must be >= 2, got {}", images_path, num_classes);
  if (data.labels.numel() > 0) {
    const int64_t highest = data.labels.max().item<int64_t>();
    if (highest >= num_classes) {
      fail("'{}': label {} at index {} is out of range [0, {}]", labels_path, highest,
           data.labels.argmax().item<int64_t>(), num_classes - 1);
    }
  }
  data.num_classes = num_classes;
  data.validate();
  return data;
}

}  // namespace winnow
