#include "winnow/engine/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "winnow/core/error.h"

namespace winnow {
namespace fs = std::filesystem;

RunLock::RunLock(const std::string& run_dir) : dir_(run_dir) {
  std::error_code ec;
  created_ = !fs::exists(run_dir, ec);
  fs::create_directories(run_dir, ec);
  require(!ec, "cannot create the run folder {}: {}", run_dir, ec.message());
  const std::string path = (fs::path(run_dir) / ".lock").string();
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  require(fd_ >= 0, "cannot write in the run folder {}: {} ({})", run_dir, std::strerror(errno), path);
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    ::close(fd_);
    fd_ = -1;
    std::string holder;
    std::ifstream(path) >> holder;
    require(error != EWOULDBLOCK, "{} is in use by another winnow process{}: wait for it to end, or choose "
            "another --out", run_dir, holder.empty() ? std::string() : " (pid " + holder + ")");
    fail("cannot lock the run folder {}: {} ({})", run_dir, std::strerror(error), path);
  }
  // The holder's pid, for the message a second process prints.
  const std::string pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) != 0 || ::pwrite(fd_, pid.data(), pid.size(), 0) != static_cast<ssize_t>(pid.size())) {
    // Not fatal: the lock itself holds; only the message loses the pid.
  }
}

RunLock::~RunLock() {
  if (fd_ < 0) return;
  std::error_code ec;
  const fs::path lock = fs::path(dir_) / ".lock";
  bool only_the_lock = created_;
  if (only_the_lock) {
    for (const auto& entry : fs::directory_iterator(dir_, ec)) {
      if (entry.path() != lock) only_the_lock = false;
    }
  }
  if (only_the_lock && !ec) {
    fs::remove(lock, ec);
    fs::remove(dir_, ec);
  }
  ::flock(fd_, LOCK_UN);
  ::close(fd_);
}

}  // namespace winnow
