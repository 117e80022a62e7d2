#pragma once
// Data parallelism over the default process group (dist/process_group.h), as DDP does it:
// every rank holds the whole model, takes its shard of each global batch, and the ranks
// average their gradients before every optimizer step, so the step is the one a single
// process would take on the whole global batch. In a world of one process every function
// here is an identity.
#include <cstdint>
#include <memory>
#include <vector>

#include <torch/torch.h>

namespace winnow {
class Network;
}

namespace winnow::dist {

// This rank's rows [begin, end) of `rows` global rows: contiguous, balanced shards (sizes
// differ by at most one), in rank order.
struct Shard {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t size() const { return end - begin; }
};
Shard shard_of(int64_t rows, int rank, int world_size);

// Whether a global batch of `rows` can be shared out: every rank needs two samples (batch norm
// cannot train on one), so a smaller trailing batch is dropped, as the single-process batcher
// drops a lone sample.
bool can_shard(int64_t rows);

// This rank's shard of the global batch `global` (split along its first axis). It also records
// the rank's share of the batch, which the next average_gradients weights by: a loss that is a
// mean over the local shard then averages to the mean over the global batch, even when the
// shards differ in size.
torch::Tensor take_shard(const torch::Tensor& global);

// Averages the gradients of `parameters` across ranks, weighted by the shares take_shard
// recorded: sum_r (b_r / B) g_r, the gradient of the global-batch mean. The gradients are
// flattened into buckets of at most `bucket_bytes` (DDP's 25 MiB) so that a model costs a few
// collectives, not one per tensor. Parameters without a gradient are skipped (the same on
// every rank: every rank runs the same code on its shard).
void average_gradients(const std::vector<torch::Tensor>& parameters, int64_t bucket_bytes = 25 << 20);

// How gradients travel (train.gradient_compression; process-wide, set from the run's config):
// kNone sends fp32; kFp16 sends each bucket as fp16 after the 1 / W scaling, as DDP's
// fp16_compress_hook does: half the bytes, at the cost of fp16's 11-bit mantissa on the sum
// (the run is then no longer equal to one process to float tolerance).
enum class GradientCompression { kNone, kFp16 };
void set_gradient_compression(GradientCompression mode);
GradientCompression gradient_compression();

// Averages every floating-point buffer of `networks` (batch norm's running mean and variance)
// across ranks. Batch norm trains on local batch statistics, as DDP's default does; averaging
// the running statistics at the end of each epoch keeps every rank's evaluation model identical.
void average_buffers(const std::vector<std::shared_ptr<Network>>& networks);

// Copies rank 0's parameters and buffers of `networks` to every rank (DDP does this when it
// wraps a model), so the ranks start from one model even if their initialisations differ.
void broadcast_parameters(const std::vector<std::shared_ptr<Network>>& networks);

// `fn` over this rank's shard of the rows of `inputs` (in slices of at most `batch_size`), with
// the results of all ranks joined in row order: every rank gets fn over all rows, and each
// computes 1 / world of them. Every rank must call it with the same inputs.
torch::Tensor map_rows(const torch::Tensor& inputs, int64_t batch_size, torch::Device device,
                       const std::function<torch::Tensor(const torch::Tensor&)>& fn);

// The sum of `value` over all ranks (a count that decides something every rank must agree on).
int64_t sum_across_ranks(int64_t value);

// The mean of each value across ranks (an epoch's log: losses, accuracies, fractions).
std::vector<double> average_values(const std::vector<double>& values);

}  // namespace winnow::dist
