#pragma once
// The [estimate] section and the whole estimation pass: out-of-sample probabilities
// (estimate/out_of_sample.h), then confident learning or anchor points on them. Shared by
// `winnow inspect` and by the "auto" options of `winnow train`.
//
//   [estimate]
//   protocol     "crossfit" | "single_run"    how the probabilities are obtained
//   folds        5                            crossfit folds
//   epochs       10                           per fold / of the single run
//   select_epoch "best_val" | "last" | "average"   which epoch's probabilities (average: the
//                                             mean over all epochs, a temporal ensemble)
//   recipe       "ce" | "config"              "ce": the configured model trained with cross
//                                             entropy and Adam (lr 1e-3); "config": the method,
//                                             loss and optimizer of the configuration
//   estimator    "confident_learning" | "anchor"   how T and the rate follow from them
//   lr           0.001                        Adam's learning rate of the "ce" recipe
#include <memory>
#include <string>

#include "winnow/core/config.h"
#include "winnow/data/dataset.h"
#include "winnow/estimate/noise_estimate.h"
#include "winnow/estimate/out_of_sample.h"

namespace winnow {

class NoiseSource;

struct EstimateOptions {
  std::string protocol = "crossfit";
  int64_t folds = 5;
  int64_t epochs = 10;
  std::string select_epoch = "best_val";
  std::string recipe = "ce";
  std::string estimator = "confident_learning";
  double lr = 1e-3;

  // Reads [estimate] with `defaults` for what is unset; validates.
  static EstimateOptions from_config(Config& config, const EstimateOptions& defaults);
  std::string describe() const;
};

struct EstimationResult {
  OutOfSampleProbabilities probabilities;
  NoiseEstimate estimate;
};

// Runs the estimation on `train` (validating on `val`). `base` carries the batch sizes,
// seed, device, augmentation, progress and cache folder; `config` is the run's configuration
// (read only for the "config" recipe, where the method's own options are read from it).
EstimationResult estimate_noise(const Dataset& train, const Dataset& val, Config& config,
                                const EstimateOptions& options, OutOfSampleOptions base,
                                std::shared_ptr<NoiseSource> noise = nullptr);

}  // namespace winnow
