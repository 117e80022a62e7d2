#pragma once
// Pieces shared by confident_learning.cpp and confident_learning_issues.cpp: input checks,
// cleanlab's constants, and the counting steps of Sec. 3.1 (thresholds, the guessed true class,
// the confident joint and its calibration).
#include <cstdint>

#include <torch/torch.h>

namespace winnow {
namespace cl_detail {

// cleanlab's constants (cleanlab/internal/constants.py).
constexpr double kFloatSlack = 1e-6;       // FLOATING_POINT_COMPARISON
constexpr double kThresholdFloor = 2e-6;   // CONFIDENT_THRESHOLDS_LOWER_BOUND
constexpr double kMissingThreshold = 2.0;  // threshold of a class no sample is given
constexpr double kClipFloor = 1e-6;        // CLIPPING_LOWER_BOUND
constexpr double kTiny = 1e-100;           // TINY_VALUE, guards divisions by zero
constexpr double kMaxNoiseRate = 0.9999;   // clip of off-diagonal noise rates

struct Inputs {
  torch::Tensor probs;   // double [N, K], CPU, contiguous
  torch::Tensor labels;  // int64 [N], CPU, contiguous
  int64_t n = 0;
  int64_t k = 0;
};

// Checks that `labels` is an integral [N] tensor with values in [0, k); returns it as int64.
// `where` (the public function's name) starts every message.
torch::Tensor checked_labels(const torch::Tensor& labels, int64_t k, const char* where);

// Checks probs [N, K] (floating, K >= 2, N >= 1, no NaN, in [0, 1] up to 1e-6) and labels.
Inputs checked_inputs(const torch::Tensor& probs, const torch::Tensor& labels, const char* where);

// Samples given each class, int64 [K].
torch::Tensor label_counts(const torch::Tensor& labels, int64_t k);

// Eq. 2 with cleanlab's missing-class value and floor, double [K].
torch::Tensor thresholds_of(const Inputs& in);

// Which samples are confidently some class, and which (Sec. 3.1, with cleanlab's choices).
struct ConfidentGuess {
  torch::Tensor confident;  // bool [N]: some class passed its threshold
  torch::Tensor guess;      // int64 [N]: the guessed true class (meaningless where !confident)
};
ConfidentGuess confident_guess(const Inputs& in);

// Eq. 1's counts, diagonal raised to >= 1 (cleanlab), int64 [K, K].
torch::Tensor raw_confident_joint(const Inputs& in, const ConfidentGuess& g);

// Eq. 3, then integer rounding that keeps each row's total, int64 [K, K].
torch::Tensor calibrate(const torch::Tensor& joint, const torch::Tensor& counts);

// Samples whose given label is (within 1e-6 of) the predicted class; cleanlab never flags
// them (count._reduce_issues). bool [N].
torch::Tensor label_is_argmax(const Inputs& in);

}  // namespace cl_detail
}  // namespace winnow
