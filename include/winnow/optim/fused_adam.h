#pragma once
// Adam (Kingma & Ba 2015) with LibTorch's update rule, options, state and checkpoints, whose
// step is one pass over each parameter's memory on CPU.
//
// torch::optim::Adam updates a tensor with about nine whole-tensor ops (two for exp_avg, two
// for exp_avg_sq, sqrt, divide, add eps, addcdiv, plus the weight decay), each a pass over
// memory: for the 203k parameters of the mlp 784-256-10 that is ~0.35 ms of a ~1.1 ms
// training step at batch 128. Here the same arithmetic runs per entry in one loop:
//   g = grad + weight_decay * p
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g^2
//   p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// The result equals torch::optim::Adam's up to float rounding (tested). Anything the loop
// does not serve (amsgrad, non-float or non-contiguous or non-CPU tensors) takes
// torch::optim::Adam's own step, so this class is a drop-in: same AdamOptions (schedules
// that change lr or betas see no difference), same AdamParamState, same archives.
#include <torch/torch.h>

namespace winnow {

class FusedAdam : public torch::optim::Adam {
 public:
  using torch::optim::Adam::Adam;
  torch::Tensor step(LossClosure closure = nullptr) override;
};

}  // namespace winnow
