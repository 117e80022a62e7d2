#include "winnow/estimate/score.h"

#include <cmath>

#include "winnow/core/error.h"

namespace winnow {

torch::Tensor empirical_transition(const torch::Tensor& true_labels, const torch::Tensor& given, int64_t classes) {
  require(true_labels.numel() == given.numel(), "empirical_transition: {} true labels for {} given labels",
          true_labels.numel(), given.numel());
  auto counts = torch::bincount(true_labels.flatten() * classes + given.flatten(), {}, classes * classes)
                    .to(torch::kFloat64)
                    .view({classes, classes});
  auto rows = counts.sum(1, true);
  auto eye = torch::eye(classes, torch::kFloat64);
  return torch::where(rows > 0, counts / rows.clamp_min(1), eye);
}

nlohmann::ordered_json score_estimate(const NoiseEstimate& estimate, const torch::Tensor& true_labels,
                                      const torch::Tensor& given) {
  const int64_t k = estimate.transition.size(0);
  auto truth = empirical_transition(true_labels, given, k);
  const double true_rate = given.ne(true_labels).to(torch::kFloat64).mean().item<double>();
  nlohmann::ordered_json out;
  out["true_noise_rate"] = true_rate;
  out["rate_error"] = std::abs(estimate.noise_rate - true_rate);
  const double l1 = (estimate.transition.to(torch::kFloat64) - truth).abs().sum().item<double>();
  out["transition_relative_l1_error"] = l1 / truth.abs().sum().item<double>();
  nlohmann::json rows = nlohmann::json::array();
  auto t = truth.contiguous();
  for (int64_t i = 0; i < k; ++i) rows.push_back(std::vector<double>(t[i].data_ptr<double>(), t[i].data_ptr<double>() + k));
  out["true_transition_matrix"] = rows;
  return out;
}

}  // namespace winnow
