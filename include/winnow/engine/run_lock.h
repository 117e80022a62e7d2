#pragma once
// One writer per run folder. `winnow train` holds an exclusive flock on <run>/.lock while it
// runs, so a second train on the same folder (the same --out, or --resume while the first
// still runs) refuses with the first one's pid instead of interleaving checkpoints. The
// kernel drops the lock when its process ends, however it ends (kill -9 too), so a lock left
// behind never blocks the next run.
#include <string>

namespace winnow {

class RunLock {
 public:
  // Creates `run_dir` if needed and takes its lock; throws winnow::Error when another process
  // holds it or the folder cannot be created or written.
  explicit RunLock(const std::string& run_dir);
  // Releases the lock. A folder this lock created and nothing else wrote to (the run failed
  // before writing config.toml) is removed again.
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  std::string dir_;
  int fd_ = -1;
  bool created_ = false;
};

}  // namespace winnow
