#pragma once
// What the trainer needs to run one job in several processes (dist/): fingerprints that every
// rank must share before training, and the run's view of the ranks' epoch logs.
#include <string>

#include "winnow/core/config.h"
#include "winnow/engine/data_setup.h"
#include "winnow/methods/method.h"

namespace winnow {

// A short digest of the configuration as given (file and --set), the same on ranks that were
// started alike.
std::string config_fingerprint(const Config& config);
// Sizes and checksums of the prepared splits (labels after the noise simulation, inputs).
std::string data_fingerprint(const PreparedData& data);
// Each value of `log` averaged over the ranks: every rank trains on its shard of the same
// global batches, so the mean of the shards' losses and accuracies is the run's.
EpochLog average_log(const EpochLog& log);

}  // namespace winnow
