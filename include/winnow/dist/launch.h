#pragma once
// `winnow train --nproc N`: runs N workers of one job on this machine, as torchrun's
// --nproc-per-node does. The launcher serves the rendezvous store itself (on MASTER_PORT, or a
// free port), starts this program N times with RANK, WORLD_SIZE, LOCAL_RANK,
// LOCAL_WORLD_SIZE, MASTER_ADDR and MASTER_PORT set, and watches them: when one fails or is
// killed, it says which and how, stops the others and fails too.
#include <chrono>
#include <string>
#include <vector>

namespace winnow::dist {

struct LocalLaunch {
  int processes = 1;
  // The program and its arguments for each worker (argv[0] is replaced by this executable).
  std::vector<std::string> arguments;
  // How long the others get to exit after one failed, before they are killed.
  std::chrono::seconds grace{10};
};

// Runs the workers to the end; returns the launcher's exit status (0 when every worker
// succeeded). Errors before any worker starts (no free port, no Gloo) throw winnow::Error.
int launch_local(const LocalLaunch& launch);

}  // namespace winnow::dist
