// A property test over `--set`: random keys (the shipped configs' own, unknown ones, malformed
// ones) with random values (every TOML type, edge numbers, NaN, malformed text), applied to
// the shipped configs. Every case must either resolve or give a winnow::Error (a clear
// message naming the key); a LibTorch or standard exception escaping, or a crash, fails. A
// sample of the cases that resolve is then trained for real (one epoch, a few hundred
// samples) through the CLI, which must exit 0 or 1 with a message, never die of a signal.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <map>
#include <set>
#include <sstream>

#include "test_helpers.h"
#include "winnow/core/config.h"
#include "winnow/core/error.h"
#include "winnow/engine/run_setup.h"

using winnow::Config;

namespace {

namespace fs = std::filesystem;

std::vector<std::string> shipped_configs() {
  std::vector<std::string> paths;
  for (const auto& entry : fs::directory_iterator(std::string(WINNOW_SOURCE_DIR) + "/configs")) {
    if (entry.path().extension() == ".toml") paths.push_back(entry.path().string());
  }
  std::sort(paths.begin(), paths.end());
  return paths;
}

// Every key the shipped configs resolve to ("section.key"), with its resolved value as TOML.
std::vector<std::pair<std::string, std::string>> known_keys(const std::vector<std::string>& configs) {
  std::map<std::string, std::string> keys;
  for (const auto& path : configs) {
    Config config = Config::from_file(path);
    try {
      const auto resolved = toml::parse(winnow::resolve_without_data(config));
      for (const auto& [section, table] : resolved) {
        if (!table.is_table()) continue;
        for (const auto& [key, value] : *table.as_table()) {
          std::ostringstream text;
          value.visit([&](const auto& node) { text << toml::toml_formatter{node}; });
          keys[std::string(section.str()) + "." + std::string(key.str())] = text.str();
        }
      }
    } catch (const winnow::Error&) {
      // A config for data that is not here: its keys come from the others.
    }
  }
  return {keys.begin(), keys.end()};
}

// A value near a key's resolved one, of the same type: the cases that pass the type check and
// reach each option's own validation.
std::string nearby(const std::string& value, std::mt19937& random) {
  auto pick = [&](std::vector<std::string> options) { return options[random() % options.size()]; };
  if (value == "true" || value == "false") return value == "true" ? "false" : "true";
  if (!value.empty() && (value[0] == '"' || value[0] == '\'')) return pick({"\"auto\"", "\"none\"", value, "\"x\""});
  if (!value.empty() && value[0] == '[') return pick({"[]", value, "[0]", "[2, 1]"});
  char* end = nullptr;
  const double v = std::strtod(value.c_str(), &end);
  if (end == value.c_str()) return value;
  if (value.find_first_of(".eE") == std::string::npos && value != "nan" && value != "inf") {
    const auto n = static_cast<long long>(v);
    return pick({std::to_string(n), std::to_string(n + 1), std::to_string(n * 2), "0", "1", "-1", std::to_string(n / 2)});
  }
  return pick({fmt::format("{}", v * 0.5), fmt::format("{}", v * 2), "0.0", "1.0", fmt::format("{}", v + 0.1),
               fmt::format("{}", -v), "nan"});
}

const std::vector<std::string> kValues = {
    "0", "1", "-1", "2", "3", "7", "100", "1000000", "-1000000", "4611686018427387904", "0.0", "0.5", "1.0", "1.5",
    "-0.1", "1e-9", "1e9", "nan", "inf", "-inf", "true", "false", "auto", "none", "\"\"", "x", "mlp", "cnn4",
    "\"standard\"", "adam", "sgd", "[]", "[1]", "[0]", "[1, 2, 3]", "[-1]", "[0.5]", "[\"a\"]", "[true]", "[[1]]",
    "=", "[", "{a = 1}", "'unterminated", "1 2", "0x10", "1_000", "2026-12-01"};

const std::vector<std::string> kOddKeys = {"data", "data.", ".x", "a.b.c", "train.epochs.x", "nosuch.key",
                                           "train.no_such_key", "", "=", "model.name.x"};

std::string random_assignment(std::mt19937& random, const std::vector<std::pair<std::string, std::string>>& keys) {
  const int kind = static_cast<int>(random() % 10);
  if (kind >= 9) return kOddKeys[random() % kOddKeys.size()] + "=" + kValues[random() % kValues.size()];
  const auto& [key, value] = keys[random() % keys.size()];
  return key + "=" + (kind < 5 ? nearby(value, random) : kValues[random() % kValues.size()]);
}

struct Outcome {
  bool resolved = false;
  std::string failure;  // an exception that is not a winnow::Error
};

Outcome resolve(const std::string& config_path, const std::vector<std::string>& assignments) {
  Outcome outcome;
  try {
    Config config = Config::from_file(config_path);
    for (const auto& a : assignments) config.set_override(a);
    winnow::resolve_without_data(config);
    config.check_unknown();
    outcome.resolved = true;
  } catch (const winnow::Error&) {
  } catch (const std::exception& e) {
    outcome.failure = e.what();
  }
  return outcome;
}

}  // namespace

TEST(ConfigProperty, RandomSetOverridesResolveOrGiveAClearError) {
  const auto configs = shipped_configs();
  const auto keys = known_keys(configs);
  ASSERT_GT(keys.size(), 60u);
  std::mt19937 random(2026);
  int resolved = 0, refused = 0;
  std::vector<std::pair<std::string, std::string>> survivors;  // (config, assignment)
  for (int i = 0; i < 500; ++i) {
    const std::string& config = configs[random() % configs.size()];
    std::vector<std::string> assignments;
    const int n = random() % 5 < 3 ? 1 : 2 + static_cast<int>(random() % 2);
    for (int j = 0; j < n; ++j) assignments.push_back(random_assignment(random, keys));
    const Outcome outcome = resolve(config, assignments);
    std::string joined;
    for (const auto& a : assignments) joined += " --set '" + a + "'";
    EXPECT_TRUE(outcome.failure.empty()) << fs::path(config).filename() << joined << ": not a winnow::Error: "
                                         << outcome.failure.substr(0, 300);
    if (outcome.resolved) {
      ++resolved;
      if (assignments.size() == 1) survivors.emplace_back(config, assignments[0]);
    } else {
      ++refused;
    }
  }
  std::printf("%d cases resolved, %d refused with a winnow::Error\n", resolved, refused);
  // Both kinds of outcome occur: the test exercises validation and accepted values alike.
  EXPECT_GT(resolved, 30);
  EXPECT_GT(refused, 100);

  // A sample of the accepted single overrides, trained for real on a small slice.
  std::shuffle(survivors.begin(), survivors.end(), random);
  int ran = 0;
  for (const auto& [config, assignment] : survivors) {
    if (ran == 12) break;
    if (Config::from_file(config).get<std::string>("data.name", "fashion-mnist") != "fashion-mnist") continue;
    // Not the ones that would make a one-epoch run long (sizes, counts) or need other hardware.
    bool long_or_elsewhere = assignment.rfind("train.device", 0) == 0 || assignment.rfind("data.root", 0) == 0;
    for (const char* big : {"=1000000", "=4611686018427387904", "=1e9", "=inf", "=1_000"}) {
      const std::string tail(big);
      long_or_elsewhere |= assignment.size() >= tail.size() &&
                           assignment.compare(assignment.size() - tail.size(), tail.size(), tail) == 0;
    }
    if (long_or_elsewhere) continue;
    ++ran;
    winnow_test::TempDir dir("property");
    const auto result = winnow_test::run_cli(
        "train --config " + config + " --set '" + assignment + "' --set data.subset=300 --set train.epochs=1 "
        "--set train.threads=1 --set train.eval_batch_size=256 --quiet --out " + (dir / "run"));
    EXPECT_TRUE(result.status == 0 || (result.status == 1 && result.output.find("winnow: error") != std::string::npos))
        << fs::path(config).filename() << " --set '" << assignment << "': status " << result.status << "\n"
        << result.output.substr(0, 600);
  }
  EXPECT_GE(ran, 8);
}
