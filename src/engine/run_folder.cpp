#include "winnow/engine/run_folder.h"

#include <ctime>
#include <filesystem>

#include <fmt/format.h>

#include "winnow/report/files.h"

namespace winnow {
namespace fs = std::filesystem;

std::string default_run_dir(const std::string& method) {
  std::time_t now = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", std::localtime(&now));
  return (fs::path("runs") / fmt::format("{}-{}", stamp, method)).string();
}

void write_run_config(const std::string& out_dir, const Config& config, const std::string& command_line) {
  std::string text = fmt::format("# winnow {} — fully resolved configuration of this run\n", WINNOW_VERSION);
  if (!command_line.empty()) text += fmt::format("# command: {}\n", command_line);
  text += "\n" + config.resolved_toml() + "\n";
  atomic_write_text((fs::path(out_dir) / "config.toml").string(), text);
}

void write_metrics_jsonl(const std::string& out_dir, const nlohmann::ordered_json& metrics) {
  std::string text;
  for (const auto& line : metrics) text += line.dump() + "\n";
  atomic_write_text((fs::path(out_dir) / "metrics.jsonl").string(), text);
}

}  // namespace winnow
