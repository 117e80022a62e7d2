#pragma once
// Confident learning: Northcutt, Jiang & Chuang, "Confident Learning: Estimating Uncertainty
// in Dataset Labels", JAIR 70 (2021). From out-of-sample predicted probabilities p̂ [N, K] and
// the given (possibly wrong) labels ỹ [N] it counts the confident joint C[ỹ][y*] (Sec. 3.1),
// calibrates it into an estimate of the joint Q[ỹ][y*] (Eq. 3), derives the prior p(y*) and the
// noise matrices, and ranks or flags the samples whose label is likely wrong (Sec. 3.2).
//
// Every function here reproduces cleanlab 2.x (cleanlab/cleanlab, checked against 2.9.0 by
// tests/data/cleanlab_fixtures.json), not only the paper. Where the two differ:
//   - Thresholds (Eq. 2) t_j = mean of p̂_j over the samples given label j, as in the paper.
//     cleanlab additionally sets t_j = 2 for a class no sample is given (nothing passes it) and
//     clamps every t_j to >= 2e-6.
//   - Confident joint (Eq. 1): a sample counts as "confidently class j" when p̂_j >= t_j - 1e-6
//     (cleanlab's slack; the paper has p̂_j >= t_j). When several classes pass, the paper takes
//     the argmax among the classes that pass; cleanlab takes the argmax over ALL classes, which
//     can be a class that did not pass its own threshold. winnow follows cleanlab.
//   - After counting, cleanlab raises every diagonal entry C[j][j] to at least 1 (not in the
//     paper), so no row or column is empty.
//   - Calibration (Eq. 3) rescales row i to the count of label i and the whole matrix to N, as
//     in the paper; cleanlab then rounds each row to integers that keep the row total
//     (largest-remainder rounding; among equal remainders the later column is raised first and
//     the earlier one lowered first, which is what numpy's argsort does for K <= 16, where it
//     is a stable insertion sort; for larger K cleanlab's order among ties is unspecified).
//   - Noise matrices: P(ỹ | y*) and P(y* | ỹ) are the calibrated counts normalised by column /
//     row; cleanlab clips off-diagonal rates to <= 0.9999 and renormalises. The prior is its
//     "cnt" method, P(y*=j | ỹ=j) / P(ỹ=j | y*=j) · p(ỹ=j) (the column total of the calibrated
//     counts / N wherever C[j][j] > 0, else 0), clamped to >= 1e-6 and renormalised; without
//     cleanlab's optional iterative "converge_latent_estimates".
//   - Finding issues: the paper's rules (Sec. 3.2: C_confusion, C_{ỹ,y*}, prune by class, prune
//     by noise rate, both) are cleanlab's filter_by names below; the pruning rules take their
//     counts from the calibrated confident joint, truncated (not rounded) to integers after
//     keeping at least min_examples_per_class per class. cleanlab, and winnow, then un-flag
//     every sample whose given label is within 1e-6 of its largest probability (not in the
//     paper), whatever the rule, "predicted_neq_given" included.
//   - num_label_issues "off_diagonal" counts the off-diagonal samples of the (uncalibrated)
//     confident joint after that un-flagging (= the "confident_learning" mask's size);
//     "off_diagonal_calibrated" is the paper's N * (1 - trace Q).
//
// Inputs: probs float or double [N, K] (rows are probabilities; values in [0, 1] up to 1e-6,
// no NaN), labels integral [N] in [0, K), K >= 2. All work is in double on the CPU; results
// are CPU tensors. Orientation: matrices indexed [given][true] unless said otherwise.
#include <cstdint>
#include <string>

#include <torch/torch.h>

namespace winnow {

// Per-class thresholds t_j (Eq. 2): the mean p̂_j over the samples given label j. double [K].
torch::Tensor confident_thresholds(const torch::Tensor& probs, const torch::Tensor& labels);

// The confident joint C[given][true], int64 [K, K] (Eq. 1 with cleanlab's details above),
// calibrated to the label counts (Eq. 3) when `calibrate` (then rows sum to the label counts).
torch::Tensor confident_joint(const torch::Tensor& probs, const torch::Tensor& labels,
                             bool calibrate = true);

// Eq. 3 applied to any count matrix [K, K] (rows given label): rows rescaled to the label
// counts, the total to N, then rounded to int64 keeping each row total.
torch::Tensor calibrate_confident_joint(const torch::Tensor& confident_joint,
                                        const torch::Tensor& labels);

// The estimated joint Q[given][true] = calibrated C / N, double [K, K], sums to 1.
torch::Tensor estimate_joint(const torch::Tensor& probs, const torch::Tensor& labels);

struct LatentEstimate {
  torch::Tensor confident_joint;  // int64 [K given, K true], calibrated
  torch::Tensor prior;            // double [K]: p(true = j)
  torch::Tensor transition;       // double [K true, K given]: P(given | true); rows sum to 1
                                  // (the transpose of cleanlab's noise_matrix)
  torch::Tensor inverse;          // double [K given, K true]: P(true | given); rows sum to 1
                                  // (the transpose of cleanlab's inverse_noise_matrix)
};

// cleanlab.count.estimate_py_and_noise_matrices_from_probabilities with py_method "cnt" and
// converge_latent_estimates false (cleanlab's default there is true).
LatentEstimate estimate_latent(const torch::Tensor& probs, const torch::Tensor& labels);

// Estimated number of wrong labels: method "off_diagonal" (default) or
// "off_diagonal_calibrated" (see above).
int64_t num_label_issues(const torch::Tensor& probs, const torch::Tensor& labels,
                         const std::string& method = "off_diagonal");

struct LabelIssueOptions {
  // "prune_by_noise_rate" (for each given i and true j != i, flag the n·Q[i][j] samples given
  // i with the largest margin p̂_j - p̂_i), "prune_by_class" (flag the N_i - C[i][i] samples
  // given i with the lowest p̂_i), "both" (flagged by both), "confident_learning" (the
  // off-diagonal samples of the confident joint), "predicted_neq_given" (argmax != label).
  std::string filter_by = "prune_by_noise_rate";
  // The pruning rules flag only this fraction of the estimated off-diagonal counts, in (0, 1].
  double frac_noise = 1.0;
  // The pruning rules leave at least this many samples per given class, >= 0.
  int64_t min_examples_per_class = 1;
};

// cleanlab.filter.find_label_issues(labels, pred_probs, filter_by=...): bool [N], true where
// the label is probably wrong. Among exactly tied scores, the earlier sample is flagged first
// (cleanlab's order among exact ties is numpy's unspecified quicksort order).
torch::Tensor find_label_issues(const torch::Tensor& probs, const torch::Tensor& labels,
                                const std::string& filter_by = "prune_by_noise_rate");
torch::Tensor find_label_issues(const torch::Tensor& probs, const torch::Tensor& labels,
                                const LabelIssueOptions& options);

// cleanlab.rank.get_label_quality_scores (adjust_pred_probs false): double [N] in [0, 1],
// higher = the label is more likely right. Methods:
//   "self_confidence"              p̂_ỹ
//   "normalized_margin"            (p̂_ỹ - max_{k != ỹ} p̂_k + 1) / 2
//   "confidence_weighted_entropy"  log(1 + s) / max(s, 1e-6),
//                                  s = (H(p̂) / log K) / max(p̂_ỹ, 1e-6)
//                                  (needs probs in [0, 1]; as in cleanlab a zero-entropy row
//                                  scores 0, not the limit 1)
torch::Tensor label_quality_scores(const torch::Tensor& probs, const torch::Tensor& labels,
                                   const std::string& method = "self_confidence");

}  // namespace winnow
