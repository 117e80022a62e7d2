#pragma once
// Predicted probabilities for every training sample from networks that did not fit its label:
// what confident learning needs (Northcutt et al. 2021, Sec. 3: "out-of-sample predicted
// probabilities", obtained by K-fold cross-validation).
//
// Two protocols:
//   crossfit    K folds (default 5): for each fold, the method of the configuration is trained
//               on the other K - 1 folds and predicts the held-out one. Cost: epochs * (K - 1)
//               passes over the training set.
//   single_run  one run of the method on every sample; its in-sample probabilities, taken
//               before it memorises the wrong labels (Arpit et al. 2017: networks fit the
//               clean, easy patterns first). Cost: epochs passes. Not out-of-sample: a cheaper
//               approximation, for the anchor-point estimator of T and for "auto" options.
// Either way the snapshot is taken at the epoch of best accuracy on the noisy validation
// split (the noisy-label accuracy peaks where the clean one does, for noise that is not
// adversarial; no truth is needed), or at the last epoch where there is no validation split;
// or ("average") the probabilities are averaged over all epochs, a temporal ensemble.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "winnow/core/config.h"
#include "winnow/core/execution.h"
#include "winnow/data/batcher.h"
#include "winnow/data/dataset.h"

namespace winnow {

class NoiseSource;

struct OutOfSampleOptions {
  std::string protocol = "crossfit";  // "crossfit" | "single_run"
  int64_t folds = 5;
  int64_t epochs = 10;                // per fold, or of the single run
  std::string select_epoch = "best_val";  // "best_val" | "last" | "average" (over all epochs)
  int64_t batch_size = 128;
  int64_t eval_batch_size = 1024;
  uint64_t seed = 1;
  torch::Device device = torch::kCPU;
  Execution execution;  // of the fitted networks (the run's train.precision, channels_last)
  AugmentOptions augment;
  bool progress = false;
  // Where finished folds are kept (fold-<k>.pt) and taken from on a rerun with the same
  // `fingerprint`: an interrupted cross-fit loses at most one fold. Empty: nothing kept.
  std::string cache_dir;
  std::string fingerprint;
};

struct OutOfSampleProbabilities {
  torch::Tensor probs;                 // float64 [N, K], rows in the order of the training set
  std::vector<int64_t> chosen_epochs;  // per fold (one entry for single_run), 1-based
  double cost_epochs = 0;              // passes over the training set, per network
  std::string description;
};

// Trains the method that `config` names ([method], [model], [loss], [optim]) as `options`
// say on `train` (validating on `val`, which may be empty) and returns the probabilities.
// `noise` answers the method's "auto" options (it may be null).
OutOfSampleProbabilities out_of_sample_probabilities(const Dataset& train, const Dataset& val, Config& config,
                                                     const OutOfSampleOptions& options,
                                                     std::shared_ptr<NoiseSource> noise = nullptr);

// The fold of each of `n` samples (int64 [n] in [0, folds)): a seeded permutation, stratified
// by label so every fold sees every class in proportion (as scikit-learn's StratifiedKFold,
// which cleanlab uses).
torch::Tensor stratified_folds(const torch::Tensor& labels, int64_t folds, uint64_t seed);

}  // namespace winnow
