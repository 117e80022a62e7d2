#pragma once
// The harness of the tests that check a resumed run against one never killed: train a config
// straight, and again killed after some epochs and resumed from its own folder.
#include <string>

#include "test_helpers.h"
#include "winnow/core/config.h"
#include "winnow/engine/trainer.h"

namespace winnow_test {

// Trains `config_text` into dir/straight; then into dir/resumed, stopped after `stop_after`
// epochs and resumed from that folder's config.toml and checkpoint. Returns the straight run.
inline winnow::RunResult train_straight_and_resumed(const std::string& config_text, const TempDir& dir,
                                                    int64_t stop_after) {
  auto straight_config = winnow::Config::from_string(config_text);
  winnow::RunOptions straight;
  straight.out_dir = dir / "straight";
  straight.progress = false;
  auto result = winnow::run_training(straight_config, straight);

  auto first_config = winnow::Config::from_string(config_text);
  winnow::RunOptions killed;
  killed.out_dir = dir / "resumed";
  killed.progress = false;
  killed.stop_after_epochs = stop_after;
  winnow::run_training(first_config, killed);

  auto resumed_config = winnow::Config::from_file(dir / "resumed/config.toml");
  winnow::RunOptions resume;
  resume.out_dir = dir / "resumed";
  resume.resume = true;
  resume.progress = false;
  winnow::run_training(resumed_config, resume);
  return result;
}

}  // namespace winnow_test
