#pragma once
#include <string>

#include <torch/torch.h>

#include "winnow/data/dataset.h"
#include "winnow/methods/method.h"

namespace winnow {

// Writes samples.csv: one row per training sample, most suspicious first (lowest clean
// score), with columns rank, index (position in the training file), given_label,
// true_label and label_is_wrong (when the truth is known), predicted_label, clean_score,
// suspect.
void write_samples_csv(const std::string& path, const Dataset& train, const torch::Tensor& origin,
                       const SampleScores& scores);

}  // namespace winnow
