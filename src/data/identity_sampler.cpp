#include "winnow/data/identity_sampler.h"

#include <map>

#include "winnow/core/error.h"

namespace winnow {

IdentitySampler::IdentitySampler(const torch::Tensor& labels, int64_t instances) : instances_(instances) {
  require(instances >= 1, "identity sampler: K = {} samples per identity: must be >= 1", instances);
  require(labels.dim() == 1, "identity sampler: labels must be [N], got {} dimensions", labels.dim());
  auto cpu = labels.to(torch::kCPU, torch::kInt64).contiguous();
  const int64_t* y = cpu.data_ptr<int64_t>();
  std::map<int64_t, std::vector<int64_t>> by_label;  // ordered: the identity order is reproducible
  for (int64_t i = 0; i < cpu.numel(); ++i) {
    if (y[i] >= 0) by_label[y[i]].push_back(i);
  }
  require(!by_label.empty(), "identity sampler: no sample has an identity (all {} labels are negative)",
          cpu.numel());
  for (auto& [label, members] : by_label) members_.push_back(std::move(members));
}

torch::Tensor IdentitySampler::epoch_order(torch::Generator& generator) const {
  const int64_t p = identities();
  auto identity_order = torch::randperm(p, generator, torch::kInt64);
  const int64_t* order = identity_order.data_ptr<int64_t>();
  auto out = torch::empty({p * instances_}, torch::kInt64);
  int64_t* dst = out.data_ptr<int64_t>();
  for (int64_t i = 0; i < p; ++i) {
    const auto& members = members_[static_cast<size_t>(order[i])];
    const int64_t m = static_cast<int64_t>(members.size());
    torch::Tensor pick;
    if (m >= instances_) {
      pick = torch::randperm(m, generator, torch::kInt64).slice(0, 0, instances_);
    } else {
      pick = torch::randint(m, {instances_}, generator, torch::kInt64);
    }
    const int64_t* k = pick.data_ptr<int64_t>();
    for (int64_t j = 0; j < instances_; ++j) dst[i * instances_ + j] = members[static_cast<size_t>(k[j])];
  }
  return out;
}

std::vector<torch::Tensor> IdentitySampler::epoch_batches(int64_t batch_size, torch::Generator& generator) const {
  require(batch_size >= instances_ && batch_size % instances_ == 0,
          "identity batches: batch size {} must be a positive multiple of K = {} samples per identity",
          batch_size, instances_);
  auto order = epoch_order(generator);
  std::vector<torch::Tensor> batches;
  for (int64_t start = 0; start + batch_size <= order.numel(); start += batch_size) {
    batches.push_back(order.slice(0, start, start + batch_size));
  }
  // Fewer than P identities in all (a small target set, an early round with few clusters):
  // one smaller batch instead of an epoch with nothing in it.
  if (batches.empty()) batches.push_back(order);
  return batches;
}

}  // namespace winnow
