#include "winnow/engine/checkpoint.h"

#include <filesystem>

#include "core/zip_check.h"
#include "winnow/core/error.h"
#include "winnow/report/files.h"

namespace winnow {
namespace fs = std::filesystem;

namespace {
std::string checkpoint_dir(const std::string& run_dir) { return (fs::path(run_dir) / "checkpoint").string(); }
std::string trainer_file(const std::string& run_dir) {
  return (fs::path(checkpoint_dir(run_dir)) / "trainer.json").string();
}
std::string timing_file(const std::string& run_dir) {
  return (fs::path(checkpoint_dir(run_dir)) / "timing.json").string();
}

// Wall-clock measurements ("epoch_seconds", "communication_seconds", ...) differ between two
// runs of the same configuration; they are kept out of trainer.json and the state archive so
// that those two files are byte-identical for identical runs (and for a killed and resumed
// run), and live in timing.json.
bool is_timing(const std::string& key) {
  const std::string suffix = "_seconds";
  return key.size() >= suffix.size() && key.compare(key.size() - suffix.size(), suffix.size(), suffix) == 0;
}
}  // namespace

bool has_checkpoint(const std::string& run_dir) { return fs::exists(trainer_file(run_dir)); }

void save_checkpoint(const std::string& run_dir, const Method& method, const TrainerState& state) {
  const fs::path dir = checkpoint_dir(run_dir);
  fs::create_directories(dir);
  const std::string state_name = fmt::format("state-{:06d}.pt", state.epochs_done);
  torch::serialize::OutputArchive archive;
  method.save(archive);
  atomic_save_archive((dir / state_name).string(), archive);

  nlohmann::ordered_json metrics = nlohmann::ordered_json::array();
  nlohmann::ordered_json timing;
  timing["train_seconds"] = state.train_seconds;
  timing["epochs"] = nlohmann::ordered_json::array();
  for (const auto& line : state.metrics) {
    nlohmann::ordered_json kept, times;
    for (const auto& [key, value] : line.items()) (is_timing(key) ? times : kept)[key] = value;
    metrics.push_back(kept);
    timing["epochs"].push_back(times);
  }
  atomic_write_text(timing_file(run_dir), timing.dump(1) + "\n");

  // Written last: naming the state file, it commits the checkpoint.
  nlohmann::ordered_json trainer;
  trainer["format"] = kCheckpointFormat;
  trainer["winnow_version"] = WINNOW_VERSION;
  trainer["epochs_done"] = state.epochs_done;
  trainer["state_file"] = state_name;
  trainer["samples_trained"] = state.samples_trained;
  trainer["stopped_early"] = state.stopped_early;
  trainer["metrics"] = metrics;
  atomic_write_text(trainer_file(run_dir), trainer.dump(1) + "\n");

  // Older state files are no longer named by trainer.json.
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name != state_name && name.rfind("state-", 0) == 0) fs::remove(entry.path());
  }
}

TrainerState load_checkpoint(const std::string& run_dir, Method& method) {
  const std::string path = trainer_file(run_dir);
  require(fs::exists(path), "{}: no checkpoint to resume from (expected {})", run_dir, path);
  auto trainer = read_json(path);
  try {
    // get<int64_t>() converts a JSON float unchecked (undefined beyond int64): integers only.
    auto integer = [&](const char* key) {
      const auto& value = trainer.at(key);
      require(value.is_number_integer(), "{}: malformed checkpoint record: {} = {} is not an integer", path, key,
              value.dump());
      return value.get<int64_t>();
    };
    const int64_t format = integer("format");
    require(format == kCheckpointFormat, "{}: checkpoint format {} is not supported (this winnow reads {})",
            path, format, kCheckpointFormat);
    TrainerState state;
    state.epochs_done = integer("epochs_done");
    state.samples_trained = integer("samples_trained");
    state.stopped_early = trainer.at("stopped_early").get<bool>();
    state.metrics = trainer.at("metrics");
    // The measured times come back from timing.json where it covers these epochs (it is
    // written just before trainer.json; a kill between the two leaves it one epoch ahead).
    const std::string timing_path = timing_file(run_dir);
    if (trainer.contains("train_seconds")) state.train_seconds = trainer["train_seconds"].get<double>();
    if (fs::exists(timing_path)) {
      const auto timing = read_json(timing_path);
      const auto& epochs = timing.at("epochs");
      if (epochs.size() >= state.metrics.size()) {
        for (size_t i = 0; i < state.metrics.size(); ++i) {
          for (const auto& [key, value] : epochs[i].items()) state.metrics[i][key] = value;
        }
        // The training time up to the checkpoint's epoch: the sum of its epochs' times where
        // timing.json is ahead, else its total.
        state.train_seconds = timing.at("train_seconds").get<double>();
        if (epochs.size() > state.metrics.size()) {
          double sum = 0;
          for (size_t i = 0; i < state.metrics.size(); ++i) sum += epochs[i].value("epoch_seconds", 0.0);
          state.train_seconds = sum;
        }
      }
    }
    const std::string state_path =
        (fs::path(checkpoint_dir(run_dir)) / trainer.at("state_file").get<std::string>()).string();
    torch::serialize::InputArchive archive;
    try {
      // LibTorch reads records without checking their CRCs, and may crash on a damaged one.
      detail::check_zip_archive(state_path, "state archive");
      archive.load_from(state_path);
      method.load(archive);
    } catch (const c10::Error& e) {
      fail("{}: cannot load into this run's method (does config.toml match the run?): {}", state_path,
           e.what_without_backtrace());
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      // LibTorch's unpickler throws std::out_of_range (and others) on a corrupt archive.
      fail("{}: cannot load the state archive (a corrupt file?): {}", state_path, e.what());
    }
    return state;
  } catch (const nlohmann::json::exception& e) {
    fail("{}: malformed checkpoint record: {}", path, e.what());
  }
}

}  // namespace winnow
