#pragma once
// A two-component 1-D Gaussian mixture fit by EM: DivideMix's co-divide (Li et al., ICLR
// 2020, Sec. 3.1) models the per-sample loss as a mixture of a clean (low-mean) and a noisy
// (high-mean) component and takes the posterior of the clean one as the clean probability.
// The official code uses sklearn's GaussianMixture(n_components=2, max_iter=10, tol=1e-2,
// reg_covar=5e-4); these are our defaults and have the same meaning.
#include <cstdint>
#include <string>

#include <torch/torch.h>

namespace winnow {

struct GmmOptions {
  int64_t max_iter = 10;    // EM iterations at most
  double tol = 1e-2;        // stop when the mean log-likelihood per sample changes by less
  double reg_covar = 5e-4;  // added to each variance (sklearn's reg_covar): a variance floor
  // Throws winnow::Error naming the field when a value is out of range.
  void validate() const;
};

struct GmmFit {
  // Components ordered by mean: index 0 is the low-mean ("clean") one.
  double means[2] = {0, 0};
  double variances[2] = {1, 1};
  double weights[2] = {0.5, 0.5};
  int64_t iterations = 0;
  bool converged = false;
  double mean_log_likelihood = 0;  // per sample, after the last M-step
  torch::Tensor low_posterior;     // float [N]: p(component 0 | x) for every sample
};

// Fits the mixture to `x` (any shape, read as N values) with EM, vectorised over samples.
// Deterministic initialisation (no random draws): a 1-D 2-means split started from the 25%
// and 75% quantiles and run to a fixed point (at most 100 Lloyd steps), whose hard
// assignment gives the first M-step — sklearn's default "kmeans" initialisation without
// its random restarts. Computed in float64. `x` must hold at least 2 finite values.
GmmFit fit_gmm2(const torch::Tensor& x, const GmmOptions& options = {});

}  // namespace winnow
