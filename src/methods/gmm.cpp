// Two-component 1-D Gaussian mixture by EM (Dempster, Laird & Rubin 1977), as DivideMix's
// co-divide uses it (Li et al., ICLR 2020, Sec. 3.1, via sklearn.mixture.GaussianMixture).
#include "winnow/methods/gmm.h"

#include <cmath>
#include <limits>
#include <utility>

#include "winnow/core/error.h"

namespace winnow {

void GmmOptions::validate() const {
  require(max_iter >= 1, "gmm max_iter = {}: must be >= 1", max_iter);
  require(tol >= 0.0, "gmm tol = {}: must be >= 0", tol);
  require(reg_covar >= 0.0, "gmm reg_covar = {}: must be >= 0", reg_covar);
}

namespace {

constexpr double kLog2Pi = 1.8378770664093453;  // log(2 pi)

// M-step from responsibilities r ([N, 2]): weights, means, variances (+ reg_covar).
void m_step(const torch::Tensor& x, const torch::Tensor& r, double reg_covar, GmmFit& fit) {
  const int64_t n = x.size(0);
  auto nk = r.sum(0) + 10 * std::numeric_limits<double>::epsilon();  // as sklearn, avoids 0/0
  auto means = (r * x.unsqueeze(1)).sum(0) / nk;
  auto diff = x.unsqueeze(1) - means.unsqueeze(0);
  auto variances = (r * diff * diff).sum(0) / nk + reg_covar;
  for (int k = 0; k < 2; ++k) {
    fit.weights[k] = nk[k].item<double>() / n;
    fit.means[k] = means[k].item<double>();
    fit.variances[k] = variances[k].item<double>();
  }
}

// log(w_k N(x | mu_k, var_k)) for both components: [N, 2].
torch::Tensor weighted_log_prob(const torch::Tensor& x, const GmmFit& fit) {
  auto opts = x.options();
  auto means = torch::tensor({fit.means[0], fit.means[1]}, opts);
  auto vars = torch::tensor({fit.variances[0], fit.variances[1]}, opts);
  auto logw = torch::tensor({std::log(fit.weights[0]), std::log(fit.weights[1])}, opts);
  auto diff = x.unsqueeze(1) - means.unsqueeze(0);
  return logw - 0.5 * (kLog2Pi + vars.log()) - 0.5 * diff * diff / vars;
}

}  // namespace

GmmFit fit_gmm2(const torch::Tensor& input, const GmmOptions& options) {
  options.validate();
  auto x = input.detach().reshape({-1}).to(torch::kCPU, torch::kFloat64).contiguous();
  require(x.numel() >= 2, "fit_gmm2: needs at least 2 values, got {}", x.numel());
  require(torch::isfinite(x).all().item<bool>(), "fit_gmm2: the values must be finite");

  // Deterministic 2-means initialisation from the quartiles.
  auto sorted = std::get<0>(x.sort());
  const int64_t n = x.size(0);
  double c0 = sorted[(n - 1) / 4].item<double>();
  double c1 = sorted[(3 * (n - 1)) / 4].item<double>();
  if (c0 == c1) {  // a flat half: split at the extremes instead
    c0 = sorted[0].item<double>();
    c1 = sorted[n - 1].item<double>();
  }
  torch::Tensor high;
  for (int step = 0; step < 100; ++step) {
    high = (x - c1).abs() < (x - c0).abs();
    const int64_t n_high = high.sum().item<int64_t>();
    if (n_high == 0 || n_high == n) break;
    const double m1 = x.masked_select(high).mean().item<double>();
    const double m0 = x.masked_select(high.logical_not()).mean().item<double>();
    if (m0 == c0 && m1 == c1) break;
    c0 = m0;
    c1 = m1;
  }
  auto r = torch::stack({high.logical_not().to(torch::kFloat64), high.to(torch::kFloat64)}, 1);

  GmmFit fit;
  m_step(x, r, options.reg_covar, fit);
  double previous = -std::numeric_limits<double>::infinity();
  for (int64_t it = 1; it <= options.max_iter; ++it) {
    // E-step: responsibilities by log-sum-exp; the mean log-likelihood is sklearn's lower bound.
    auto wlp = weighted_log_prob(x, fit);
    auto norm = torch::logsumexp(wlp, 1, /*keepdim=*/true);
    const double lower_bound = norm.mean().item<double>();
    r = (wlp - norm).exp();
    m_step(x, r, options.reg_covar, fit);
    fit.iterations = it;
    fit.mean_log_likelihood = lower_bound;
    if (std::abs(lower_bound - previous) < options.tol) {
      fit.converged = true;
      break;
    }
    previous = lower_bound;
  }
  // Order components by mean so index 0 is the low-mean (clean) one.
  if (fit.means[1] < fit.means[0]) {
    std::swap(fit.means[0], fit.means[1]);
    std::swap(fit.variances[0], fit.variances[1]);
    std::swap(fit.weights[0], fit.weights[1]);
  }
  // Posterior under the final parameters (sklearn's predict_proba after fit).
  auto wlp = weighted_log_prob(x, fit);
  fit.low_posterior = (wlp.select(1, 0) - torch::logsumexp(wlp, 1)).exp().to(torch::kFloat32);
  return fit;
}

}  // namespace winnow
