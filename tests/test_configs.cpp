// Every ready config in configs/ resolves without unknown keys or bad values, so the
// shipped examples never rot.
#include <gtest/gtest.h>

#include <filesystem>

#include "winnow/core/config.h"
#include "winnow/engine/run_setup.h"

TEST(Configs, EveryShippedConfigResolves) {
  int checked = 0;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(WINNOW_SOURCE_DIR) + "/configs")) {
    if (entry.path().extension() != ".toml") continue;
    SCOPED_TRACE(entry.path().string());
    auto config = winnow::Config::from_file(entry.path().string());
    // custom-data keys are read by the data loader, not needed here: resolve_without_data
    // reads every key of [train], [data], [noise], [model], [loss], [method] and [optim].
    EXPECT_NO_THROW({
      winnow::resolve_without_data(config);
      config.check_unknown();
    });
    ++checked;
  }
  EXPECT_GE(checked, 5);
}
