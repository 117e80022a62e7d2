#include "winnow/report/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "winnow/core/error.h"

namespace winnow {
namespace {

std::string temp_path_for(const std::string& path) {
  return path + ".tmp." + std::to_string(::getpid());
}

void commit(const std::string& temp, const std::string& path) {
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    fail("cannot write {}: renaming {} onto it failed: {}", path, temp, ec.message());
  }
}

}  // namespace

// POSIX I/O rather than a stream, so that a full disk, a file-size limit or a read-only
// folder is reported with the system's reason; the temporary file never outlives a failure.
void atomic_write_text(const std::string& path, const std::string& text) {
  const std::string temp = temp_path_for(path);
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("cannot write {}: {} (creating {})", path, std::strerror(errno), temp);
  size_t written = 0;
  int error = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      error = n < 0 ? errno : EIO;
      break;
    }
    written += static_cast<size_t>(n);
  }
  if (error == 0 && ::fsync(fd) != 0) error = errno;
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error != 0) {
    std::error_code ignored;
    std::filesystem::remove(temp, ignored);
    fail("cannot write {}: {} (after {} of {} bytes)", path, std::strerror(error), written, text.size());
  }
  commit(temp, path);
}

void atomic_write_json(const std::string& path, const nlohmann::json& value) {
  atomic_write_text(path, value.dump(2) + "\n");
}

void atomic_save_archive(const std::string& path, torch::serialize::OutputArchive& archive) {
  // Serialised in memory and written here: LibTorch's file writer finishes the zip in its
  // destructor, where a failed write (a full disk) throws and terminates the process.
  std::string bytes;
  try {
    archive.save_to([&bytes](const void* data, size_t size) {
      bytes.append(static_cast<const char*>(data), size);
      return size;
    });
  } catch (const c10::Error& e) {
    fail("cannot write {}: {}", path, e.what_without_backtrace());
  }
  atomic_write_text(path, bytes);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read {}: no such file or not readable", path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

nlohmann::ordered_json read_json(const std::string& path) {
  try {
    return nlohmann::ordered_json::parse(read_text(path));
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range: a number beyond a double
    fail("{}: not valid JSON: {}", path, e.what());
  }
}

nlohmann::json json_number(double value) {
  if (!std::isfinite(value)) return nullptr;
  return value;
}

}  // namespace winnow
