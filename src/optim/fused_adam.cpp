// Adam in one pass per parameter on CPU; see include/winnow/optim/fused_adam.h.
#include "winnow/optim/fused_adam.h"

#include <ATen/Parallel.h>

#include <cmath>

#include "closure.h"
#include "state_key.h"

namespace winnow {
namespace {

// One flat pass over the memory is right when the parameter, its gradient and its moments
// are dense and laid out alike (contiguous, or channels-last conv weights: core/execution.h).
bool fusable(const torch::Tensor& p, const torch::optim::AdamParamState* state) {
  const auto& g = p.grad();
  if (!(p.device().is_cpu() && p.scalar_type() == torch::kFloat && p.is_non_overlapping_and_dense() &&
        g.scalar_type() == torch::kFloat && !g.is_sparse() && g.strides() == p.strides())) {
    return false;
  }
  return state == nullptr ||
         (state->exp_avg().strides() == p.strides() && state->exp_avg_sq().strides() == p.strides());
}

}  // namespace

torch::Tensor FusedAdam::step(LossClosure closure) {
  for (auto& group : param_groups_) {
    if (static_cast<const torch::optim::AdamOptions&>(group.options()).amsgrad()) {
      return torch::optim::Adam::step(std::move(closure));
    }
    for (const auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      auto it = state_.find(detail::state_key_of(p));
      const auto* state =
          it == state_.end() ? nullptr : static_cast<const torch::optim::AdamParamState*>(it->second.get());
      if (!fusable(p, state)) return torch::optim::Adam::step(std::move(closure));
    }
  }
  torch::NoGradGuard no_grad;
  torch::Tensor loss = detail::evaluate_closure(closure);
  for (auto& group : param_groups_) {
    const auto& options = static_cast<const torch::optim::AdamOptions&>(group.options());
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      const auto key = detail::state_key_of(p);
      auto it = state_.find(key);
      if (it == state_.end()) {
        auto fresh = std::make_unique<torch::optim::AdamParamState>();
        fresh->step(0);
        fresh->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        fresh->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        it = state_.emplace(key, std::move(fresh)).first;
      }
      auto& state = static_cast<torch::optim::AdamParamState&>(*it->second);
      state.step(state.step() + 1);
      const double beta1 = std::get<0>(options.betas());
      const double beta2 = std::get<1>(options.betas());
      const double bias_correction1 = 1 - std::pow(beta1, static_cast<double>(state.step()));
      const double bias_correction2 = 1 - std::pow(beta2, static_cast<double>(state.step()));
      // Scalars in float, as ATen casts them for float tensors.
      const float b1 = static_cast<float>(beta1), one_minus_b1 = static_cast<float>(1 - beta1);
      const float b2 = static_cast<float>(beta2), one_minus_b2 = static_cast<float>(1 - beta2);
      const float decay = static_cast<float>(options.weight_decay());
      const float eps = static_cast<float>(options.eps());
      const float sqrt_bc2 = static_cast<float>(std::sqrt(bias_correction2));
      const float step_size = static_cast<float>(options.lr() / bias_correction1);

      float* __restrict w = p.data_ptr<float>();
      const float* __restrict g = p.grad().data_ptr<float>();
      float* __restrict m = state.exp_avg().data_ptr<float>();
      float* __restrict v = state.exp_avg_sq().data_ptr<float>();
      at::parallel_for(0, p.numel(), 1 << 16, [&](int64_t begin, int64_t end) {
        for (int64_t i = begin; i < end; ++i) {
          const float grad = g[i] + decay * w[i];
          m[i] = m[i] * b1 + grad * one_minus_b1;
          v[i] = v[i] * b2 + grad * grad * one_minus_b2;
          const float denom = std::sqrt(v[i]) / sqrt_bc2 + eps;
          w[i] -= step_size * m[i] / denom;
        }
      });
    }
  }
  return loss;
}

}  // namespace winnow
