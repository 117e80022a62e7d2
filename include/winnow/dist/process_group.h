#pragma once
// The process group of a multi-process run, on PyTorch's own distributed engine (c10d): a
// TCPStore for the rendezvous and ProcessGroupGloo for the collectives. Like
// torch.distributed, there is one process-wide default group; every function here works
// without one (a single process: world size 1, rank 0) and then communicates nothing, so
// the library's code paths are the same in both cases.
//
// A job is described the way torchrun describes it: RANK, WORLD_SIZE, LOCAL_RANK,
// MASTER_ADDR, MASTER_PORT. `winnow train --nproc N` (dist/launch.h) sets them for its N
// local workers; any launcher that sets them works, across machines too.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace winnow::dist {

struct JobSpec {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  int local_world_size = 1;  // processes of the job on this machine (LOCAL_WORLD_SIZE)
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  // Set (WINNOW_STORE_HOSTED=1) when a `--nproc` launcher runs the TCPStore itself; otherwise
  // rank 0 hosts it, as torch.distributed's env:// rendezvous does.
  bool store_hosted = false;
};

// The job described by the environment, or nullopt when WORLD_SIZE is unset. A variable that
// is set but malformed or out of range is an error naming it.
std::optional<JobSpec> job_from_environment();

// Whether this build has c10d's Gloo backend (it needs libgloo-dev at build time).
bool available();

// Joins the job: connects to the store at master_addr:master_port (rank 0 serves it unless the
// launcher does) and builds the Gloo process group. `timeout` bounds the rendezvous and every
// collective: a rank that stops answering makes the others fail with a clear error instead of
// hanging. A world of one process needs no store. Errors name the address and what failed.
void init(const JobSpec& job, std::chrono::milliseconds timeout);
// Leaves the job (the default group is destroyed); safe to call when none was joined.
void shutdown();

bool initialized();
int rank();        // 0 without a group
int world_size();  // 1 without a group
int local_rank();
int local_world_size();  // 1 without a group
// Rank 0: the process that writes the run folder and prints.
inline bool is_main() { return rank() == 0; }

// ---- collectives: no-ops (or identities) in a world of one process --------------------------

// Sums each tensor across ranks, in place (CPU or CUDA tensors; contiguous).
void all_reduce_sum(std::vector<torch::Tensor>& tensors);
// Every rank's `local` (same shape and dtype everywhere), stacked in rank order: [W, ...].
torch::Tensor all_gather(const torch::Tensor& local);
// Rank 0's `value` on every rank (through the store: for names and small records).
std::string broadcast_string(const std::string& value, const std::string& key);
// Fails on every rank, naming `what` and the ranks that differ, unless every rank passed the
// same `fingerprint` (configs, data, model sizes: a job whose ranks disagree cannot train).
void require_same(const std::string& what, const std::string& fingerprint);
void barrier();

// Bytes each rank sent into all-reduces so far (the benchmark's communication volume) and the
// wall time spent waiting in collectives.
struct CommunicationStats {
  int64_t all_reduce_calls = 0;
  int64_t all_reduce_bytes = 0;
  double seconds = 0;
};
CommunicationStats communication_stats();

}  // namespace winnow::dist
