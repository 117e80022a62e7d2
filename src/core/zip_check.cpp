// Zip layout (PKWARE APPNOTE 6.3): local file headers with the data, then the central directory
// (one entry per record: method, CRC-32, sizes, local header offset), then the end-of-central-
// directory record (and, for large archives, the zip64 end record and its locator before it).
// Only stored (0) and deflated (8) records occur in LibTorch's archives; others are not checked.
#include "core/zip_check.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <vector>

#include "winnow/core/error.h"

namespace winnow::detail {
namespace {

constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr uint32_t kCentralHeader = 0x02014b50;
constexpr uint32_t kEndRecord = 0x06054b50;
constexpr uint32_t kZip64EndRecord = 0x06064b50;
constexpr uint32_t kZip64Locator = 0x07064b50;
constexpr size_t kEndRecordSize = 22;
constexpr size_t kMaxComment = 0xFFFF;

uint64_t le(const unsigned char* p, size_t bytes) {
  uint64_t value = 0;
  for (size_t i = bytes; i-- > 0;) value = (value << 8) | p[i];
  return value;
}

class ZipFile {
 public:
  ZipFile(const std::string& path, const std::string& what) : path_(path), what_(what), in_(path, std::ios::binary) {
    require(in_.good(), "cannot open the {} '{}'", what_, path_);
    in_.seekg(0, std::ios::end);
    const std::streamoff size = in_.tellg();
    require(in_.good() && size >= 0, "cannot read the {} '{}'", what_, path_);
    size_ = static_cast<uint64_t>(size);
  }

  uint64_t size() const { return size_; }

  // `count` bytes at `offset`, or a damaged-archive error naming `where`.
  std::vector<unsigned char> read(uint64_t offset, uint64_t count, const char* where) {
    require(offset <= size_ && count <= size_ - offset,
            "'{}': the {} is damaged: its {} (byte offset {}, {} bytes) lies beyond the end of the file ({} bytes)",
            path_, what_, where, offset, count, size_);
    std::vector<unsigned char> bytes(static_cast<size_t>(count));
    in_.seekg(static_cast<std::streamoff>(offset));
    in_.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(count));
    require(in_.good(), "'{}': cannot read the {} at byte offset {}", path_, what_, offset);
    return bytes;
  }

  template <typename... Args>
  [[noreturn]] void damaged(fmt::format_string<Args...> format, Args&&... args) const {
    fail("'{}': the {} is damaged (written incompletely or changed since): {}", path_, what_,
         fmt::format(format, std::forward<Args>(args)...));
  }

  // CRC-32 and size of the `stored` bytes at `offset` as the record's data: copied as they are
  // (method 0) or inflated (method 8).
  std::pair<uint32_t, uint64_t> data_crc(uint64_t offset, uint64_t stored, int method, const std::string& name) {
    require(offset <= size_ && stored <= size_ - offset,
            "'{}': the {} is damaged: record '{}' ({} bytes from byte offset {}) runs past the end of the file", path_,
            what_, name, stored, offset);
    in_.seekg(static_cast<std::streamoff>(offset));
    std::array<unsigned char, 1 << 16> chunk{};
    std::array<unsigned char, 1 << 16> inflated{};
    uLong crc = crc32(0L, Z_NULL, 0);
    uint64_t produced = 0;
    z_stream z{};
    if (method == 8 && inflateInit2(&z, -MAX_WBITS) != Z_OK) fail("'{}': cannot start zlib", path_);
    int status = Z_OK;
    uint64_t left = stored;
    while (left > 0) {
      const auto n = static_cast<size_t>(std::min<uint64_t>(left, chunk.size()));
      in_.read(reinterpret_cast<char*>(chunk.data()), static_cast<std::streamsize>(n));
      if (!in_.good()) {
        if (method == 8) inflateEnd(&z);
        fail("'{}': cannot read the {} at byte offset {}", path_, what_, offset + (stored - left));
      }
      left -= n;
      if (method == 0) {
        crc = crc32(crc, chunk.data(), static_cast<uInt>(n));
        produced += n;
        continue;
      }
      z.next_in = chunk.data();
      z.avail_in = static_cast<uInt>(n);
      while (z.avail_in > 0 && status != Z_STREAM_END) {
        z.next_out = inflated.data();
        z.avail_out = static_cast<uInt>(inflated.size());
        status = inflate(&z, Z_NO_FLUSH);
        if (status != Z_OK && status != Z_STREAM_END) {
          inflateEnd(&z);
          damaged("record '{}' does not inflate ({})", name, z.msg ? z.msg : "corrupt deflate data");
        }
        const size_t out = inflated.size() - z.avail_out;
        crc = crc32(crc, inflated.data(), static_cast<uInt>(out));
        produced += out;
      }
    }
    if (method == 8) {
      inflateEnd(&z);
      if (status != Z_STREAM_END) damaged("record '{}' ends before its deflate stream does", name);
    }
    return {static_cast<uint32_t>(crc), produced};
  }

 private:
  std::string path_;
  std::string what_;
  std::ifstream in_;
  uint64_t size_ = 0;
};

}  // namespace

void check_zip_archive(const std::string& path, const std::string& what) {
  ZipFile zip(path, what);
  const uint64_t size = zip.size();
  if (size < kEndRecordSize) zip.damaged("{} bytes is too short for a zip archive", size);

  // The end record: the last signature in the final 64 KiB + 22 bytes (it may end in a comment).
  const uint64_t tail_size = std::min<uint64_t>(size, kEndRecordSize + kMaxComment);
  const auto tail = zip.read(size - tail_size, tail_size, "end");
  size_t at = tail.size() - kEndRecordSize + 1;
  bool found = false;
  while (at-- > 0) {
    if (le(&tail[at], 4) == kEndRecord) {
      found = true;
      break;
    }
  }
  if (!found) zip.damaged("no end-of-archive record (not a zip file, or cut short)");
  const unsigned char* end = &tail[at];
  const uint64_t end_offset = size - tail_size + at;
  uint64_t entries = le(end + 10, 2);
  uint64_t directory_size = le(end + 12, 4);
  uint64_t directory_offset = le(end + 16, 4);
  if (entries == 0xFFFF || directory_size == 0xFFFFFFFF || directory_offset == 0xFFFFFFFF) {
    // Zip64: the locator just before the end record gives the zip64 end record's offset.
    if (end_offset < 20) zip.damaged("a zip64 archive without its zip64 locator");
    const auto locator = zip.read(end_offset - 20, 20, "zip64 locator");
    if (le(locator.data(), 4) != kZip64Locator) zip.damaged("a zip64 archive without its zip64 locator");
    const auto record = zip.read(le(locator.data() + 8, 8), 56, "zip64 end record");
    if (le(record.data(), 4) != kZip64EndRecord) zip.damaged("the zip64 end record is not where its locator says");
    entries = le(record.data() + 32, 8);
    directory_size = le(record.data() + 40, 8);
    directory_offset = le(record.data() + 48, 8);
  }
  const auto directory = zip.read(directory_offset, directory_size, "central directory");

  size_t pos = 0;
  for (uint64_t i = 0; i < entries; ++i) {
    if (pos + 46 > directory.size() || le(&directory[pos], 4) != kCentralHeader) {
      zip.damaged("central directory entry {} of {} is missing or malformed", i + 1, entries);
    }
    const unsigned char* entry = &directory[pos];
    const auto method = static_cast<int>(le(entry + 10, 2));
    const auto crc = static_cast<uint32_t>(le(entry + 16, 4));
    uint64_t stored = le(entry + 20, 4);
    uint64_t length = le(entry + 24, 4);
    const size_t name_length = le(entry + 28, 2);
    const size_t extra_length = le(entry + 30, 2);
    const size_t comment_length = le(entry + 32, 2);
    uint64_t local = le(entry + 42, 4);
    const size_t entry_size = 46 + name_length + extra_length + comment_length;
    if (pos + entry_size > directory.size()) zip.damaged("central directory entry {} runs past the directory", i + 1);
    const std::string name(reinterpret_cast<const char*>(entry + 46), name_length);
    // Zip64 extra field (id 1): the 64-bit values of the fields set to 0xFFFFFFFF, in order.
    const unsigned char* extra = entry + 46 + name_length;
    for (size_t e = 0; e + 4 <= extra_length;) {
      const uint64_t id = le(extra + e, 2);
      const size_t field = le(extra + e + 2, 2);
      if (e + 4 + field > extra_length) break;
      if (id == 1) {
        size_t v = e + 4;
        auto take = [&](uint64_t& value) {
          if (value != 0xFFFFFFFF) return;
          if (v + 8 > e + 4 + field) zip.damaged("record '{}' has a short zip64 field", name);
          value = le(extra + v, 8);
          v += 8;
        };
        take(length);
        take(stored);
        take(local);
      }
      e += 4 + field;
    }
    pos += entry_size;
    if (method != 0 && method != 8) continue;

    const auto header = zip.read(local, 30, "local file header");
    if (le(header.data(), 4) != kLocalHeader) {
      zip.damaged("record '{}' has no local header at byte offset {}", name, local);
    }
    const uint64_t data = local + 30 + le(header.data() + 26, 2) + le(header.data() + 28, 2);
    const auto [actual_crc, actual_length] = zip.data_crc(data, stored, method, name);
    if (actual_length != length) {
      zip.damaged("record '{}' holds {} bytes, its directory entry says {}", name, actual_length, length);
    }
    if (actual_crc != crc) {
      zip.damaged("record '{}' fails its CRC-32 check (0x{:08x}, expected 0x{:08x})", name, actual_crc, crc);
    }
  }
}

}  // namespace winnow::detail
