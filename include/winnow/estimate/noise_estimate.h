#pragma once
// What winnow knows about the noise in a user's labels without knowing the truth: the share
// of wrong labels, the transition matrix and what follows from them. Computed from
// out-of-sample probabilities by confident learning (estimate/confident_learning.h) or from
// in-sample probabilities by anchor points (estimate/anchor.h); used by `winnow inspect` and
// by every "auto" option of `winnow train` (estimate/noise_source.h).
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace winnow {

struct NoiseEstimate {
  // Estimated share of wrong labels among the samples, in [0, 1].
  double noise_rate = 0;
  // Estimated number of wrong labels.
  int64_t label_issues = 0;
  int64_t samples = 0;
  // double [K, K]: P(given = j | true = i), row = true class, column = given class.
  torch::Tensor transition;
  // double [K]: P(true = i).
  torch::Tensor prior;
  // double [K]: per given class, the estimated share of the samples labelled i whose label is
  // wrong, 1 - P(true = i | given = i).
  torch::Tensor per_class_noise_rate;
  // Whether the wrong labels concentrate on one other class per class (pair-flip, class-map)
  // rather than spreading over all of them (symmetric): see asymmetry() below.
  bool asymmetric = false;
  double asymmetry = 0;
  // How it was obtained ("confident learning on 5-fold out-of-sample probabilities", ...), and
  // its training cost in epochs over the whole training set (one network = 1 per epoch).
  std::string method;
  double cost_epochs = 0;

  nlohmann::ordered_json to_json(const std::vector<std::string>& class_names = {}) const;
  static NoiseEstimate from_json(const nlohmann::json& json);
};

// How concentrated the off-diagonal mass of T (row = true, column = given) is: for each true
// class i, the largest off-diagonal entry's share of the row's off-diagonal mass, averaged
// over the rows weighted by that mass. Symmetric noise spreads each row's mass evenly over
// the K - 1 other classes: 1 / (K - 1) (0.11 for K = 10). Pair-flip and class-map noise put
// it on one class: 1. Rows without off-diagonal mass do not count; a noise-free T gives 0.
double asymmetry(const torch::Tensor& transition);
// The decision DivideMix's asymmetric switch takes from an estimated T.
constexpr double kAsymmetryThreshold = 0.5;

// The rate implied by T and the prior over true classes: 1 - sum_i P(true = i) T_ii.
double rate_from_transition(const torch::Tensor& transition, const torch::Tensor& prior);

// Per given class j: the share of samples labelled j whose true class is not j, from T and the
// prior by Bayes' rule: 1 - P(true = j) T_jj / sum_i P(true = i) T_ij.
torch::Tensor per_class_noise_from_transition(const torch::Tensor& transition, const torch::Tensor& prior);

// The class pairs (true i, given j, i != j) with the most joint off-diagonal mass
// P(true = i) T_ij, largest first, at most `count`, only those above `min_mass`.
std::vector<std::pair<int64_t, int64_t>> overlapping_classes(const NoiseEstimate& estimate, int64_t count = 5,
                                                             double min_mass = 1e-3);

// Confident learning's estimate (Northcutt et al. 2021) from out-of-sample probabilities P
// [N, K] and given labels: T and the prior from the calibrated confident joint, the number of
// issues by cleanlab's default ("off_diagonal": the confident joint's off-diagonal count).
NoiseEstimate confident_learning_estimate(const torch::Tensor& probs, const torch::Tensor& labels);

// The health score of a data set's labels (cleanlab's overall_label_health_score): 1 - the
// estimated share of wrong labels.
inline double health_score(const NoiseEstimate& estimate) { return 1.0 - estimate.noise_rate; }

}  // namespace winnow
