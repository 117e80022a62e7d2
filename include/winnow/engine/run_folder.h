#pragma once
// The files every run folder shares, whatever loop filled it (the Trainer, the adaptation
// runner): its default name, config.toml and metrics.jsonl. Each write is atomic.
#include <string>

#include <nlohmann/json.hpp>

#include "winnow/core/config.h"

namespace winnow {

// runs/<date>-<time>-<method>
std::string default_run_dir(const std::string& method);
// config.toml: the fully resolved configuration, with the version and the command line.
void write_run_config(const std::string& out_dir, const Config& config, const std::string& command_line);
// metrics.jsonl: one JSON object per line.
void write_metrics_jsonl(const std::string& out_dir, const nlohmann::ordered_json& metrics);

}  // namespace winnow
