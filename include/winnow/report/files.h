#pragma once
// Run-folder writers. Every write is atomic (a temporary file in the same folder, then a
// rename), so a killed run never leaves a half-written file behind.
#include <string>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

namespace winnow {

void atomic_write_text(const std::string& path, const std::string& text);
void atomic_write_json(const std::string& path, const nlohmann::json& value);
void atomic_save_archive(const std::string& path, torch::serialize::OutputArchive& archive);
std::string read_text(const std::string& path);
nlohmann::ordered_json read_json(const std::string& path);

// NaN and infinities are not JSON; they are written as null.
nlohmann::json json_number(double value);

}  // namespace winnow
