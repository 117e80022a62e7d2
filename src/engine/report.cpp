#include "winnow/engine/report.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "winnow/core/config.h"
#include "winnow/core/error.h"
#include "winnow/engine/data_setup.h"
#include "winnow/report/files.h"
#include "winnow/report/png.h"

namespace winnow {
namespace fs = std::filesystem;

namespace {

using json = nlohmann::ordered_json;

json read_if_present(const fs::path& path) { return fs::exists(path) ? read_json(path.string()) : json::object(); }

std::vector<json> read_metrics(const fs::path& path) {
  std::vector<json> lines;
  if (!fs::exists(path)) return lines;
  std::istringstream text(read_text(path.string()));
  std::string line;
  for (int64_t number = 1; std::getline(text, line); ++number) {
    if (line.empty()) continue;
    try {
      lines.push_back(json::parse(line));
    } catch (const nlohmann::json::exception& error) {
      fail("{}:{}: not a JSON line ({})", path.string(), number, error.what());
    }
  }
  return lines;
}

// samples.csv as written by report/samples.cpp; columns found by name.
std::vector<SampleRow> read_samples(const fs::path& path, bool& has_truth) {
  std::vector<SampleRow> rows;
  has_truth = false;
  if (!fs::exists(path)) return rows;
  std::istringstream text(read_text(path.string()));
  std::string line;
  require(static_cast<bool>(std::getline(text, line)), "{}: empty (expected a header line)", path.string());
  std::vector<std::string> header;
  {
    std::stringstream fields(line);
    std::string field;
    while (std::getline(fields, field, ',')) header.push_back(field);
  }
  auto column = [&](const char* name, bool required) -> int {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return static_cast<int>(i);
    }
    require(!required, "{}: no column '{}' in the header '{}'", path.string(), name, line);
    return -1;
  };
  const int rank = column("rank", true), index = column("index", true), given = column("given_label", true);
  const int predicted = column("predicted_label", true), score = column("clean_score", true);
  const int suspect = column("suspect", true), truth = column("true_label", false);
  has_truth = truth >= 0;
  std::vector<double> values(header.size());
  for (int64_t number = 2; std::getline(text, line); ++number) {
    if (line.empty()) continue;
    const char* p = line.c_str();
    for (size_t i = 0; i < header.size(); ++i) {
      char* end = nullptr;
      values[i] = std::strtod(p, &end);
      require(end != p && (*end == ',' || *end == '\0' || *end == '\r'),
              "{}:{}: field {} ('{}') is not a number", path.string(), number, i + 1, header[i]);
      p = *end == ',' ? end + 1 : end;
    }
    SampleRow row;
    row.rank = static_cast<int64_t>(values[rank]);
    row.index = static_cast<int64_t>(values[index]);
    row.given = static_cast<int64_t>(values[given]);
    row.predicted = static_cast<int64_t>(values[predicted]);
    row.clean_score = values[score];
    row.suspect = values[suspect] != 0;
    row.truth = truth >= 0 ? static_cast<int64_t>(values[truth]) : -1;
    rows.push_back(row);
  }
  return rows;
}

// The top suspects' training inputs, loaded again from the run's data as its config says
// (samples.csv's index is the position in the training file). Images only: [C, H, W] with
// C = 1 or 3.
void add_thumbnails(ReportRun& run, int64_t count) {
  if (count <= 0 || run.samples.empty()) return;
  const fs::path config_path = fs::path(run.dir) / "config.toml";
  if (!fs::exists(config_path)) {
    run.thumbnails_note = "Inputs not shown: the folder has no config.toml to find the data.";
    return;
  }
  try {
    Config config = Config::from_file(config_path.string());
    LoadedData data = load_data(DataOptions::from_config(config));
    if (run.class_names.empty()) run.class_names = data.train.class_names;
    const auto& inputs = data.train.inputs;
    if (inputs.dim() != 4 || (inputs.size(1) != 1 && inputs.size(1) != 3)) {
      run.thumbnails_note = "Inputs not shown: they are feature vectors, not images.";
      return;
    }
    for (size_t i = 0; i < run.samples.size() && static_cast<int64_t>(i) < count; ++i) {
      const auto& sample = run.samples[i];
      require(sample.index >= 0 && sample.index < inputs.size(0), "{}: sample index {} is outside the training data "
              "({} samples): the data changed since the run", run.dir, sample.index, inputs.size(0));
      run.thumbnails.push_back({png_data_uri(inputs[sample.index]), sample});
    }
  } catch (const Error& error) {
    run.thumbnails.clear();
    run.thumbnails_note = std::string("Inputs not shown: ") + error.what();
  }
}

std::string class_name(const ReportRun& run, int64_t k) {
  if (k < 0) return "?";
  return k < static_cast<int64_t>(run.class_names.size()) ? run.class_names[static_cast<size_t>(k)] : std::to_string(k);
}

double number(const json& record, const char* key) {
  auto it = record.find(key);
  return it != record.end() && it->is_number() ? it->get<double>() : std::nan("");
}

std::string percent(double value) { return std::isnan(value) ? "-" : fmt::format("{:.1f}%", 100 * value); }
std::string accuracy(double value) { return std::isnan(value) ? "-" : fmt::format("{:.2f}%", value); }

void print_runs(const std::vector<ReportRun>& runs, int64_t suspects) {
  fmt::print("{:<34} {:>10} {:>10} {:>9} {:>9} {:>9} {:>7} {:>7} {:>7}\n", "run", "best test", "final test",
             "true rate", "est. rate", "suspects", "P", "R", "F1");
  for (const auto& run : runs) {
    const json detection = run.summary.contains("detection") ? run.summary["detection"] : json::object();
    const double truth = std::isnan(number(run.summary, "actual_noise_rate")) ? number(run.noise, "actual_rate")
                                                                             : number(run.summary, "actual_noise_rate");
    int64_t flagged = 0;
    for (const auto& s : run.samples) flagged += s.suspect;
    auto three = [](double v) { return std::isnan(v) ? std::string("-") : fmt::format("{:.3f}", v); };
    fmt::print("{:<34} {:>10} {:>10} {:>9} {:>9} {:>9} {:>7} {:>7} {:>7}\n", run.name,
               accuracy(number(run.summary, "best_test_accuracy")), accuracy(number(run.summary, "final_test_accuracy")),
               percent(truth), percent(number(run.estimate, "noise_rate")), flagged,
               three(number(detection, "precision")), three(number(detection, "recall")), three(number(detection, "f1")));
  }
  if (suspects <= 0) return;
  for (const auto& run : runs) {
    if (run.samples.empty()) continue;
    fmt::print("\ntop {} suspects of {} (given -> predicted{}):\n", std::min<int64_t>(suspects, run.samples.size()),
               run.name, run.has_truth ? "; true" : "");
    for (size_t i = 0; i < run.samples.size() && static_cast<int64_t>(i) < suspects; ++i) {
      const auto& s = run.samples[i];
      fmt::print("  #{:<3} index {:>6}  {:>14} -> {:<14}{}  score {:.3g}\n", s.rank, s.index, class_name(run, s.given),
                 class_name(run, s.predicted),
                 s.truth < 0 ? std::string() : fmt::format("  true {:<14}{}", class_name(run, s.truth),
                                                           s.truth != s.given ? " (wrong label)" : " (label right)"),
                 s.clean_score);
    }
  }
}

}  // namespace

ReportRun read_report_run(const std::string& dir, int64_t thumbnails) {
  const fs::path folder(dir);
  require(fs::is_directory(folder), "{}: no such run folder", dir);
  ReportRun run;
  run.dir = dir;
  run.name = fs::absolute(folder).lexically_normal().filename().string();
  if (run.name.empty()) run.name = fs::absolute(folder).lexically_normal().parent_path().filename().string();
  run.summary = read_if_present(folder / "summary.json");
  run.noise = read_if_present(folder / "noise.json");
  run.estimate = read_if_present(folder / "estimate.json");
  if (run.estimate.empty() && run.summary.contains("noise_estimate")) run.estimate = run.summary["noise_estimate"];
  run.metrics = read_metrics(folder / "metrics.jsonl");
  run.samples = read_samples(folder / "samples.csv", run.has_truth);
  require(!run.summary.empty() || !run.metrics.empty() || !run.samples.empty(),
          "{}: not a run folder (none of summary.json, metrics.jsonl, samples.csv)", dir);
  if (run.summary.contains("class_names")) run.class_names = run.summary["class_names"].get<std::vector<std::string>>();
  add_thumbnails(run, thumbnails);
  // An inspect folder names its classes only in estimate.json's per-class rates.
  if (run.class_names.empty() && run.estimate.contains("per_class_noise_rate")) {
    for (const auto& [name, value] : run.estimate["per_class_noise_rate"].items()) run.class_names.push_back(name);
  }
  return run;
}

std::vector<ReportRun> write_report(const ReportOptions& options) {
  require(!options.runs.empty(), "winnow report needs at least one run folder");
  require(!options.out.empty(), "winnow report needs --out FILE.html");
  std::vector<ReportRun> runs;
  for (const auto& dir : options.runs) runs.push_back(read_report_run(dir, options.thumbnails));
  // Two runs of the same folder name (runs/a/x and runs/b/x) get distinct anchors.
  for (size_t i = 0; i < runs.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (runs[j].name == runs[i].name) runs[i].name += fmt::format(" ({})", i + 1);
    }
  }
  const fs::path out(options.out);
  if (out.has_parent_path()) fs::create_directories(out.parent_path());
  atomic_write_text(options.out, render_report(runs, options.title));
  if (options.print) print_runs(runs, options.print_suspects);
  return runs;
}

}  // namespace winnow
