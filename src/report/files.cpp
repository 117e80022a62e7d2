#include "winnow/report/files.h"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "winnow/core/error.h"

namespace winnow {
namespace {

std::string temp_path_for(const std::string& path) {
  return path + ".tmp." + std::to_string(::getpid());
}

void commit(const std::string& temp, const std::string& path) {
  std::error_code ec;
  std::filesystem::rename(temp, path, ec);
  if (ec) {
    std::filesystem::remove(temp, ec);
    fail("cannot write {}: rename failed", path);
  }
}

}  // namespace

void atomic_write_text(const std::string& path, const std::string& text) {
  const std::string temp = temp_path_for(path);
  {
    std::ofstream out(temp, std::ios::binary | std::ios::trunc);
    if (!out) fail("cannot write {}: cannot open {} for writing", path, temp);
    out << text;
    out.flush();
    if (!out) fail("cannot write {}: write failed (disk full?)", path);
  }
  commit(temp, path);
}

void atomic_write_json(const std::string& path, const nlohmann::json& value) {
  atomic_write_text(path, value.dump(2) + "\n");
}

void atomic_save_archive(const std::string& path, torch::serialize::OutputArchive& archive) {
  const std::string temp = temp_path_for(path);
  try {
    archive.save_to(temp);
  } catch (const c10::Error& e) {
    fail("cannot write {}: {}", path, e.what_without_backtrace());
  }
  commit(temp, path);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot read {}: no such file or not readable", path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

nlohmann::ordered_json read_json(const std::string& path) {
  try {
    return nlohmann::ordered_json::parse(read_text(path));
  } catch (const nlohmann::json::parse_error& e) {
    fail("{}: not valid JSON: {}", path, e.what());
  }
}

nlohmann::json json_number(double value) {
  if (!std::isfinite(value)) return nullptr;
  return value;
}

}  // namespace winnow
