#include "winnow/dist/data_parallel.h"

#include "winnow/core/error.h"
#include "winnow/dist/process_group.h"
#include "winnow/models/network.h"

namespace winnow::dist {
namespace {

// This rank's gradient weight b_r * W / B for the next average (1: equal shards).
double& gradient_weight() {
  static double weight = 1.0;
  return weight;
}

GradientCompression& compression() {
  static GradientCompression mode = GradientCompression::kNone;
  return mode;
}

// Sums `tensors` across ranks in flattened buckets of one dtype and device, and writes the
// results back. `scale` multiplies before the sum (a rank's weight and 1 / W together).
// `fp16_wire`: fp32 buckets travel as fp16 (scaled first, so the sum of W ranks stays in range).
void bucketed_sum(const std::vector<torch::Tensor>& tensors, double scale, int64_t bucket_bytes,
                  bool fp16_wire = false) {
  torch::NoGradGuard no_grad;
  size_t first = 0;
  while (first < tensors.size()) {
    // A bucket: consecutive tensors of one dtype and device, up to bucket_bytes (at least one).
    size_t last = first;
    int64_t bytes = 0;
    while (last < tensors.size() && tensors[last].scalar_type() == tensors[first].scalar_type() &&
           tensors[last].device() == tensors[first].device() &&
           (last == first || bytes + tensors[last].numel() * tensors[last].element_size() <= bucket_bytes)) {
      bytes += tensors[last].numel() * tensors[last].element_size();
      ++last;
    }
    std::vector<torch::Tensor> members(tensors.begin() + first, tensors.begin() + last);
    std::vector<torch::Tensor> flat;
    flat.reserve(members.size());
    for (const auto& t : members) flat.push_back(t.reshape({-1}));
    std::vector<torch::Tensor> bucket{torch::cat(flat)};
    if (scale != 1.0) bucket[0].mul_(scale);
    if (fp16_wire && bucket[0].scalar_type() == torch::kFloat32) {
      std::vector<torch::Tensor> wire{bucket[0].to(torch::kHalf)};
      all_reduce_sum(wire);
      bucket[0].copy_(wire[0]);
    } else {
      all_reduce_sum(bucket);
    }
    int64_t offset = 0;
    for (auto& t : members) {
      // copy_ keeps each tensor's own layout (a channels-last weight's gradient stays so).
      t.copy_(bucket[0].slice(0, offset, offset + t.numel()).view(t.sizes()));
      offset += t.numel();
    }
    first = last;
  }
}

std::vector<torch::Tensor> floating_buffers(const std::vector<std::shared_ptr<Network>>& networks) {
  std::vector<torch::Tensor> out;
  for (const auto& network : networks) {
    for (const auto& buffer : network->buffers()) {
      if (buffer.is_floating_point()) out.push_back(buffer);
    }
  }
  return out;
}

}  // namespace

Shard shard_of(int64_t rows, int rank, int world_size) {
  // Balanced: rank r gets [r * rows / W, (r + 1) * rows / W).
  return Shard{rank * rows / world_size, (rank + 1) * rows / world_size};
}

bool can_shard(int64_t rows) { return rows >= 2 * world_size(); }

torch::Tensor take_shard(const torch::Tensor& global) {
  const int world = world_size();
  if (world == 1) return global;
  const int64_t rows = global.size(0);
  require(rows >= world, "a global batch of {} rows cannot be shared among {} processes", rows, world);
  const Shard shard = shard_of(rows, rank(), world);
  gradient_weight() = static_cast<double>(shard.size()) * world / rows;
  return global.slice(0, shard.begin, shard.end);
}

void average_gradients(const std::vector<torch::Tensor>& parameters, int64_t bucket_bytes) {
  const int world = world_size();
  if (world == 1) return;
  std::vector<torch::Tensor> gradients;
  for (const auto& p : parameters) {
    if (p.grad().defined()) gradients.push_back(p.grad());
  }
  bucketed_sum(gradients, gradient_weight() / world, bucket_bytes, compression() == GradientCompression::kFp16);
}

void set_gradient_compression(GradientCompression mode) { compression() = mode; }
GradientCompression gradient_compression() { return compression(); }

void average_buffers(const std::vector<std::shared_ptr<Network>>& networks) {
  const int world = world_size();
  if (world == 1) return;
  bucketed_sum(floating_buffers(networks), 1.0 / world, 25 << 20);
}

void broadcast_parameters(const std::vector<std::shared_ptr<Network>>& networks) {
  if (world_size() == 1) return;
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> tensors;
  for (const auto& network : networks) {
    for (const auto& p : network->parameters()) tensors.push_back(p);
    for (const auto& b : network->buffers()) tensors.push_back(b);
  }
  // A broadcast as a sum in which every rank but 0 contributes zeros: the buckets' machinery
  // serves both, and integer buffers (batches tracked) go through their own buckets.
  if (rank() != 0) {
    for (auto& t : tensors) t.zero_();
  }
  bucketed_sum(tensors, 1.0, 25 << 20);
}

torch::Tensor map_rows(const torch::Tensor& inputs, int64_t batch_size, torch::Device device,
                       const std::function<torch::Tensor(const torch::Tensor&)>& fn) {
  auto run = [&](const torch::Tensor& rows) {
    std::vector<torch::Tensor> outputs;
    const int64_t n = rows.size(0);
    for (int64_t start = 0; start < n; start += batch_size) {
      auto slice = rows.slice(0, start, std::min(n, start + batch_size)).to(device);
      outputs.push_back(fn(slice).to(torch::kCPU));
    }
    return outputs.empty() ? torch::empty({0}) : torch::cat(outputs);
  };
  const int world = world_size();
  const int64_t n = inputs.size(0);
  // Too few rows for every rank to have one: each computes all (the result is the same).
  if (world == 1 || n < world) return run(inputs);
  const Shard shard = shard_of(n, rank(), world);
  auto local = run(inputs.slice(0, shard.begin, shard.end)).contiguous();
  // Gloo gathers equal shapes: pad to the largest shard, then drop the padding per rank.
  const int64_t largest = (n + world - 1) / world;
  if (local.size(0) < largest) {
    auto padding_shape = local.sizes().vec();
    padding_shape[0] = largest - local.size(0);
    local = torch::cat({local, torch::zeros(padding_shape, local.options())});
  }
  auto gathered = all_gather(local);  // [W, largest, ...]
  std::vector<torch::Tensor> parts;
  for (int r = 0; r < world; ++r) parts.push_back(gathered[r].slice(0, 0, shard_of(n, r, world).size()));
  return torch::cat(parts);
}

int64_t sum_across_ranks(int64_t value) {
  if (world_size() == 1) return value;
  std::vector<torch::Tensor> t{torch::tensor({value}, torch::kInt64)};
  all_reduce_sum(t);
  return t[0].item<int64_t>();
}

std::vector<double> average_values(const std::vector<double>& values) {
  const int world = world_size();
  if (world == 1 || values.empty()) return values;
  std::vector<torch::Tensor> t{torch::tensor(values, torch::kFloat64)};
  all_reduce_sum(t);
  t[0].div_(world);
  return std::vector<double>(t[0].data_ptr<double>(), t[0].data_ptr<double>() + t[0].numel());
}

}  // namespace winnow::dist
