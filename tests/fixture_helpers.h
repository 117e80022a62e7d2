#pragma once
// Shared by the tests that check winnow against numbers a reference library produced
// (tests/data/*.json, each saying how it was made) and that check error messages.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "winnow/core/error.h"

namespace winnow_test {

// tests/data/<name>, parsed; a missing file fails the calling test with its name.
inline nlohmann::json load_fixture(const std::string& name) {
  std::ifstream in(std::string(WINNOW_SOURCE_DIR) + "/tests/data/" + name);
  EXPECT_TRUE(in.good()) << "tests/data/" << name << " is missing";
  return nlohmann::json::parse(in);
}

// The message of the winnow::Error that `f` throws, or a note that it threw none.
template <typename F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const winnow::Error& e) {
    return e.what();
  }
  return "(no winnow::Error thrown)";
}

}  // namespace winnow_test
