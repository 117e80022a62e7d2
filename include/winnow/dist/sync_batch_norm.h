#pragma once
// Batch norm across the processes of a multi-process run (train.sync_batchnorm = true), as
// torch.nn.SyncBatchNorm: the batch statistics are those of the global batch, not of the rank's
// shard. By default (false) each rank normalises with its shard's statistics, as DDP does, and
// the running statistics are averaged after each epoch (dist/data_parallel.h).
//
// Models call dist::batch_norm(bn, x) where they would call bn->forward(x); in one process, in
// evaluation mode or with the option off, that is bn->forward(x).
#include <torch/torch.h>

namespace winnow::dist {

// Whether training-mode batch norm synchronises across ranks (process-wide, set from the run's
// train.sync_batchnorm before the networks run).
void set_sync_batch_norm(bool on);
bool sync_batch_norm();

// Global-batch normalisation of x [N, C, ...] in training mode: the per-channel sums, sums of
// squares and counts of all ranks are all-reduced (and, in the backward pass, their gradients
// too), so forward and gradients are those of one process holding the whole batch. Updates
// the running statistics as torch's batch norm does (unbiased variance).
torch::Tensor synced_batch_norm(const torch::Tensor& x, torch::Tensor& running_mean, torch::Tensor& running_var,
                                torch::Tensor& num_batches_tracked, const torch::Tensor& weight,
                                const torch::Tensor& bias, double momentum, double eps);

template <typename BatchNorm>
torch::Tensor batch_norm(BatchNorm& bn, const torch::Tensor& x) {
  if (!sync_batch_norm() || !bn->is_training() || !bn->options.track_running_stats()) return bn->forward(x);
  const auto momentum = bn->options.momentum();
  return synced_batch_norm(x, bn->running_mean, bn->running_var, bn->num_batches_tracked, bn->weight, bn->bias,
                           momentum.has_value() ? *momentum : 0.1, bn->options.eps());
}

}  // namespace winnow::dist
