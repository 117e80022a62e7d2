#pragma once
// The Trainer: the loop over epochs around a Method, with evaluation on the noisy validation
// split and the test set, metrics, atomic checkpoints every epoch, resume, early stopping and
// the run folder's outputs:
//   config.toml     the fully resolved configuration (plus command line and version)
//   metrics.jsonl   one JSON object per epoch
//   summary.json    final/best/at-best-val/mean-of-last-10 test accuracy, speed, noise, detection
//   samples.csv     per training sample: given/true/predicted label, clean score, suspect flag
//   noise.json      what the noise simulation did (when there was one)
//   checkpoint/     the last completed epoch's state
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "winnow/core/config.h"
#include "winnow/methods/method.h"

namespace winnow {

struct RunOptions {
  std::string out_dir;       // empty: runs/<time>-<method>
  std::string command_line;  // recorded in config.toml
  bool resume = false;       // continue the run in out_dir from its checkpoint
  bool progress = true;      // print one line per epoch
  // Stop after this many epochs of this invocation (tests simulate a killed run); 0: no limit.
  int64_t stop_after_epochs = 0;
  // A folder whose estimate.json answers the run's "auto" options instead of a new estimate
  // (`winnow inspect` hands its thorough estimate to the method it trains). Empty: the run's
  // own folder on resume, else none.
  std::string estimate_from;
};

struct RunResult {
  std::string out_dir;
  nlohmann::json summary;
  SampleScores scores;  // the method's per-sample scores of samples.csv (when an epoch ran)
};

// Trains as `config` says. Throws winnow::Error on bad configuration or data.
RunResult run_training(Config& config, const RunOptions& options);

// Loads a run folder's configuration and latest checkpoint and evaluates the model on the
// test set and the noisy validation split; returns accuracies, the per-class test accuracy and
// the fit of the training set ("train": accuracy against the given labels and, when the noise
// was simulated, on the clean- and wrong-labelled samples, with the share of wrong labels the
// model reproduces, "memorised").
nlohmann::json evaluate_run(const std::string& run_dir);

}  // namespace winnow
