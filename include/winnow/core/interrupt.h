#pragma once
// Stopping a long run cleanly. The first SIGINT or SIGTERM asks the work to stop at its next
// safe point (a batch boundary: the Batcher checks), which throws winnow::Interrupted; the
// trainer then says which checkpoint holds the last finished epoch and the tool exits with
// 128 + the signal number. A second signal ends the process at once (the default action).
#include <string>

#include "winnow/core/error.h"

namespace winnow {

class Interrupted : public Error {
 public:
  Interrupted(int signal, const std::string& what) : Error(what), signal_(signal) {}
  int signal() const { return signal_; }

 private:
  int signal_;
};

// Installs the SIGINT / SIGTERM handlers (once per process; the tool's main calls it).
void install_interrupt_handlers();
// The signal received (0: none).
int interrupt_signal();
// Throws Interrupted when a signal has arrived.
void throw_if_interrupted();
// "SIGINT", "SIGTERM", or "signal N".
std::string signal_name(int signal);

}  // namespace winnow
