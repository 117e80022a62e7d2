// The default process group: c10d's TCPStore and ProcessGroupGloo behind winnow's own small
// interface, so no other file sees c10d (its API moves between LibTorch 1.13 and 2.x; the
// names used here exist in both).
#include "winnow/dist/process_group.h"

#include <cstdlib>
#include <memory>

#include "c10d_message.h"
#include "environment.h"
#include "winnow/core/error.h"

#include <fmt/ranges.h>

#if WINNOW_WITH_GLOO
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

namespace winnow::dist {
namespace {

using detail::env_int;

using Clock = std::chrono::steady_clock;

struct Group {
  JobSpec job;
  std::chrono::milliseconds timeout{0};
  int64_t agreements = 0;  // numbers the store keys of require_same / broadcast_string
#if WINNOW_WITH_GLOO
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
#endif
};

std::unique_ptr<Group>& group() {
  static std::unique_ptr<Group> instance;
  return instance;
}

CommunicationStats& stats() {
  static CommunicationStats instance;
  return instance;
}

// A collective that fails (a peer died: "Connection closed by peer"; or stopped answering:
// a timeout) becomes one winnow::Error that says which rank saw it and what to look for.
template <typename Fn>
void collective(const char* what, Fn&& fn) {
  const auto start = Clock::now();
  try {
    fn();
  } catch (const winnow::Error&) {
    throw;
  } catch (const std::exception& e) {
    const std::string detail = detail::c10d_message(e);
    fail("rank {} of {}: {} failed: another rank stopped, was killed or did not answer within {} s; "
         "its own error says why ({})", rank(), world_size(), what, group()->timeout.count() / 1000, detail);
  }
  stats().seconds += std::chrono::duration<double>(Clock::now() - start).count();
}

std::string to_string(const std::vector<uint8_t>& bytes) { return std::string(bytes.begin(), bytes.end()); }
std::vector<uint8_t> to_bytes(const std::string& text) { return std::vector<uint8_t>(text.begin(), text.end()); }

}  // namespace

std::optional<JobSpec> job_from_environment() {
  const char* world = std::getenv("WORLD_SIZE");
  if (!world || !*world) return std::nullopt;
  JobSpec job;
  job.world_size = env_int("WORLD_SIZE", 1, 4096, std::nullopt);
  job.rank = env_int("RANK", 0, job.world_size - 1, std::nullopt);
  job.local_rank = env_int("LOCAL_RANK", 0, job.world_size - 1, job.rank);
  job.local_world_size = env_int("LOCAL_WORLD_SIZE", 1, job.world_size, 1);
  require(job.local_rank < job.local_world_size || !std::getenv("LOCAL_WORLD_SIZE"),
          "LOCAL_RANK={} is outside LOCAL_WORLD_SIZE={}", job.local_rank, job.local_world_size);
  if (job.world_size > 1) {
    const char* addr = std::getenv("MASTER_ADDR");
    require(addr && *addr, "MASTER_ADDR is not set: the rank-0 machine's address (WORLD_SIZE={})", job.world_size);
    job.master_addr = addr;
    job.master_port = env_int("MASTER_PORT", 1, 65535, std::nullopt);
  }
  const char* hosted = std::getenv("WINNOW_STORE_HOSTED");
  job.store_hosted = hosted && std::string(hosted) == "1";
  return job;
}

bool available() { return WINNOW_WITH_GLOO != 0; }

void init(const JobSpec& job, std::chrono::milliseconds timeout) {
  require(!group(), "the process group is already initialised (rank {} of {})", rank(), world_size());
  require(job.world_size >= 1 && job.rank >= 0 && job.rank < job.world_size,
          "rank {} is outside a world of {} processes", job.rank, job.world_size);
  require(timeout.count() > 0, "the distributed timeout must be positive, got {} ms", timeout.count());
  auto g = std::make_unique<Group>();
  g->job = job;
  g->timeout = timeout;
  if (job.world_size > 1) {
#if WINNOW_WITH_GLOO
    try {
      c10d::TCPStoreOptions options;
      options.port = static_cast<std::uint16_t>(job.master_port);
      options.isServer = job.rank == 0 && !job.store_hosted;
      options.numWorkers = job.store_hosted ? c10::nullopt : c10::optional<std::size_t>(job.world_size);
      options.waitWorkers = false;
      options.timeout = timeout;
      g->store = c10::make_intrusive<c10d::TCPStore>(job.master_addr, options);
    } catch (const std::exception& e) {
      const std::string detail = detail::c10d_message(e);
      fail("rank {}: cannot {} the rendezvous store at {}:{} ({}). Is the port free (rank 0) and the "
           "address reachable (others)? Set MASTER_PORT to another port, or let `--nproc` pick one",
           job.rank, job.rank == 0 && !job.store_hosted ? "open" : "reach", job.master_addr, job.master_port, detail);
    }
    try {
      auto options = c10d::ProcessGroupGloo::Options::create(timeout);
      // Gloo's transport binds to one interface. GLOO_SOCKET_IFNAME names it, as in PyTorch; a
      // job on one machine (loopback master) stays on loopback; otherwise the host's address.
      const char* interface = std::getenv("GLOO_SOCKET_IFNAME");
      const bool loopback = job.master_addr == "localhost" || job.master_addr.rfind("127.", 0) == 0;
      if (interface && *interface) {
        options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
      } else if (loopback) {
        options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
      } else {
        options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
      }
      auto prefixed = c10::make_intrusive<c10d::PrefixStore>("winnow/gloo", g->store);
      g->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(prefixed, job.rank, job.world_size, options);
    } catch (const std::exception& e) {
      const std::string detail = detail::c10d_message(e);
      fail("rank {} of {}: the other ranks did not all join within {} s through {}:{} ({})", job.rank,
           job.world_size, timeout.count() / 1000, job.master_addr, job.master_port, detail);
    }
#else
    fail("this winnow was built without c10d's Gloo backend (install libgloo-dev and rebuild), so it "
         "cannot run {} processes", job.world_size);
#endif
  }
  group() = std::move(g);
}

void shutdown() { group().reset(); }

bool initialized() { return static_cast<bool>(group()); }
int rank() { return group() ? group()->job.rank : 0; }
int world_size() { return group() ? group()->job.world_size : 1; }
int local_rank() { return group() ? group()->job.local_rank : 0; }
int local_world_size() { return group() ? group()->job.local_world_size : 1; }

void all_reduce_sum(std::vector<torch::Tensor>& tensors) {
  if (world_size() == 1 || tensors.empty()) return;
#if WINNOW_WITH_GLOO
  for (const auto& t : tensors) {
    require(t.is_contiguous(), "all_reduce_sum: tensors must be contiguous");
    stats().all_reduce_bytes += t.numel() * static_cast<int64_t>(t.element_size());
  }
  ++stats().all_reduce_calls;
  // Gloo reduces one tensor list per call; each tensor is its own collective.
  collective("all-reduce", [&] {
    for (auto& t : tensors) {
      std::vector<at::Tensor> one{t};
      group()->gloo->allreduce(one)->wait();
    }
  });
#endif
}

torch::Tensor all_gather(const torch::Tensor& local) {
  if (world_size() == 1) return local.unsqueeze(0);
#if WINNOW_WITH_GLOO
  auto input = local.contiguous();
  std::vector<at::Tensor> inputs{input};
  std::vector<std::vector<at::Tensor>> outputs(1);
  for (int r = 0; r < world_size(); ++r) outputs[0].push_back(torch::empty_like(input));
  collective("all-gather", [&] { group()->gloo->allgather(outputs, inputs)->wait(); });
  return torch::stack(outputs[0]);
#else
  return local.unsqueeze(0);
#endif
}

std::string broadcast_string(const std::string& value, const std::string& key) {
  if (world_size() == 1) return value;
#if WINNOW_WITH_GLOO
  const std::string name = fmt::format("winnow/broadcast/{}/{}", group()->agreements++, key);
  std::string result;
  collective("broadcast of the run's settings", [&] {
    if (rank() == 0) group()->store->set(name, to_bytes(value));
    result = to_string(group()->store->get(name));
  });
  return result;
#else
  return value;
#endif
}

void require_same(const std::string& what, const std::string& fingerprint) {
  if (world_size() == 1) return;
#if WINNOW_WITH_GLOO
  const std::string base = fmt::format("winnow/agree/{}/", group()->agreements++);
  std::vector<std::string> values(world_size());
  collective("the consistency check of the ranks", [&] {
    group()->store->set(base + std::to_string(rank()), to_bytes(fingerprint));
    for (int r = 0; r < world_size(); ++r) values[r] = to_string(group()->store->get(base + std::to_string(r)));
  });
  std::vector<int> differing;
  for (int r = 1; r < world_size(); ++r) {
    if (values[r] != values[0]) differing.push_back(r);
  }
  if (differing.empty()) return;
  fail("the ranks disagree on {}: rank(s) {} differ from rank 0 (rank 0: {}; rank {}: {}). Every rank must run "
       "the same config on the same data", what, fmt::join(differing, ", "), values[0], differing[0],
       values[differing[0]]);
#endif
}

void barrier() {
  if (world_size() == 1) return;
#if WINNOW_WITH_GLOO
  collective("barrier", [&] { group()->gloo->barrier()->wait(); });
#endif
}

CommunicationStats communication_stats() { return stats(); }

}  // namespace winnow::dist
