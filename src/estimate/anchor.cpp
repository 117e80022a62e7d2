#include "winnow/estimate/anchor.h"

#include <cmath>

#include "winnow/core/error.h"

namespace winnow {

torch::Tensor anchor_transition(const torch::Tensor& probs, double percentile) {
  require(probs.dim() == 2 && probs.size(1) >= 2 && probs.size(0) >= 1,
          "anchor points: probabilities must be [N, K] with K >= 2, got {} dimensions", probs.dim());
  require(percentile > 0 && percentile <= 100, "anchor points: percentile = {}: allowed (0, 100]", percentile);
  auto p = probs.to(torch::kFloat64).contiguous();
  const int64_t n = p.size(0);
  // numpy's percentile(..., interpolation="higher"): the value at rank ceil(q (n - 1)) of the
  // sorted column.
  const int64_t rank = std::min<int64_t>(n - 1, static_cast<int64_t>(std::ceil(percentile / 100.0 * (n - 1) - 1e-9)));
  auto sorted = std::get<0>(p.sort(0));
  auto threshold = sorted[rank];  // [K]
  // Samples at or above the percentile are set aside; below it, the largest posterior of each
  // class is its anchor. With percentile 100 nothing is set aside but the maximum itself
  // counts: keep `>=` only for values strictly above the threshold in that case.
  auto eligible = percentile >= 100 ? torch::ones_like(p, torch::kBool) : p.lt(threshold.unsqueeze(0));
  auto masked = torch::where(eligible, p, torch::full_like(p, -1.0));
  auto anchors = masked.argmax(0);  // [K]: the anchor sample of each class
  auto t = p.index_select(0, anchors);
  return t / t.sum(1, true).clamp_min(1e-12);
}

NoiseEstimate anchor_point_estimate(const torch::Tensor& probs, const torch::Tensor& labels, double percentile) {
  require(labels.dim() == 1 && labels.size(0) == probs.size(0),
          "anchor points: {} labels for {} probability rows", labels.numel(), probs.size(0));
  const int64_t k = probs.size(1);
  NoiseEstimate e;
  e.transition = anchor_transition(probs, percentile);
  e.samples = labels.numel();
  auto given = torch::bincount(labels, {}, k).to(torch::kFloat64) / static_cast<double>(e.samples);
  // P(given) = T^T P(true): least squares (T may be singular when the posteriors are flat),
  // then projected back onto the simplex by clipping and renormalising.
  auto solution = std::get<0>(torch::linalg::lstsq(e.transition.t(), given.unsqueeze(1), c10::nullopt, c10::nullopt));
  auto prior = solution.squeeze(1).clamp_min(0);
  e.prior = prior.sum().item<double>() > 0 ? prior / prior.sum() : given;
  e.noise_rate = std::clamp(rate_from_transition(e.transition, e.prior), 0.0, 1.0);
  e.label_issues = static_cast<int64_t>(std::llround(e.noise_rate * static_cast<double>(e.samples)));
  e.per_class_noise_rate = per_class_noise_from_transition(e.transition, e.prior);
  e.asymmetry = asymmetry(e.transition);
  e.asymmetric = e.asymmetry > kAsymmetryThreshold;
  e.method = fmt::format("anchor points ({}th percentile)", percentile);
  return e;
}

}  // namespace winnow
