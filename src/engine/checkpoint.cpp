#include "winnow/engine/checkpoint.h"

#include <filesystem>

#include "winnow/core/error.h"
#include "winnow/report/files.h"

namespace winnow {
namespace fs = std::filesystem;

namespace {
std::string checkpoint_dir(const std::string& run_dir) { return (fs::path(run_dir) / "checkpoint").string(); }
std::string trainer_file(const std::string& run_dir) {
  return (fs::path(checkpoint_dir(run_dir)) / "trainer.json").string();
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

  nlohmann::ordered_json trainer;
  trainer["format"] = kCheckpointFormat;
  trainer["winnow_version"] = WINNOW_VERSION;
  trainer["epochs_done"] = state.epochs_done;
  trainer["state_file"] = state_name;
  trainer["train_seconds"] = state.train_seconds;
  trainer["samples_trained"] = state.samples_trained;
  trainer["stopped_early"] = state.stopped_early;
  trainer["metrics"] = state.metrics;
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
    const int format = trainer.at("format").get<int>();
    require(format == kCheckpointFormat, "{}: checkpoint format {} is not supported (this winnow reads {})",
            path, format, kCheckpointFormat);
    TrainerState state;
    state.epochs_done = trainer.at("epochs_done").get<int64_t>();
    state.train_seconds = trainer.at("train_seconds").get<double>();
    state.samples_trained = trainer.at("samples_trained").get<int64_t>();
    state.stopped_early = trainer.at("stopped_early").get<bool>();
    state.metrics = trainer.at("metrics");
    const std::string state_path =
        (fs::path(checkpoint_dir(run_dir)) / trainer.at("state_file").get<std::string>()).string();
    torch::serialize::InputArchive archive;
    try {
      archive.load_from(state_path);
      method.load(archive);
    } catch (const c10::Error& e) {
      fail("{}: cannot load into this run's method (does config.toml match the run?): {}", state_path,
           e.what_without_backtrace());
    }
    return state;
  } catch (const nlohmann::json::exception& e) {
    fail("{}: malformed checkpoint record: {}", path, e.what());
  }
}

}  // namespace winnow
