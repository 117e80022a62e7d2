#pragma once
// What every run command shares: thread count, device, data, and the method built on them.
#include <cstdint>
#include <memory>
#include <string>

#include "winnow/core/config.h"
#include "winnow/engine/data_setup.h"
#include "winnow/methods/method.h"

namespace winnow {

struct TrainSettings {
  int64_t epochs = 0;
  int64_t batch_size = 0;
  int64_t eval_batch_size = 0;
  uint64_t seed = 0;
  int64_t threads = 0;
  torch::Device device = torch::kCPU;
  int64_t patience = 0;           // early stopping; 0: off
  std::string monitor;            // "val_accuracy" or "val_loss"
};

// Reads [train] and applies the thread count.
TrainSettings read_train_settings(Config& config);

struct RunSetup {
  TrainSettings settings;
  PreparedData data;
  std::unique_ptr<Method> method;
};

// Reads the whole configuration, loads the data and builds the method (weights seeded by
// train.seed); then rejects keys nobody read. Held by pointer: the method keeps a pointer
// to the training data.
// `output_dir` (the run folder) is handed to the method through TrainContext.
std::unique_ptr<RunSetup> build_run(Config& config, const std::string& output_dir = {});

}  // namespace winnow

namespace winnow {
// The resolved configuration `config` gives without loading any data (the model is built
// for 1x28x28 inputs and 10 classes): what --help shows as the defaults.
std::string resolve_without_data(Config& config);
}  // namespace winnow
