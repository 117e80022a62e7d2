#pragma once
// The preamble of every LibTorch optimizer step, shared by the optimizers written here:
// re-evaluate the loss closure (if one is given) with autograd on, inside the step's
// NoGradGuard, and return its loss (undefined without a closure).
#include <torch/torch.h>

namespace winnow::detail {

inline torch::Tensor evaluate_closure(const torch::optim::Optimizer::LossClosure& closure) {
  if (closure == nullptr) return {};
  at::AutoGradMode enable_grad(true);
  return closure();
}

}  // namespace winnow::detail
