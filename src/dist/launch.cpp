#include "winnow/dist/launch.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "c10d_message.h"
#include "environment.h"
#include "winnow/core/error.h"
#include "winnow/dist/process_group.h"

#if WINNOW_WITH_GLOO
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

extern char** environ;

namespace winnow::dist {
namespace {

// The launcher forwards SIGINT / SIGTERM to its workers (a Ctrl-C reaches the whole process
// group anyway; a SIGTERM sent to the launcher alone must not orphan them).
volatile sig_atomic_t forwarded_signal = 0;
void remember_signal(int signal) { forwarded_signal = signal; }

std::string describe_status(int status) {
  if (WIFSIGNALED(status)) {
    const int signal = WTERMSIG(status);
    return fmt::format("was killed by signal {} ({})", signal, strsignal(signal));
  }
  return fmt::format("exited with status {}", WEXITSTATUS(status));
}

bool failed(int status) { return !WIFEXITED(status) || WEXITSTATUS(status) != 0; }

}  // namespace

int launch_local(const LocalLaunch& launch) {
  require(launch.processes >= 1 && launch.processes <= 1024, "--nproc {}: allowed 1 to 1024", launch.processes);
  require(!launch.arguments.empty(), "launch_local: no program to run");
  require(available() || launch.processes == 1,
          "--nproc {}: this winnow was built without c10d's Gloo backend (install libgloo-dev and rebuild)",
          launch.processes);
  const std::string address = "127.0.0.1";
  // MASTER_PORT if set; 0 lets the kernel pick a free port.
  int port = detail::env_int("MASTER_PORT", 1, 65535, 0);
#if WINNOW_WITH_GLOO
  // The store outlives every worker: it is the launcher's, so a worker that dies first (rank 0
  // included) cannot take the rendezvous down with it.
  c10::intrusive_ptr<c10d::TCPStore> store;
  try {
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(port);
    options.isServer = true;
    options.waitWorkers = false;
    store = c10::make_intrusive<c10d::TCPStore>(address, options);
  } catch (const std::exception& e) {
    const std::string detail = detail::c10d_message(e);
    fail("--nproc: cannot serve the rendezvous store on {}:{} ({}). {}", address, port, detail,
         port ? "Is MASTER_PORT taken? Unset it to let winnow pick a free port" : "");
  }
  port = store->getPort();
#endif

  // Everything a worker needs is built before fork: between fork and exec only async-signal-safe
  // calls are allowed.
  std::vector<std::vector<std::string>> environments(launch.processes);
  for (int rank = 0; rank < launch.processes; ++rank) {
    auto& env = environments[rank];
    const char* ours[] = {"RANK=", "WORLD_SIZE=", "LOCAL_RANK=", "LOCAL_WORLD_SIZE=", "MASTER_ADDR=", "MASTER_PORT=",
                          "WINNOW_STORE_HOSTED="};
    for (char** e = environ; *e; ++e) {
      bool replaced = false;
      for (const char* name : ours) replaced = replaced || std::strncmp(*e, name, std::strlen(name)) == 0;
      if (!replaced) env.emplace_back(*e);
    }
    env.push_back(fmt::format("RANK={}", rank));
    env.push_back(fmt::format("WORLD_SIZE={}", launch.processes));
    env.push_back(fmt::format("LOCAL_RANK={}", rank));
    env.push_back(fmt::format("LOCAL_WORLD_SIZE={}", launch.processes));
    env.push_back("MASTER_ADDR=" + address);
    env.push_back(fmt::format("MASTER_PORT={}", port));
    env.push_back("WINNOW_STORE_HOSTED=1");
  }
  auto pointers = [](std::vector<std::string>& strings) {
    std::vector<char*> out;
    for (auto& s : strings) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
  };
  std::vector<std::string> arguments = launch.arguments;
  auto argv = pointers(arguments);
  const char* executable = "/proc/self/exe";

  struct sigaction action {};
  action.sa_handler = remember_signal;
  sigemptyset(&action.sa_mask);
  struct sigaction old_int {}, old_term {};
  sigaction(SIGINT, &action, &old_int);
  sigaction(SIGTERM, &action, &old_term);

  std::vector<pid_t> workers(launch.processes, -1);
  for (int rank = 0; rank < launch.processes; ++rank) {
    auto envp = pointers(environments[rank]);
    const pid_t launcher = getpid();
    const pid_t pid = fork();
    if (pid == 0) {
      // A worker must not outlive its launcher (killed with -9, it cannot stop them itself).
      prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (getppid() != launcher) _exit(128 + SIGTERM);
      execve(executable, argv.data(), envp.data());
      _exit(127);
    }
    if (pid < 0) {
      for (pid_t w : workers) {
        if (w > 0) kill(w, SIGKILL);
      }
      fail("--nproc: cannot start worker {}: {}", rank, std::strerror(errno));
    }
    workers[rank] = pid;
  }

  int exit_status = 0;
  int running = launch.processes;
  bool stopping = false;
  auto stop_deadline = std::chrono::steady_clock::time_point::max();
  auto rank_of = [&](pid_t pid) {
    for (int r = 0; r < launch.processes; ++r) {
      if (workers[r] == pid) return r;
    }
    return -1;
  };
  auto signal_all = [&](int signal) {
    for (pid_t w : workers) {
      if (w > 0) kill(w, signal);
    }
  };
  while (running > 0) {
    if (forwarded_signal != 0) {
      signal_all(forwarded_signal);
      if (!stopping) {
        stopping = true;
        stop_deadline = std::chrono::steady_clock::now() + launch.grace;
        exit_status = 128 + forwarded_signal;
      }
      forwarded_signal = 0;
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      const int rank = rank_of(pid);
      if (rank < 0) continue;
      workers[rank] = -1;
      --running;
      if (failed(status) && !stopping) {
        // The first failure is the cause; the others' errors ("another rank stopped") follow from it.
        fmt::print(stderr, "winnow: rank {} of {} (pid {}) {}; stopping the other {} rank(s)\n", rank,
                   launch.processes, pid, describe_status(status), running);
        std::fflush(stderr);
        exit_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        stopping = true;
        stop_deadline = std::chrono::steady_clock::now() + launch.grace;
        signal_all(SIGTERM);
      }
      continue;
    }
    if (stopping && std::chrono::steady_clock::now() > stop_deadline) {
      signal_all(SIGKILL);
      stop_deadline = std::chrono::steady_clock::time_point::max();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  return exit_status;
}

}  // namespace winnow::dist
