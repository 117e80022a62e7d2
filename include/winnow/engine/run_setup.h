#pragma once
// What every run command shares: thread count, device, data, and the method built on them.
#include <cstdint>
#include <memory>
#include <string>

#include "winnow/core/config.h"
#include "winnow/engine/data_setup.h"
#include "winnow/estimate/estimate_noise.h"
#include "winnow/estimate/noise_source.h"
#include "winnow/methods/method.h"

namespace winnow {

struct TrainSettings {
  int64_t epochs = 0;
  int64_t batch_size = 0;
  int64_t eval_batch_size = 0;
  uint64_t seed = 0;
  int64_t threads = 0;
  bool sync_batchnorm = false;  // batch norm over the global batch in a multi-process run
  std::string gradient_compression = "none";  // "fp16": gradients all-reduced as fp16
  torch::Device device = torch::kCPU;
  int64_t patience = 0;           // early stopping; 0: off
  std::string monitor;            // "val_accuracy" or "val_loss"
  // train.precision and train.channels_last as configured ("auto" by default), and what they
  // resolve to for the configured model on this machine (resolve_run_execution).
  std::string precision;
  std::string channels_last;
  Execution execution;
};

// Reads [train] and applies the thread count.
TrainSettings read_train_settings(Config& config);

// Resolves settings.precision / channels_last for the configured model (core/execution.h's
// rule; whether the model is convolutional is asked of a throwaway instance built from a copy
// of `config`). Call before seeding the weights: the throwaway draws from the global generator.
Execution resolve_run_execution(const TrainSettings& settings, const Config& config, const ModelSpec& spec);

struct RunSetup {
  TrainSettings settings;
  PreparedData data;
  // Answers the method's noise-dependent options; has_estimate() when one was needed.
  std::shared_ptr<NoiseSource> noise_source;
  std::unique_ptr<Method> method;
};

// The [estimate] defaults of `winnow train`'s "auto" options: a cheap pass (see
// estimate/estimate_noise.h for the keys; `winnow inspect` has its own, thorough defaults).
EstimateOptions train_estimate_defaults();

// Reads the whole configuration, loads the data and builds the method (weights seeded by
// train.seed); then rejects keys nobody read. Held by pointer: the method keeps a pointer
// to the training data.
// `output_dir` (the run folder) is handed to the method through TrainContext. Where
// `estimate_dir` holds an estimate.json (a resumed or evaluated run), the "auto" options take
// it instead of estimating again. With `estimate` false "auto" options are only resolved,
// not estimated (`train --print-config` trains nothing).
std::unique_ptr<RunSetup> build_run(Config& config, const std::string& output_dir = {},
                                    const std::string& estimate_dir = {}, bool estimate = true);

// The batch sizes, seed, device and augmentation of the estimation passes: the run's own.
OutOfSampleOptions out_of_sample_base(const TrainSettings& settings, const PreparedData& data, bool progress);

// The NoiseSource of a run on `data`: the simulation's rate and type where there is one, and
// an estimator (as `options` say) that trains on data.train / data.val, or reads
// `estimate_dir`/estimate.json where that exists. With `estimate` false, a source that only
// resolves the configuration (NoiseSource::resolve_only).
std::shared_ptr<NoiseSource> make_noise_source(Config& config, const PreparedData& data, const TrainSettings& settings,
                                               const EstimateOptions& options, bool progress,
                                               const std::string& estimate_dir = {}, bool estimate = true);

}  // namespace winnow

namespace winnow {
// The resolved configuration `config` gives without loading any data (the model is built
// for 1x28x28 inputs and 10 classes): what --help shows as the defaults.
std::string resolve_without_data(Config& config);
}  // namespace winnow
