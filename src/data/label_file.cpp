// Label files: a .npy of integers or a text file with one integer per line. Shared by the NPY
// loader and by load_label_override (a user's own noisy labels for a known data set).
#include <charconv>
#include <string_view>

#include "data/io.h"
#include "winnow/core/error.h"
#include "winnow/data/loaders.h"

namespace winnow {
namespace detail {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

torch::Tensor read_npy_labels(const std::string& path) {
  auto array = read_npy(path);
  if (array.dim() == 2 && array.size(1) == 1) array = array.squeeze(1);
  require(array.dim() == 1, "'{}': labels must be a 1-D array [N], got {} dimensions", path, array.dim());
  if (array.is_floating_point()) {
    // Float arrays are accepted when every value is integral (numpy code often saves labels
    // as float); a fractional or non-finite value is an error, never rounded.
    auto bad = torch::logical_not(torch::isfinite(array)).logical_or_(array != array.floor());
    if (bad.any().item<bool>()) {
      const int64_t at = bad.nonzero()[0][0].item<int64_t>();
      fail("'{}': label at index {} is {}, not an integer", path, at, array[at].item<double>());
    }
  }
  auto labels = array.to(torch::kInt64);
  auto negative = labels < 0;
  if (negative.any().item<bool>()) {
    const int64_t at = negative.nonzero()[0][0].item<int64_t>();
    fail("'{}': label at index {} is {}, labels must be non-negative", path, at, labels[at].item<int64_t>());
  }
  return labels;
}

torch::Tensor read_text_labels(const std::string& path) {
  GzReader in(path);
  const std::string text = in.read_rest();
  std::vector<int64_t> labels;
  for_each_line(text, [&](int64_t line_number, std::string_view line) {
    if (line.empty()) return;
    int64_t label = -1;
    const auto [stop, error] = std::from_chars(line.data(), line.data() + line.size(), label);
    require(error == std::errc() && stop == line.data() + line.size() && label >= 0,
            "'{}': line {}: '{}' is not a non-negative integer label", path, line_number, line);
    labels.push_back(label);
  });
  require(!labels.empty(), "'{}': no labels (expected one integer per line)", path);
  return torch::tensor(labels, torch::kInt64);
}

}  // namespace

torch::Tensor read_label_file(const std::string& path) {
  if (ends_with(path, ".npy") || ends_with(path, ".npy.gz")) return read_npy_labels(path);
  return read_text_labels(path);
}

}  // namespace detail

void load_label_override(Dataset& data, const std::string& path, bool keep_as_truth) {
  auto labels = detail::read_label_file(path);
  require(labels.numel() > 0, "'{}': no labels", path);
  require(labels.size(0) == data.size(), "'{}' holds {} labels but data set '{}' has {} samples", path,
          labels.size(0), data.name, data.size());
  const int64_t highest = labels.max().item<int64_t>();
  if (highest >= data.num_classes) {
    fail("'{}': label {} at index {} is out of range [0, {}] for data set '{}'", path, highest,
         labels.argmax().item<int64_t>(), data.num_classes - 1, data.name);
  }
  if (keep_as_truth) data.true_labels = data.labels;
  data.labels = labels;
  data.validate();
}

}  // namespace winnow
