#include "winnow/methods/selection.h"

#include <algorithm>
#include <cmath>

#include "winnow/core/error.h"

namespace winnow {

double scheduled_forget_rate(int64_t epoch, double tau, int64_t num_gradual, double exponent) {
  require(tau >= 0.0 && tau < 1.0, "forget rate {}: must be in [0, 1)", tau);
  require(num_gradual >= 1, "num_gradual (T_k) = {}: must be >= 1", num_gradual);
  require(exponent > 0.0, "exponent (c) = {}: must be > 0", exponent);
  require(epoch >= 0, "epoch {}: must be >= 0", epoch);
  const double ramp = std::pow(static_cast<double>(epoch), exponent) / static_cast<double>(num_gradual);
  return tau * std::min(ramp, 1.0);
}

int64_t keep_count(int64_t n, double forget_rate) {
  require(forget_rate >= 0.0 && forget_rate <= 1.0, "forget rate {}: must be in [0, 1]", forget_rate);
  if (n <= 0) return 0;
  const auto kept = static_cast<int64_t>(std::floor((1.0 - forget_rate) * static_cast<double>(n) + 1e-9));
  return std::clamp<int64_t>(kept, 1, n);
}

torch::Tensor select_small_loss(const torch::Tensor& losses, int64_t count) {
  require(losses.dim() == 1, "select_small_loss: losses must be 1-D, got {} dimensions", losses.dim());
  require(count >= 0 && count <= losses.size(0), "select_small_loss: count {} outside [0, {}]", count,
          losses.size(0));
  auto order = std::get<1>(torch::sort(losses.detach(), /*stable=*/true, /*dim=*/0, /*descending=*/false));
  return order.slice(0, 0, count);
}

torch::Tensor disagreement_mask(const torch::Tensor& logits_a, const torch::Tensor& logits_b) {
  return logits_a.detach().argmax(1).ne(logits_b.detach().argmax(1));
}

Exchange co_teaching_exchange(const torch::Tensor& losses_first, const torch::Tensor& losses_second,
                              const torch::Tensor& candidates, double forget_rate) {
  const int64_t count = keep_count(candidates.size(0), forget_rate);
  auto among = [&](const torch::Tensor& losses) {
    auto candidate_losses = losses.detach().index_select(0, candidates);
    return candidates.index_select(0, select_small_loss(candidate_losses, count));
  };
  return Exchange{among(losses_first), among(losses_second)};
}

torch::Tensor kl_divergence_per_sample(const torch::Tensor& logits_p, const torch::Tensor& logits_q) {
  auto log_p = torch::log_softmax(logits_p, 1);
  auto log_q = torch::log_softmax(logits_q, 1);
  return (log_p.exp() * (log_p - log_q)).sum(1);
}

torch::Tensor jocor_joint_loss(const torch::Tensor& supervised_first, const torch::Tensor& supervised_second,
                               const torch::Tensor& logits_first, const torch::Tensor& logits_second,
                               double co_lambda) {
  require(co_lambda >= 0.0 && co_lambda <= 1.0, "co_lambda {}: must be in [0, 1]", co_lambda);
  auto co_regularisation = kl_divergence_per_sample(logits_first, logits_second) +
                           kl_divergence_per_sample(logits_second, logits_first);
  return (1.0 - co_lambda) * (supervised_first + supervised_second) + co_lambda * co_regularisation;
}

}  // namespace winnow
