#pragma once
// How close a noise estimate came to the truth, where the truth is known (a simulation, or a
// benchmark's label file whose clean labels are kept): never an input to any estimate.
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "winnow/estimate/noise_estimate.h"

namespace winnow {

// The realised transition matrix of (true, given) label pairs: row = true class, column =
// given class, P(given | true) counted; a class with no samples gets the identity row.
torch::Tensor empirical_transition(const torch::Tensor& true_labels, const torch::Tensor& given, int64_t classes);

// {true_noise_rate, rate_error = |estimated - true|, true_transition_matrix,
//  transition_relative_l1_error = sum|T_est - T| / sum|T|}.
nlohmann::ordered_json score_estimate(const NoiseEstimate& estimate, const torch::Tensor& true_labels,
                                      const torch::Tensor& given);

}  // namespace winnow
