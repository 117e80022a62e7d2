#include "data/io.h"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <filesystem>

#include "winnow/core/error.h"

namespace winnow::detail {

GzReader::GzReader(const std::string& path) : path_(path) {
  errno = 0;
  file_ = gzopen(path.c_str(), "rb");
  if (file_ == nullptr) {
    fail("cannot open '{}': {}", path, errno != 0 ? std::strerror(errno) : "out of memory");
  }
  // Large reads go straight into the destination; a bigger inflate buffer than the 8 KiB
  // default cuts the number of system calls for the 47 MB Fashion-MNIST images by ~16x.
  gzbuffer(file_, 128 * 1024);
  std::error_code ignored;
  const auto size = std::filesystem::file_size(path, ignored);
  file_size_ = ignored ? 0 : static_cast<uint64_t>(size);
}

GzReader::~GzReader() {
  if (file_ != nullptr) gzclose(file_);
}

size_t GzReader::read(void* out, size_t size) {
  // gzread takes an unsigned int and returns an int, so very large payloads go in chunks.
  constexpr size_t kChunk = size_t{1} << 30;
  auto* dst = static_cast<char*>(out);
  size_t done = 0;
  while (done < size) {
    const auto want = static_cast<unsigned>(std::min(kChunk, size - done));
    const int got = gzread(file_, dst + done, want);
    if (got < 0) {
      int code = 0;
      const char* message = gzerror(file_, &code);
      fail("'{}': corrupt data near byte offset {}: {}", path_, offset_ + done, message);
    }
    done += static_cast<size_t>(got);
    if (static_cast<unsigned>(got) < want) break;
  }
  offset_ += done;
  return done;
}

void GzReader::read_exact(void* out, size_t size, const std::string& what) {
  const uint64_t start = offset_;
  const size_t got = read(out, size);
  if (got < size) {
    fail("'{}': truncated {}: expected {} bytes from byte offset {}, the data ends at byte offset {}", path_,
         what, size, start, start + got);
  }
}

void GzReader::require_available(uint64_t size, const std::string& what) {
  // Deflate expands at most ~1032:1, which bounds what a compressed file can hold; a raw
  // file holds exactly what is left on disk. gzdirect is reliable once the header was read.
  constexpr uint64_t kMaxDeflateRatio = 1032;
  if (file_size_ == 0) return;  // not a regular file (a pipe): the reads themselves will tell
  const bool raw = gzdirect(file_) != 0;
  const uint64_t available =
      raw ? (file_size_ > offset_ ? file_size_ - offset_ : 0) : file_size_ * kMaxDeflateRatio;
  if (size > available) {
    fail("'{}': truncated {}: expected {} bytes from byte offset {}, the file holds only {} more", path_,
         what, size, offset_, available);
  }
}

void GzReader::expect_end(const std::string& what) {
  char extra = 0;
  const uint64_t end = offset_;
  if (read(&extra, 1) != 0) {
    fail("'{}': unexpected data after byte offset {}: {} should end there", path_, end, what);
  }
}

std::string GzReader::read_rest() {
  // Straight into the result, in chunks that start at what is left on disk (all of a raw file
  // in one read, so a small file costs no 1 MiB buffer) and double while gzip data inflates.
  constexpr size_t kMinChunk = size_t{4} << 10;
  constexpr size_t kMaxChunk = size_t{64} << 20;
  const uint64_t left = file_size_ > offset_ ? file_size_ - offset_ + 1 : 0;
  size_t chunk = static_cast<size_t>(std::clamp<uint64_t>(left, kMinChunk, kMaxChunk));
  std::string text;
  while (true) {
    const size_t start = text.size();
    text.resize(start + chunk);
    const size_t got = read(text.data() + start, chunk);
    text.resize(start + got);
    if (got < chunk) break;
    chunk = std::min(chunk * 2, kMaxChunk);
  }
  return text;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

int64_t checked_numel(const std::vector<int64_t>& dims, const std::string& path) {
  // The product of the non-zero dimensions must fit too: a tensor with a zero dimension holds
  // no element, but its strides are still the products of the others (torch rejects them).
  int64_t nonzero = 1;
  bool empty = false;
  for (int64_t d : dims) {
    require(d >= 0, "'{}': negative dimension {} in the header", path, d);
    if (d == 0) {
      empty = true;
      continue;
    }
    if (nonzero > INT64_MAX / d) fail("'{}': the header's dimensions overflow 64 bits", path);
    nonzero *= d;
  }
  return empty ? 0 : nonzero;
}

void require_finite(const torch::Tensor& x, const std::string& path) {
  if (!x.is_floating_point() || x.numel() == 0) return;
  auto bad = torch::logical_not(torch::isfinite(x.reshape({x.size(0), -1})));
  if (!bad.any().item<bool>()) return;
  auto first = bad.nonzero()[0];
  fail("'{}': sample {} has a NaN or infinite value at feature {} (flattened); features must be finite", path,
       first[0].item<int64_t>(), first[1].item<int64_t>());
}

std::string first_existing(std::initializer_list<std::string> candidates) {
  std::error_code ignored;
  for (const auto& path : candidates) {
    if (std::filesystem::is_regular_file(path, ignored)) return path;
  }
  return "";
}

}  // namespace winnow::detail
