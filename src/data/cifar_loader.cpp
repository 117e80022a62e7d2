// CIFAR binary batches: fixed-size records, no header. Each file is read whole into a uint8
// tensor [records, record_size]; labels and pixels are column slices of it.
#include "data/io.h"
#include "winnow/core/error.h"
#include "winnow/data/loaders.h"

namespace winnow {
namespace {

constexpr int64_t kPixelBytes = 3 * 32 * 32;

struct CifarLayout {
  int64_t label_bytes;   // 1 (CIFAR-10) or 2 (CIFAR-100: coarse, fine)
  int64_t label_column;  // which of the label bytes training uses
  int64_t num_classes;
  int64_t record_bytes() const { return label_bytes + kPixelBytes; }
};

CifarLayout layout_for(bool cifar100, bool fine) {
  if (!cifar100) return {1, 0, 10};
  return fine ? CifarLayout{2, 1, 100} : CifarLayout{2, 0, 20};
}

// All records of one file as uint8 [records, record_bytes].
torch::Tensor read_records(const std::string& path, const CifarLayout& layout) {
  detail::GzReader in(path);
  const std::string bytes = in.read_rest();
  const auto size = static_cast<int64_t>(bytes.size());
  const int64_t record = layout.record_bytes();
  require(size > 0, "'{}': empty file, expected CIFAR records of {} bytes", path, record);
  if (size % record != 0) {
    const int64_t complete = size / record;
    fail(
        "'{}': truncated CIFAR data: {} bytes is not a whole number of {}-byte records; record {} "
        "starts at byte offset {} but has only {} bytes",
        path, size, record, complete, complete * record, size - complete * record);
  }
  // from_blob borrows the string's memory; clone() gives the tensor its own copy.
  return torch::from_blob(const_cast<char*>(bytes.data()), {size / record, record}, torch::kUInt8).clone();
}

torch::Tensor labels_of(const torch::Tensor& records, const CifarLayout& layout, const std::string& path) {
  auto labels = records.select(1, layout.label_column).to(torch::kInt64);
  const int64_t highest = labels.max().item<int64_t>();
  if (highest >= layout.num_classes) {
    fail("'{}': record {} has label {}, allowed [0, {}]", path, labels.argmax().item<int64_t>(), highest,
         layout.num_classes - 1);
  }
  return labels;
}

}  // namespace

Dataset load_cifar_binary(const std::vector<std::string>& paths, bool cifar100, bool cifar100_fine) {
  require(!paths.empty(), "load_cifar_binary: no files given");
  const CifarLayout layout = layout_for(cifar100, cifar100_fine);
  std::vector<torch::Tensor> images;
  std::vector<torch::Tensor> labels;
  for (const auto& path : paths) {
    auto records = read_records(path, layout);
    labels.push_back(labels_of(records, layout, path));
    images.push_back(records.slice(1, layout.label_bytes).reshape({-1, 3, 32, 32}));
  }
  Dataset data;
  data.name = paths.front();
  // Concatenate as bytes, convert once: a quarter of the memory traffic of converting first.
  data.inputs = torch::cat(images).to(torch::kFloat32).div_(255.0);
  data.labels = torch::cat(labels);
  data.num_classes = layout.num_classes;
  data.validate();
  return data;
}

}  // namespace winnow
