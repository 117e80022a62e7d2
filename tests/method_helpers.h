#pragma once
// Shared by the method tests: build a method of a known type from a config text, train it a
// few epochs on an in-memory data set, and read values from its epoch logs.
#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "winnow/core/config.h"
#include "winnow/data/batcher.h"
#include "winnow/methods/method.h"

namespace winnow_test {

// The method `config_text` names, as a T; fails if it is another kind. One intra-op thread
// (tiny matrices: fastest and stable on shared cores) and the context's seed, as the trainer.
template <typename T>
std::unique_ptr<T> make_method_as(const winnow::TrainContext& context, const std::string& config_text) {
  torch::set_num_threads(1);
  auto config = winnow::Config::from_string(config_text);
  torch::manual_seed(context.seed);
  auto method = winnow::make_method(context, config);
  config.check_unknown();
  if (!dynamic_cast<T*>(method.get())) throw std::runtime_error("the config does not build the tested method");
  return std::unique_ptr<T>(static_cast<T*>(method.release()));
}

// The value logged under `key`; a test failure (and NaN) when there is none.
inline double value(const winnow::EpochLog& log, const std::string& key) {
  for (const auto& [k, v] : log.values()) {
    if (k == key) return v;
  }
  ADD_FAILURE() << "no " << key << " in the epoch log";
  return std::nan("");
}

// `epochs` epochs of batches of 64 in a seeded order; with `reseed`, torch's global
// generator is reseeded per epoch (for methods that draw from it, as MixMatch does).
inline std::vector<winnow::EpochLog> train_epochs(winnow::Method& method, const winnow::Dataset& data,
                                                  int64_t epochs, uint64_t seed, bool reseed = false) {
  winnow::Batcher batcher(data, 64, /*shuffle=*/true, seed);
  std::vector<winnow::EpochLog> logs;
  for (int64_t epoch = 0; epoch < epochs; ++epoch) {
    if (reseed) torch::manual_seed(seed * 1000 + epoch);
    batcher.begin_epoch(epoch);
    method.set_training(true);
    logs.push_back(method.train_epoch(epoch, batcher));
  }
  return logs;
}

}  // namespace winnow_test
