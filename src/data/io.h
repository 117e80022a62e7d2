#pragma once
// Internal helpers shared by the loaders in src/data: bulk file reading through zlib (which
// reads gzip and uncompressed files alike) and checks whose messages name the file.
#include <torch/torch.h>
#include <zlib.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace winnow::detail {

// A read-only file opened with gzopen: gzip data is inflated, anything else is passed
// through, so every loader accepts both `x` and `x.gz` without sniffing the format itself.
class GzReader {
 public:
  explicit GzReader(const std::string& path);
  ~GzReader();
  GzReader(const GzReader&) = delete;
  GzReader& operator=(const GzReader&) = delete;

  // Reads up to `size` bytes into `out`; returns how many were read (fewer only at the end
  // of the data). Throws winnow::Error on a corrupt stream.
  size_t read(void* out, size_t size);
  // Reads exactly `size` bytes of `what` or throws, naming the byte offset where data ended.
  void read_exact(void* out, size_t size, const std::string& what);
  // Throws before a payload is allocated when the file cannot hold `size` more bytes, so a
  // corrupt or truncated header fails with a clear message instead of a huge allocation.
  void require_available(uint64_t size, const std::string& what);
  // Throws unless the data ends here: trailing bytes mean the header and payload disagree.
  void expect_end(const std::string& what);
  // Everything from the current position to the end (text formats, small binary files).
  std::string read_rest();
  // Offset in the uncompressed data.
  uint64_t offset() const { return offset_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  gzFile file_ = nullptr;
  uint64_t offset_ = 0;
  uint64_t file_size_ = 0;  // on disk, compressed or not
};

// `s` without leading blanks and tabs, nor trailing blanks, tabs and carriage returns.
std::string_view trim(std::string_view s);

// Calls f(line_number, line) for every line of `text`: numbers from 1, lines trimmed (a
// missing final newline and Windows line ends are fine).
template <typename F>
void for_each_line(std::string_view text, F&& f) {
  int64_t line_number = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    f(++line_number, trim(text.substr(0, end)));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
  }
}

// Product of `dims`; throws, naming `path`, when a dimension is negative or the product of the
// non-zero dimensions overflows int64 (a shape torch could not stride).
int64_t checked_numel(const std::vector<int64_t>& dims, const std::string& path);

// Throws unless every value of `x` (a floating tensor) is finite; names the file, the first
// offending sample and the feature position inside it.
void require_finite(const torch::Tensor& x, const std::string& path);

// The first existing path of `candidates`, or "" when none exists.
std::string first_existing(std::initializer_list<std::string> candidates);

// NPY array (v1/v2/v3 header, little-endian '<f4' '<f8' '|u1' '<i4' '<i8', C order) as a
// tensor of its own dtype and shape.
torch::Tensor read_npy(const std::string& path);

// Labels from a .npy of integers or a text file with one integer per line: int64 [N], all
// values non-negative integers.
torch::Tensor read_label_file(const std::string& path);

}  // namespace winnow::detail
