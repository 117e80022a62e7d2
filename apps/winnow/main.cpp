// The winnow command-line tool: parses, builds a Config, calls the library. Every
// winnow::Error becomes one clear line on stderr and exit status 1.
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>

#include "winnow/adapt/adaptation.h"
#include "winnow/core/error.h"
#include "winnow/core/interrupt.h"
#include "winnow/dist/launch.h"
#include "winnow/dist/process_group.h"
#include "winnow/engine/adapt_run.h"
#include "winnow/engine/data_setup.h"
#include "winnow/engine/inspect.h"
#include "winnow/engine/predict.h"
#include "winnow/engine/report.h"
#include "winnow/engine/run_setup.h"
#include "winnow/engine/trainer.h"
#include "winnow/losses/loss.h"
#include "winnow/methods/method.h"
#include "winnow/models/network.h"
#include "winnow/noise/noise.h"
#include "winnow/optim/optimizer.h"
#include "winnow/report/files.h"

namespace fs = std::filesystem;
using namespace winnow;

namespace {

std::string join_command_line(int argc, char** argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) {
    if (i) out += ' ';
    std::string arg = argv[i];
    out += arg.find(' ') == std::string::npos ? arg : "'" + arg + "'";
  }
  return out;
}

// "rank 1: " in a multi-process job, where several processes may print errors.
std::string rank_prefix() {
  return dist::world_size() > 1 ? fmt::format("rank {}: ", dist::rank()) : std::string();
}

Config load_config(const std::string& path, const std::vector<std::string>& overrides) {
  Config config = path.empty() ? Config() : Config::from_file(path);
  for (const auto& assignment : overrides) config.set_override(assignment);
  return config;
}

template <typename RegistryType>
void print_registry(const std::string& title) {
  fmt::print("{}:\n", title);
  for (const auto& [name, entry] : RegistryType::instance().entries()) {
    fmt::print("  {:<18} {}\n", name, entry.description);
  }
}

std::string defaults_footer() {
  try {
    Config config;
    return "\nConfiguration keys and their defaults (TOML; override any with --set section.key=value;\n"
           "each loss, model, method and noise type adds its own keys, see `winnow list`):\n\n" +
           resolve_without_data(config);
  } catch (const std::exception& e) {
    return std::string("\n(defaults unavailable: ") + e.what() + ")\n";
  }
}

int cmd_train(const std::string& config_path, const std::vector<std::string>& overrides,
              const std::string& out, const std::string& resume, bool quiet, bool print_config,
              const std::string& command_line) {
  RunOptions options;
  options.command_line = command_line;
  options.progress = !quiet;
  Config config;
  if (!resume.empty()) {
    require(config_path.empty(), "--resume {} takes the run's own config.toml; drop --config", resume);
    require(out.empty() || out == resume, "--resume {} continues in that folder; drop --out", resume);
    const std::string path = (fs::path(resume) / "config.toml").string();
    require(fs::exists(path), "--resume {}: not a run folder (no config.toml)", resume);
    config = load_config(path, overrides);
    options.out_dir = resume;
    options.resume = true;
  } else {
    config = load_config(config_path, overrides);
    options.out_dir = out;
  }
  const bool adaptation = is_adaptation_method(config.get<std::string>("method.name", "standard"));
  if (print_config && adaptation) {
    const std::string resolved = resolve_adaptation_config(config);
    config.check_unknown();
    fmt::print("{}", resolved);
    return 0;
  }
  if (print_config) {
    auto run = build_run(config, {}, {}, /*estimate=*/false);
    fmt::print("{}", config.resolved_toml());
    return 0;
  }
  RunResult result = run_training(config, options);
  if (adaptation) {
    if (!quiet && !result.summary.is_null()) {
      const auto& s = result.summary;
      auto show = [](const nlohmann::json& v) { return v.is_null() ? std::string("n/a") : fmt::format("{:.2f}%", v.get<double>()); };
      fmt::print("target mAP {}  rank-1 {}  (source model: mAP {}, rank-1 {})\n", show(s["target_map"]),
                 show(s["target_rank1"]), show(s.value("source_only_map", nlohmann::json())),
                 show(s.value("source_only_rank1", nlohmann::json())));
      fmt::print("outputs: {}/ (summary.json, metrics.jsonl, pseudo_labels.csv, config.toml, checkpoint/)\n",
                 result.out_dir);
    }
    return 0;
  }
  if (!quiet && !result.summary.is_null()) {
    const auto& s = result.summary;
    auto show = [](const nlohmann::json& v) { return v.is_null() ? std::string("n/a") : fmt::format("{:.2f}%", v.get<double>()); };
    fmt::print("final test accuracy {}  (best {}, at best val {}, mean of last 10 {})\n",
               show(s["final_test_accuracy"]), show(s["best_test_accuracy"]),
               show(s["test_accuracy_at_best_val"]), show(s["mean_last10_test_accuracy"]));
    if (s.contains("detection")) {
      const auto& d = s["detection"];
      fmt::print("label-noise detection: precision {:.3f} recall {:.3f} F1 {:.3f} AUROC {:.3f}\n",
                 d["precision"].is_null() ? 0.0 : d["precision"].get<double>(),
                 d["recall"].is_null() ? 0.0 : d["recall"].get<double>(),
                 d["f1"].is_null() ? 0.0 : d["f1"].get<double>(),
                 d["auroc"].is_null() ? 0.0 : d["auroc"].get<double>());
    }
    fmt::print("outputs: {}/ (summary.json, metrics.jsonl, samples.csv, model.pt, config.toml, checkpoint/)\n",
               result.out_dir);
  }
  return 0;
}

int cmd_noise(const std::string& config_path, const std::vector<std::string>& overrides,
              const std::string& out) {
  Config config = load_config(config_path, overrides);
  const uint64_t seed = static_cast<uint64_t>(config.get<int64_t>("train.seed", 1));
  DataOptions data_options = DataOptions::from_config(config);
  NoiseSetup noise = NoiseSetup::from_config(config, seed);
  config.check_unknown();
  require(noise.model != nullptr, "winnow noise needs noise.type (see `winnow list`)");
  LoadedData data = load_data(data_options);
  NoiseResult result = noise.model->apply(data.train, noise.seed);

  fs::create_directories(out);
  fmt::memory_buffer labels;
  fmt::format_to(std::back_inserter(labels), "index,true_label,noisy_label,flipped\n");
  auto true_labels = data.train.labels.contiguous();
  auto noisy = result.noisy_labels.contiguous();
  for (int64_t i = 0; i < noisy.numel(); ++i) {
    const int64_t t = true_labels.data_ptr<int64_t>()[i];
    const int64_t n = noisy.data_ptr<int64_t>()[i];
    fmt::format_to(std::back_inserter(labels), "{},{},{},{}\n", i, t, n, int(t != n));
  }
  atomic_write_text((fs::path(out) / "noisy_labels.csv").string(), fmt::to_string(labels));
  fmt::memory_buffer matrix;
  auto transition = result.transition.to(torch::kFloat64).contiguous();
  for (int64_t i = 0; i < transition.size(0); ++i) {
    for (int64_t j = 0; j < transition.size(1); ++j) {
      fmt::format_to(std::back_inserter(matrix), "{}{:.6f}", j ? "," : "", transition[i][j].item<double>());
    }
    fmt::format_to(std::back_inserter(matrix), "\n");
  }
  atomic_write_text((fs::path(out) / "transition.csv").string(), fmt::to_string(matrix));
  nlohmann::ordered_json record;
  record["noise"] = noise.model->describe();
  record["seed"] = noise.seed;
  record["samples"] = noisy.numel();
  record["flipped"] = result.flip_mask.sum().item<int64_t>();
  record["actual_rate"] = result.actual_rate;
  atomic_write_json((fs::path(out) / "noise.json").string(), record);
  atomic_write_text((fs::path(out) / "config.toml").string(), config.resolved_toml());
  fmt::print("{}: {} of {} labels flipped ({:.2f}%); wrote {}/noisy_labels.csv, transition.csv, noise.json\n",
             noise.model->describe(), record["flipped"].get<int64_t>(), noisy.numel(),
             100 * result.actual_rate, out);
  return 0;
}

void cmd_list() {
  print_registry<MethodRegistry>("methods ([method] name)");
  print_registry<AdaptationRegistry>("domain-adaptation methods ([method] name; data.source_classes/target_classes or data.target)");
  print_registry<LossRegistry>("losses ([loss] name)");
  print_registry<ModelRegistry>("models ([model] name)");
  print_registry<OptimizerRegistry>("optimizers ([optim] name)");
  print_registry<NoiseRegistry>("noise types ([noise] type)");
  fmt::print("data sets ([data] name):\n");
  for (const auto& name : named_datasets()) fmt::print("  {}\n", name);
  fmt::print("  {:<18} your own files: data.format = idx | cifar | csv | npy | folder, data.train, ...\n", "custom");
}

}  // namespace

int main(int argc, char** argv) {
  // A file-size limit (ulimit -f) makes writes fail with EFBIG, reported with the path,
  // instead of killing the process with SIGXFSZ.
  std::signal(SIGXFSZ, SIG_IGN);
  CLI::App app{"winnow: train neural networks on data with wrong labels, and find the wrong labels"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("winnow ") + WINNOW_VERSION);

  std::string config_path, out, resume, run_dir;
  std::vector<std::string> overrides;
  bool quiet = false, print_config = false;
  int nproc = 1;
  double dist_timeout = 300;

  auto* train = app.add_subcommand("train", "train a model as the configuration says");
  train->add_option("--config", config_path, "TOML configuration file (default: every key at its default)")
      ->check(CLI::ExistingFile);
  train->add_option("--set", overrides, "override one key: section.key=value (repeatable)");
  train->add_option("--out", out, "run folder (default: runs/<time>-<method>)");
  train->add_option("--resume", resume, "continue the killed or finished run in this folder")
      ->check(CLI::ExistingDirectory);
  train->add_flag("--quiet", quiet, "print nothing but errors");
  train->add_flag("--print-config", print_config, "print the fully resolved configuration and exit");
  train->add_option("--nproc", nproc,
                    "train in N processes on this machine (data parallel on c10d/Gloo; each gets cores/N threads)")
      ->check(CLI::Range(1, 1024));
  train->add_option("--dist-timeout", dist_timeout,
                    "seconds a multi-process run waits for a silent rank before it fails (default 300)")
      ->check(CLI::PositiveNumber);
  train->footer([] { return defaults_footer(); });

  auto* inspect = app.add_subcommand(
      "inspect", "find the wrong labels: estimate the noise, rank every training sample (samples.csv, estimate.json)");
  inspect->add_option("--config", config_path, "TOML configuration file (the same as train's)")
      ->check(CLI::ExistingFile);
  inspect->add_option("--set", overrides, "override one key: section.key=value (repeatable)");
  inspect->add_option("--out", out, "output folder (samples.csv, estimate.json, probabilities.npy)")->required();
  inspect->add_flag("--quiet", quiet, "print nothing but errors");
  inspect->footer(
      "\n[estimate] protocol = crossfit | single_run, folds (5), epochs (10 per fold),\n"
      "  select_epoch = average | best_val | last (average: each fold's probabilities averaged over its epochs),\n"
      "  recipe = ce | config (ce: the configured model with cross entropy and Adam; config: the configured\n"
      "  method, loss and optimizer), estimator = confident_learning | anchor, lr (0.001)\n"
      "[inspect] filter_by = prune_by_noise_rate | prune_by_class | both | confident_learning | predicted_neq_given,\n"
      "  rank_by = self_confidence | normalized_margin | confidence_weighted_entropy, show (10),\n"
      "  detector = confident_learning | method (method: the configured method, trained with the estimate)\n");

  auto* evaluate = app.add_subcommand("evaluate", "evaluate a run folder's last checkpoint (prints JSON)");
  evaluate->add_option("--run", run_dir, "run folder")->required()->check(CLI::ExistingDirectory);

  std::string input;
  auto* predict = app.add_subcommand("predict", "apply a trained run to its test split or to new inputs (CSV out)");
  predict->add_option("--run", run_dir, "run folder")->required()->check(CLI::ExistingDirectory);
  predict->add_option("--input", input,
                     "a .npy or .csv of inputs, raw as the training files, or a folder of images (default: the run's test split)");
  predict->add_option("--set", overrides, "override one key of the run's config: section.key=value (repeatable)");
  predict->add_option("--out", out, "the CSV to write (index or path, predicted, predicted_name, probability[, label, label_name])")
      ->required();

  std::vector<std::string> report_runs;
  ReportOptions report_options;
  auto* report = app.add_subcommand(
      "report", "one self-contained HTML page of one or more runs (curves, matrices, detection, suspects)");
  report->add_option("runs", report_runs, "run folders (train runs or inspect folders)")->required()->check(CLI::ExistingDirectory);
  report->add_option("--out", out, "the HTML file to write")->required();
  report->add_option("--title", report_options.title, "the page's title");
  report->add_option("--thumbnails", report_options.thumbnails, "top suspects shown as images (default 40)")
      ->check(CLI::NonNegativeNumber);
  report->add_option("--show", report_options.print_suspects, "top suspects printed per run (default 10)")
      ->check(CLI::NonNegativeNumber);
  report->add_flag("--quiet", quiet, "print nothing but errors");

  auto* noise = app.add_subcommand("noise", "simulate label noise and write the labels, mask and matrix");
  noise->add_option("--config", config_path, "TOML configuration file ([data] and [noise])")
      ->check(CLI::ExistingFile);
  noise->add_option("--set", overrides, "override one key: section.key=value (repeatable)");
  noise->add_option("--out", out, "output folder")->required();

  app.add_subcommand("list", "list methods, losses, models, optimizers, noise types and data sets");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    // Training and inspection stop at the next batch on Ctrl-C / SIGTERM, naming the last
    // checkpoint (core/interrupt.h); a second signal ends the process at once.
    if (train->parsed() || inspect->parsed()) winnow::install_interrupt_handlers();
    if (train->parsed()) {
      // A worker of a multi-process job (RANK, WORLD_SIZE, ... from `--nproc` or torchrun) joins
      // the job before anything else, so a failure on any rank breaks the others' connections.
      const auto job = dist::job_from_environment();
      if (nproc > 1) {
        require(!job, "--nproc {} starts its own processes, but WORLD_SIZE={} says this one is already a "
                "worker of a job: drop --nproc (or unset WORLD_SIZE)", nproc, job ? job->world_size : 0);
        require(!print_config, "--print-config prints and exits: drop --nproc");
        dist::LocalLaunch launch;
        launch.processes = nproc;
        for (int i = 0; i < argc; ++i) {
          const std::string arg = argv[i];
          if (arg == "--nproc") {
            ++i;  // and its value
            continue;
          }
          if (arg.rfind("--nproc=", 0) == 0) continue;
          launch.arguments.push_back(arg);
        }
        return dist::launch_local(launch);
      }
      if (job && job->world_size > 1) {
        dist::init(*job, std::chrono::milliseconds(static_cast<int64_t>(dist_timeout * 1000)));
        // Only rank 0 prints progress; every rank prints its own errors.
        if (!dist::is_main()) quiet = true;
      }
      const int status = cmd_train(config_path, overrides, out, resume, quiet, print_config,
                                   join_command_line(argc, argv));
      // No rank leaves (and takes its end of the connections down) before all are done.
      dist::barrier();
      dist::shutdown();
      return status;
    }
    if (inspect->parsed()) {
      Config config = load_config(config_path, overrides);
      InspectOptions options;
      options.out_dir = out;
      options.command_line = join_command_line(argc, argv);
      options.progress = !quiet;
      run_inspect(config, options);
      return 0;
    }
    if (evaluate->parsed()) {
      fmt::print("{}\n", evaluate_run(run_dir).dump(2));
      return 0;
    }
    if (predict->parsed()) {
      PredictOptions options{run_dir, overrides, input, out};
      const int64_t n = predict_run(options);
      fmt::print("{} predictions: {}\n", n, out);
      return 0;
    }
    if (report->parsed()) {
      report_options.runs = report_runs;
      report_options.out = out;
      report_options.print = !quiet;
      write_report(report_options);
      if (!quiet) fmt::print("\nreport: {}\n", out);
      return 0;
    }
    if (noise->parsed()) return cmd_noise(config_path, overrides, out);
    cmd_list();
    return 0;
  } catch (const winnow::Interrupted& e) {
    fmt::print(stderr, "winnow: {}{}\n", rank_prefix(), e.what());
    return 128 + e.signal();
  } catch (const winnow::Error& e) {
    fmt::print(stderr, "winnow: {}error: {}\n", rank_prefix(), e.what());
    return 1;
  } catch (const c10::Error& e) {
    fmt::print(stderr, "winnow: {}error (LibTorch): {}\n", rank_prefix(), e.what_without_backtrace());
    return 1;
  } catch (const std::exception& e) {
    fmt::print(stderr, "winnow: {}error: {}\n", rank_prefix(), e.what());
    return 1;
  }
}
