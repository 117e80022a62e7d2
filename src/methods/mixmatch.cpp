// DivideMix's pure pieces (Li, Socher & Hoi, ICLR 2020, Alg. 1 and Eqs. 9-12), written from
// the paper; the official code (LiJunnan1992/DivideMix, Train_cifar.py) settled the details
// the paper leaves open (Lu's mean over classes, the ramp of lambda_u).
#include "winnow/methods/mixmatch.h"

#include <algorithm>
#include <cmath>

#include "winnow/core/error.h"

namespace winnow {

torch::Tensor sharpen(const torch::Tensor& probabilities, double temperature) {
  require(temperature > 0, "sharpen: temperature = {}: must be > 0", temperature);
  auto powered = probabilities.pow(1.0 / temperature);
  return powered / powered.sum(1, /*keepdim=*/true);
}

torch::Tensor co_refine(const torch::Tensor& one_hot, const torch::Tensor& clean_probability,
                        const torch::Tensor& probabilities_views, double temperature) {
  auto w = clean_probability.to(one_hot.dtype()).unsqueeze(1);
  auto refined = w * one_hot + (1 - w) * probabilities_views.mean(0);
  return sharpen(refined, temperature);
}

torch::Tensor co_guess(const torch::Tensor& probabilities_both, double temperature) {
  return sharpen(probabilities_both.mean(0), temperature);
}

Mixed mixup(const torch::Tensor& inputs, const torch::Tensor& targets, double lambda, const torch::Tensor& perm) {
  const double l = std::max(lambda, 1.0 - lambda);
  return Mixed{l * inputs + (1 - l) * inputs.index_select(0, perm),
               l * targets + (1 - l) * targets.index_select(0, perm)};
}

double sample_mix_lambda(double alpha, torch::Generator& generator) {
  auto a = torch::_standard_gamma(torch::full({2}, alpha, torch::kFloat64), generator);
  const double g0 = a[0].item<double>(), g1 = a[1].item<double>();
  const double l = g0 / (g0 + g1);
  return std::max(l, 1.0 - l);
}

torch::Tensor mixmatch_labelled_loss(const torch::Tensor& logits, const torch::Tensor& targets) {
  return -(torch::log_softmax(logits, 1) * targets).sum(1).mean();
}

torch::Tensor mixmatch_unlabelled_loss(const torch::Tensor& logits, const torch::Tensor& targets) {
  return (torch::softmax(logits, 1) - targets).pow(2).mean();
}

torch::Tensor uniform_prior_penalty(const torch::Tensor& logits) {
  const int64_t c = logits.size(1);
  auto mean_p = torch::softmax(logits, 1).mean(0);
  const double prior = 1.0 / c;
  return (prior * (std::log(prior) - mean_p.log())).sum();
}

torch::Tensor negative_entropy(const torch::Tensor& logits) {
  auto log_p = torch::log_softmax(logits, 1);
  return (log_p.exp() * log_p).sum(1).mean();
}

double lambda_u_ramp(double lambda_u, double current, double warm_up, double rampup_length) {
  return lambda_u * std::clamp((current - warm_up) / rampup_length, 0.0, 1.0);
}

torch::Tensor min_max_normalise(const torch::Tensor& losses) {
  auto l = losses.detach().to(torch::kCPU, torch::kFloat64).reshape({-1});
  const double lo = l.min().item<double>(), hi = l.max().item<double>();
  return hi > lo ? (l - lo) / (hi - lo) : torch::zeros_like(l);
}

torch::Tensor clean_probability(const torch::Tensor& losses, const GmmOptions& options, GmmFit* fit_out) {
  // Min-max normalisation as the official eval_train, then the GMM.
  return clean_probability_of_normalised(min_max_normalise(losses), options, fit_out);
}

torch::Tensor clean_probability_of_normalised(const torch::Tensor& normalised, const GmmOptions& options,
                                              GmmFit* fit_out) {
  GmmFit fit = fit_gmm2(normalised, options);
  auto p = fit.low_posterior;
  if (fit_out) *fit_out = std::move(fit);
  return p;
}

LossHistory::LossHistory(int64_t length) : length_(length) {
  require(length >= 1, "loss history length = {}: must be >= 1 (epochs)", length);
}

torch::Tensor LossHistory::push(const torch::Tensor& normalised) {
  auto epoch = normalised.detach().to(torch::kCPU, torch::kFloat64).reshape({-1});
  require(epochs_.empty() || epochs_.front().numel() == epoch.numel(),
          "loss history: {} losses after epochs of {}: the training set changed size", epoch.numel(),
          epochs_.empty() ? 0 : epochs_.front().numel());
  epochs_.push_back(epoch);
  while (size() > length_) epochs_.pop_front();
  return size() == 1 ? epoch : torch::stack(std::vector<torch::Tensor>(epochs_.begin(), epochs_.end())).mean(0);
}

torch::Tensor LossHistory::stacked() const {
  if (epochs_.empty()) return torch::zeros({0}, torch::kFloat64);
  return torch::stack(std::vector<torch::Tensor>(epochs_.begin(), epochs_.end()));
}

void LossHistory::restore(const torch::Tensor& stacked) {
  epochs_.clear();
  if (stacked.dim() != 2) return;  // the empty [0] of a run saved before any co-divide
  for (int64_t e = std::max<int64_t>(0, stacked.size(0) - length_); e < stacked.size(0); ++e) {
    epochs_.push_back(stacked[e].to(torch::kFloat64).contiguous());
  }
}

namespace {
Division divide(const torch::Tensor& probability, double p_threshold) {
  auto p = probability.to(torch::kCPU, torch::kFloat32);
  auto labelled = p.gt(p_threshold);
  return Division{labelled.nonzero().squeeze(1), labelled.logical_not().nonzero().squeeze(1), p};
}

Division divide_top(const torch::Tensor& probability, int64_t count) {
  auto p = probability.to(torch::kCPU, torch::kFloat32);
  auto order = p.argsort(/*stable=*/true, /*dim=*/0, /*descending=*/true);
  auto labelled = torch::zeros({p.numel()}, torch::kBool);
  labelled.index_fill_(0, order.slice(0, 0, std::clamp<int64_t>(count, 0, p.numel())), true);
  return Division{labelled.nonzero().squeeze(1), labelled.logical_not().nonzero().squeeze(1), p};
}
}  // namespace

CoDivision co_divide_top(const torch::Tensor& probability_first, const torch::Tensor& probability_second,
                         int64_t labelled_count) {
  return CoDivision{divide_top(probability_second, labelled_count), divide_top(probability_first, labelled_count)};
}

CoDivision co_divide(const torch::Tensor& probability_first, const torch::Tensor& probability_second,
                     double p_threshold) {
  // Network 0 trains on the division of network 1's probabilities and vice versa.
  return CoDivision{divide(probability_second, p_threshold), divide(probability_first, p_threshold)};
}

}  // namespace winnow
