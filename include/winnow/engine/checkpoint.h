#pragma once
// Checkpoints: checkpoint/state-<epoch>.pt holds the method's state (weights, optimizer
// moments with position-based keys, per-sample state); checkpoint/trainer.json names that file
// and holds the epoch count and the metrics so far; checkpoint/timing.json holds what was
// measured by the clock (training time, per-epoch seconds). The state file and trainer.json
// are byte-identical for identical runs and for a run killed (even with -9) and resumed; only
// timing.json differs. Each file is written atomically (and synced) and trainer.json last, so
// a run killed at any moment leaves a consistent last checkpoint.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "winnow/methods/method.h"

namespace winnow {

struct TrainerState {
  int64_t epochs_done = 0;
  double train_seconds = 0;
  int64_t samples_trained = 0;
  nlohmann::ordered_json metrics = nlohmann::ordered_json::array();  // one object per finished epoch
  bool stopped_early = false;
};

constexpr int kCheckpointFormat = 1;

void save_checkpoint(const std::string& run_dir, const Method& method, const TrainerState& state);
// Loads the last checkpoint of `run_dir` into `method`; throws winnow::Error naming the
// file when there is none or it does not fit the method.
TrainerState load_checkpoint(const std::string& run_dir, Method& method);
bool has_checkpoint(const std::string& run_dir);

}  // namespace winnow
