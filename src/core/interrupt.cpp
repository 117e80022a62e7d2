#include "winnow/core/interrupt.h"

#include <signal.h>

#include <atomic>
#include <cstring>

namespace winnow {
namespace {

std::atomic<int> received{0};

// Async-signal-safe (atomics, sigaction, raise). The first signal is recorded and the default
// actions come back, so that the next one, of either kind, terminates the process. In a
// process with worker threads two signals can arrive in two handlers at once: the one that
// finds a signal already recorded re-raises its own with the default action.
void on_signal(int signal) {
  const int earlier = received.exchange(signal);
  struct sigaction fallback;
  std::memset(&fallback, 0, sizeof fallback);
  fallback.sa_handler = SIG_DFL;
  sigemptyset(&fallback.sa_mask);
  ::sigaction(SIGINT, &fallback, nullptr);
  ::sigaction(SIGTERM, &fallback, nullptr);
  if (earlier != 0) ::raise(signal);  // delivered, with the default action, when this returns
}

}  // namespace

void install_interrupt_handlers() {
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
}

int interrupt_signal() { return received.load(); }

void throw_if_interrupted() {
  const int signal = received.load();
  if (signal != 0) throw Interrupted(signal, "interrupted by " + signal_name(signal));
}

std::string signal_name(int signal) {
  if (signal == SIGINT) return "SIGINT";
  if (signal == SIGTERM) return "SIGTERM";
  return "signal " + std::to_string(signal);
}

}  // namespace winnow
