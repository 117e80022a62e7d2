// Reliability of a run folder (issue 20): byte-identical checkpoints for identical runs and for
// runs killed with -9 at random points and resumed; SIGINT / SIGTERM stop with the last
// checkpoint named and resume exactly; a second signal ends the process at once; one writer
// per run folder; a full disk or an unwritable folder is a clear error that keeps the last
// good checkpoint.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <regex>
#include <sstream>
#include <thread>

#include "test_helpers.h"

using winnow_test::run_cli;
using winnow_test::TempDir;
namespace fs = std::filesystem;

namespace {

// A small data set written once per process: four Gaussian blobs in 16 dimensions, 3000 rows.
std::string blobs_csv() {
  static const std::string path = [] {
    const std::string file = (fs::temp_directory_path() / ("winnow-blobs-" + std::to_string(::getpid()) + ".csv")).string();
    std::ofstream out(file);
    std::mt19937 random(7);
    std::normal_distribution<double> noise(0.0, 1.0);
    for (int f = 0; f < 16; ++f) out << "f" << f << ",";
    out << "label\n";
    for (int i = 0; i < 3000; ++i) {
      const int label = i % 4;
      for (int f = 0; f < 16; ++f) out << (f % 4 == label ? 1.5 : 0.0) + noise(random) << ",";
      out << label << "\n";
    }
    return file;
  }();
  return path;
}

// A run of a few seconds in all, long enough to be killed mid-epoch.
std::string small_run() {
  return "train --set data.name=custom --set data.format=csv --set data.train=" + blobs_csv() +
         " --set noise.type=symmetric --set noise.rate=0.4 --set model.hidden=[64] --set train.epochs=6 "
         "--set train.batch_size=16 --set train.threads=1 --quiet ";
}
const std::string kRun = small_run();

std::string bytes_of(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// The files that must not differ: the checkpoint (state archive and trainer.json) and every
// output but the ones holding measured times (timing.json, metrics.jsonl, summary.json).
void expect_same_outputs(const fs::path& a, const fs::path& b, const std::string& what) {
  for (const char* name : {"checkpoint/trainer.json", "checkpoint/state-000006.pt", "samples.csv", "model.pt",
                           "noise.json"}) {
    ASSERT_TRUE(fs::exists(a / name)) << a / name;
    ASSERT_TRUE(fs::exists(b / name)) << b / name;
    EXPECT_TRUE(bytes_of(a / name) == bytes_of(b / name)) << what << ": " << name << " differs";
  }
}

// Starts the tool in the background (stdout and stderr to `log`); returns its pid.
pid_t spawn(const std::string& args, const std::string& log) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::setpgid(0, 0);
    const std::string command = "exec " + std::string(WINNOW_CLI_PATH) + " " + args + " > " + log + " 2>&1";
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

bool wait_for_file(const fs::path& path, std::chrono::seconds limit) {
  const auto end = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < end) {
    if (fs::exists(path)) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace

TEST(Reliability, IdenticalRunsWriteIdenticalCheckpoints) {
  TempDir dir("bytes");
  ASSERT_EQ(run_cli(kRun + "--out " + (dir / "a")).status, 0);
  ASSERT_EQ(run_cli(kRun + "--out " + (dir / "b")).status, 0);
  expect_same_outputs(dir / "a", dir / "b", "two identical runs");
  // Co-teaching's two networks and two optimizers, and SGD's momentum buffers, as well.
  const std::string co = kRun + "--set method.name=coteaching --set method.forget_rate=0.4 --set optim.name=sgd ";
  ASSERT_EQ(run_cli(co + "--out " + (dir / "c")).status, 0);
  ASSERT_EQ(run_cli(co + "--out " + (dir / "d")).status, 0);
  expect_same_outputs(dir / "c", dir / "d", "two identical co-teaching runs");
}

TEST(Reliability, RunsKilledAtTwentyRandomPointsResumeToTheSameBytes) {
  TempDir dir("kill");
  ASSERT_EQ(run_cli(kRun + "--out " + (dir / "unbroken")).status, 0);
  // A point is (epochs checkpointed, a fraction of the next epoch): the kill waits for that
  // checkpoint, then for the fraction of an epoch's time, so it lands inside an epoch (or
  // inside the final outputs, or before the first checkpoint for epochs = 0).
  std::smatch match;
  const std::string timing = bytes_of(fs::path(dir / "unbroken") / "checkpoint/timing.json");
  ASSERT_TRUE(std::regex_search(timing, match, std::regex("\"train_seconds\": ([0-9.e-]+)")));
  const double epoch_seconds = std::stod(match[1]) / 6;
  std::mt19937 random(20);
  int killed_mid_run = 0, resumed_from_checkpoint = 0;
  for (int k = 0; k < 20; ++k) {
    const int epochs = static_cast<int>(random() % 7);  // 0..6
    const double fraction = std::uniform_real_distribution<double>(0.0, 1.0)(random);
    const std::string out = dir / ("run" + std::to_string(k));
    const pid_t pid = spawn(kRun + "--out " + out, dir / "log.txt");
    const fs::path trainer = fs::path(out) / "checkpoint/trainer.json";
    const std::string done = "\"epochs_done\": " + std::to_string(epochs) + ",";
    const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (epochs > 0 && std::chrono::steady_clock::now() < give_up &&
           bytes_of(trainer).find(done) == std::string::npos) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    std::this_thread::sleep_for(std::chrono::duration<double>(fraction * (epochs == 0 ? 1.0 : epoch_seconds)));
    const bool running = ::kill(pid, SIGKILL) == 0;
    const int status = wait_for(pid);
    killed_mid_run += running && WIFSIGNALED(status);
    // Resumed from its last checkpoint; a run killed before its first one starts afresh.
    const bool resumable = fs::exists(trainer);
    resumed_from_checkpoint += resumable && WIFSIGNALED(status);
    const auto resumed = run_cli(resumable ? "train --quiet --resume " + out : kRun + "--out " + out);
    ASSERT_EQ(resumed.status, 0) << "kill " << k << ": " << resumed.output;
    expect_same_outputs(dir / "unbroken", out, "kill " + std::to_string(k));
    fs::remove_all(out);
  }
  std::printf("%d of 20 kills landed mid-run, %d of them after a checkpoint\n", killed_mid_run, resumed_from_checkpoint);
  EXPECT_GE(killed_mid_run, 15);
  EXPECT_GE(resumed_from_checkpoint, 10);
}

TEST(Reliability, SigintStopsWithTheLastCheckpointAndResumesExactly) {
  TempDir dir("sigint");
  ASSERT_EQ(run_cli(kRun + "--out " + (dir / "unbroken")).status, 0);
  for (int signal : {SIGINT, SIGTERM}) {
    const std::string out = dir / ("stopped" + std::to_string(signal));
    const pid_t pid = spawn(kRun + "--out " + out, dir / "log.txt");
    ASSERT_TRUE(wait_for_file(fs::path(out) / "checkpoint/trainer.json", std::chrono::seconds(60)));
    ::kill(pid, signal);
    const int status = wait_for(pid);
    ASSERT_TRUE(WIFEXITED(status)) << "the first signal stops at a batch boundary and exits";
    EXPECT_EQ(WEXITSTATUS(status), 128 + signal);
    const std::string log = bytes_of(dir / "log.txt");
    EXPECT_NE(log.find(std::string("interrupted by ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") + " during epoch"),
              std::string::npos) << log;
    EXPECT_NE(log.find("continue with `winnow train --resume " + out + "`"), std::string::npos) << log;
    const auto resumed = run_cli("train --quiet --resume " + out);
    ASSERT_EQ(resumed.status, 0) << resumed.output;
    expect_same_outputs(dir / "unbroken", out, "stopped by a signal and resumed");
  }
}

TEST(Reliability, ASecondSignalEndsTheProcessAtOnce) {
  TempDir dir("twice");
  const std::string out = dir / "run";
  const pid_t pid = spawn(kRun + "--set train.epochs=1000 --out " + out, dir / "log.txt");
  ASSERT_TRUE(wait_for_file(fs::path(out) / "checkpoint/trainer.json", std::chrono::seconds(60)));
  // Back to back (two kinds, so the kernel cannot merge them): whichever is handled first only
  // asks for a stop; the other ends the process with its default action before any batch
  // boundary is reached, so the process dies of a signal instead of exiting with 128 + 2.
  ::kill(pid, SIGINT);
  ::kill(pid, SIGTERM);
  const int status = wait_for(pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "exited with " << WEXITSTATUS(status) << ": " << bytes_of(dir / "log.txt");
  EXPECT_TRUE(WTERMSIG(status) == SIGINT || WTERMSIG(status) == SIGTERM) << WTERMSIG(status);
}

TEST(Reliability, OneTrainProcessPerRunFolder) {
  TempDir dir("lock");
  const std::string out = dir / "run";
  const pid_t first = spawn(kRun + "--set train.epochs=1000 --out " + out, dir / "log.txt");
  ASSERT_TRUE(wait_for_file(fs::path(out) / "checkpoint/trainer.json", std::chrono::seconds(60)));
  for (const std::string& second : {kRun + "--out " + out, std::string("train --quiet --resume ") + out}) {
    const auto refused = run_cli(second);
    EXPECT_EQ(refused.status, 1) << second;
    EXPECT_NE(refused.output.find(out + " is in use by another winnow process (pid " + std::to_string(first) + ")"),
              std::string::npos) << refused.output;
  }
  ::kill(first, SIGKILL);
  wait_for(first);
  // The kernel dropped the lock with its process: the next one gets past the lock (and is
  // then told that the folder holds a run to resume).
  const auto next = run_cli(kRun + "--out " + out);
  EXPECT_EQ(next.status, 1);
  EXPECT_NE(next.output.find("already holds a run"), std::string::npos) << next.output;
}

TEST(Reliability, AFullDiskIsAClearErrorAndKeepsTheLastCheckpoint) {
  TempDir dir("full");
  // A small network: its state archive (a few KB) fits under the limit, samples.csv (~80 KB,
  // written at the end) does not.
  const std::string small = kRun + "--set model.hidden=[4] ";
  ASSERT_EQ(run_cli(small + "--out " + (dir / "unbroken")).status, 0);
  const std::string out = dir / "limited";
  // A shell sets the limit (bash's ulimit -f counts KiB): writes past it fail with EFBIG.
  const std::string command = "bash -c 'ulimit -f 64; " + std::string(WINNOW_CLI_PATH) + " " + small + "--out " + out +
                              "' > " + (dir / "log.txt") + " 2>&1";
  const int status = std::system(command.c_str());
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  const std::string log = bytes_of(dir / "log.txt");
  EXPECT_NE(log.find("cannot write " + out + "/samples.csv: File too large"), std::string::npos) << log;
  for (const auto& entry : fs::recursive_directory_iterator(out)) {
    EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << "left behind: " << entry.path();
  }
  // The last checkpoint is whole: resuming without the limit ends as the unbroken run.
  const auto resumed = run_cli("train --quiet --resume " + out);
  ASSERT_EQ(resumed.status, 0) << resumed.output;
  for (const char* name : {"checkpoint/trainer.json", "checkpoint/state-000006.pt", "samples.csv"}) {
    EXPECT_TRUE(bytes_of(fs::path(dir / "unbroken") / name) == bytes_of(fs::path(out) / name)) << name;
  }
  // A checkpoint that cannot be written at all stops the run at its first epoch.
  const std::string tiny = dir / "tiny";
  const std::string tiny_command = "bash -c 'ulimit -f 8; " + std::string(WINNOW_CLI_PATH) + " " + kRun + "--out " +
                                   tiny + "' > " + (dir / "log2.txt") + " 2>&1";
  const int tiny_status = std::system(tiny_command.c_str());
  EXPECT_EQ(WEXITSTATUS(tiny_status), 1);
  const std::string log2 = bytes_of(dir / "log2.txt");
  EXPECT_NE(log2.find("cannot write " + tiny + "/checkpoint/state-000001.pt"), std::string::npos) << log2;
}

TEST(Reliability, AnUnwritableRunFolderIsAClearError) {
  TempDir dir("readonly");
  const auto proc = run_cli(kRun + "--out /proc/winnow-cannot-write/run");
  EXPECT_EQ(proc.status, 1);
  EXPECT_NE(proc.output.find("cannot create the run folder /proc/winnow-cannot-write/run"), std::string::npos)
      << proc.output;
  if (::geteuid() != 0) {  // permissions bind everyone but root
    fs::create_directories(dir / "locked");
    fs::permissions(dir / "locked", fs::perms::owner_read | fs::perms::owner_exec);
    const auto locked = run_cli(kRun + "--out " + (dir / "locked/run"));
    EXPECT_EQ(locked.status, 1);
    EXPECT_NE(locked.output.find("cannot create the run folder " + (dir / "locked/run")), std::string::npos)
        << locked.output;
    fs::permissions(dir / "locked", fs::perms::owner_all);
  }
}
