#pragma once
// P x K identity batches: each batch holds P identities (classes, clusters) with K samples
// each, the batches the triplet loss needs (every anchor has positives and negatives). An
// epoch is a random order of all identities; an identity with fewer than K samples is drawn
// with replacement, one with more gives K distinct samples, as the re-ID samplers of open-reid
// do (RandomIdentitySampler, used by the official ACT and Song et al. code). An epoch therefore
// has identities x K samples, not one pass over every sample.
#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace winnow {

class IdentitySampler {
 public:
  // labels: int64 [N], the identity of each sample; negative labels (unassigned) are left out.
  // Throws when no sample has an identity or K < 1.
  IdentitySampler(const torch::Tensor& labels, int64_t instances);

  // The epoch's sample order: identities in a random order, K positions each, all drawn from
  // `generator`. Consecutive chunks of P x K are the batches.
  torch::Tensor epoch_order(torch::Generator& generator) const;
  // Batches of `batch_size` (a multiple of K) over one epoch_order; the last partial one is
  // dropped, as the reference loaders do (drop_last), unless it is the only one.
  std::vector<torch::Tensor> epoch_batches(int64_t batch_size, torch::Generator& generator) const;

  int64_t identities() const { return static_cast<int64_t>(members_.size()); }
  int64_t instances() const { return instances_; }

 private:
  std::vector<std::vector<int64_t>> members_;  // sample positions of each identity
  int64_t instances_;
};

}  // namespace winnow
