#pragma once
// `winnow inspect`: "find the wrong labels in my data". The same configuration as `train`
// (own files, own noisy labels, or a simulation); no truth needed. It estimates the noise
// (estimate/estimate_noise.h: out-of-sample probabilities, then confident learning) and
// writes into the output folder:
//   samples.csv     every training sample, most suspicious first: rank, index (position in
//                   the user's file), given_label, [true_label, label_is_wrong,]
//                   predicted_label, clean_score (the label-quality score), suspect (flagged)
//   estimate.json   noise_rate, label_issues, transition_matrix (row = true, column = given),
//                   per_class_noise_rate, overlapping_classes, health_score, the suspects and
//                   how they were chosen; where the truth is known, how the estimate and the
//                   flags score against it
//   probabilities.npy  the out-of-sample probabilities, float32 [N, K], rows in file order of
//                   the training samples (for other tools: cleanlab, plots)
//   config.toml     the resolved configuration
//
// [inspect] options:
//   filter_by   which samples are flagged: confident learning's rules (prune_by_noise_rate,
//               prune_by_class, both, confident_learning, predicted_neq_given), as cleanlab's
//               find_label_issues; default prune_by_noise_rate (cleanlab's default)
//   rank_by     the label-quality score of samples.csv: self_confidence | normalized_margin |
//               confidence_weighted_entropy (default self_confidence)
//   show        how many top suspects to print (10)
//   detector    "confident_learning" (default): the flags and scores come from the
//               out-of-sample probabilities; "method": the configured method ([method],
//               [loss], [optim], [train]) is then trained on all training samples with its
//               "auto" options answered by this estimate (a Co-teaching forget rate,
//               DivideMix's preset), and its own per-sample clean scores and flags are used:
//               a robust method fits the clean samples and not the wrong ones, which
//               out-of-sample probabilities cannot do for the hard clean samples. Its run
//               folder is <out>/train.
// [estimate] options: estimate/estimate_noise.h; inspect's defaults are confident learning's
// own protocol: 5-fold cross-fitting, 10 epochs per fold (each fold's probabilities averaged
// over its epochs: select_epoch = "average").
#include <string>

#include <nlohmann/json.hpp>

#include "winnow/core/config.h"

namespace winnow {

struct InspectOptions {
  std::string out_dir;       // required
  std::string command_line;  // recorded in config.toml
  bool progress = true;
};

// Runs the inspection and returns estimate.json's content.
nlohmann::ordered_json run_inspect(Config& config, const InspectOptions& options);

}  // namespace winnow
