#pragma once
// The anchor-point estimator of the transition matrix (Patrini et al., CVPR 2017, Sec. 3.2,
// Eq. 13-14; the 97th-percentile rule of their code and of T-Revision, Xia et al. 2019): it
// needs no cross-validation, only the noisy-class posteriors P(given | x) of one network
// trained on the given labels (in-sample probabilities, taken before the network memorises).
//
// An anchor point of class i is an input that surely belongs to class i; there
// P(given = j | x) = T_ij. The estimator takes, per class i, the sample with the largest
// P(given = i | x) after discarding the samples at or above the `percentile`-th percentile of
// that column (the top few percent are where an over-confident network is least calibrated),
// and reads row i of T off its posterior.
#include <torch/torch.h>

#include "winnow/estimate/noise_estimate.h"

namespace winnow {

// T [K, K] (row = true class, column = given class; rows sum to 1) from probabilities [N, K].
torch::Tensor anchor_transition(const torch::Tensor& probs, double percentile = 97.0);

// The estimate that follows from anchor_transition: the prior over true classes solves
// P(given) = T^T P(true) for the observed label frequencies (clipped at 0, renormalised); the
// rate is 1 - sum_i P(true = i) T_ii and the issue count rate * N.
NoiseEstimate anchor_point_estimate(const torch::Tensor& probs, const torch::Tensor& labels,
                                    double percentile = 97.0);

}  // namespace winnow
