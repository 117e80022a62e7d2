#pragma once
// Shared by the libFuzzer harnesses: a per-process scratch folder, writing the input to a file
// there (the loaders take paths), and the one rule every harness checks: a loader either
// succeeds or throws winnow::Error. Any other exception (c10::Error, std::out_of_range, ...)
// escapes the harness, std::terminate aborts, and libFuzzer records the input as a crash.
#include <torch/torch.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "winnow/core/error.h"

namespace winnow_fuzz {

// /tmp/winnow-fuzz-<name>-<pid>: created once, removed at exit. Paths inside it are reused
// for every input, so a run writes no more than a few files.
inline const std::filesystem::path& scratch() {
  static const std::filesystem::path dir = [] {
    auto path = std::filesystem::temp_directory_path() / ("winnow-fuzz-" + std::to_string(::getpid()));
    std::filesystem::remove_all(path);
    std::filesystem::create_directories(path);
    std::atexit([] {
      std::error_code ignored;
      std::filesystem::remove_all(std::filesystem::temp_directory_path() /
                                      ("winnow-fuzz-" + std::to_string(::getpid())),
                                  ignored);
    });
    return path;
  }();
  return dir;
}

inline std::string scratch_path(const std::string& name) { return (scratch() / name).string(); }

inline void write_file(const std::string& path, const void* data, size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out) {
    std::fprintf(stderr, "fuzz harness: cannot write %s\n", path.c_str());
    std::abort();
  }
}

inline void write_file(const std::string& path, std::string_view text) { write_file(path, text.data(), text.size()); }

// One intra-op thread: the loaders' parallel_for then runs inline, and a run uses one core.
inline void init_torch() { torch::set_num_threads(1); }

// Runs `load`; winnow::Error is the accepted failure. Anything else is reported and aborts.
template <typename F>
void expect_success_or_winnow_error(F&& load) {
  try {
    load();
  } catch (const winnow::Error&) {
    // A clear message for a malformed file: what the loaders promise.
  } catch (const std::exception& e) {
    std::fprintf(stderr, "\n*** not a winnow::Error: %s\n", e.what());
    std::abort();
  }
}

// The input split at NUL bytes (at most `parts` pieces; the last takes the rest).
inline std::vector<std::string> split_nul(const uint8_t* data, size_t size, size_t parts) {
  std::vector<std::string> out;
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (out.size() + 1 < parts) {
    const size_t at = rest.find('\0');
    if (at == std::string_view::npos) break;
    out.emplace_back(rest.substr(0, at));
    rest.remove_prefix(at + 1);
  }
  out.emplace_back(rest);
  return out;
}

}  // namespace winnow_fuzz
