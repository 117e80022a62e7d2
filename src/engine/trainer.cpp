#include "winnow/engine/trainer.h"


#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>

#include "winnow/adapt/adaptation.h"
#include "winnow/core/error.h"
#include "winnow/core/interrupt.h"
#include "winnow/engine/adapt_run.h"
#include "winnow/engine/checkpoint.h"
#include "winnow/engine/early_stopping.h"
#include "winnow/engine/run_folder.h"
#include "winnow/engine/run_lock.h"
#include "winnow/engine/run_setup.h"
#include "winnow/estimate/score.h"
#include "winnow/eval/metrics.h"
#include "winnow/report/files.h"
#include "winnow/report/progress.h"
#include "winnow/report/samples.h"
#include "winnow/report/state_dict.h"
#include "winnow/dist/data_parallel.h"
#include "winnow/dist/process_group.h"
#include "multi_process.h"

namespace winnow {
namespace fs = std::filesystem;

namespace {

constexpr uint64_t kBatchStream = 21;
constexpr uint64_t kEpochStream = 22;

struct Evaluation {
  double accuracy = std::numeric_limits<double>::quiet_NaN();
  double loss = std::numeric_limits<double>::quiet_NaN();
};

Evaluation evaluate(Method& method, const Dataset& data, const TrainSettings& settings) {
  Evaluation result;
  if (data.size() == 0) return result;
  torch::NoGradGuard no_grad;
  method.set_training(false);
  auto logits = map_batches(data.inputs, settings.eval_batch_size, settings.device,
                            [&](const torch::Tensor& x) { return method.predict(x); });
  method.set_training(true);
  result.accuracy = accuracy_percent(logits, data.labels);
  result.loss = torch::nn::functional::cross_entropy(logits, data.labels).item<double>();
  return result;
}

// evaluate() under predict() and, in `variant_accuracy`, the accuracy under each of the
// method's extra test-time rules, from one pass (predict_all_rules) over `data`.
Evaluation evaluate_all_rules(Method& method, const Dataset& data, const TrainSettings& settings,
                              std::vector<double>& variant_accuracy) {
  Evaluation result;
  variant_accuracy.clear();
  if (data.size() == 0) return result;
  torch::NoGradGuard no_grad;
  method.set_training(false);
  // [N, 1 + V, C]: map_batches joins batches along the first axis.
  auto logits = map_batches(data.inputs, settings.eval_batch_size, settings.device,
                            [&](const torch::Tensor& x) { return method.predict_all_rules(x).transpose(0, 1); });
  method.set_training(true);
  auto main = logits.select(1, 0).contiguous();
  result.accuracy = accuracy_percent(main, data.labels);
  result.loss = torch::nn::functional::cross_entropy(main, data.labels).item<double>();
  for (int64_t rule = 1; rule < logits.size(1); ++rule) {
    variant_accuracy.push_back(accuracy_percent(logits.select(1, rule), data.labels));
  }
  return result;
}

void write_noise(const std::string& out_dir, const PreparedData& data) {
  if (!data.noise) return;
  const auto& noise = *data.noise;
  nlohmann::ordered_json record;
  record["description"] = data.noise_description;
  record["actual_rate"] = noise.actual_rate;
  record["flipped"] = noise.flip_mask.sum().item<int64_t>();
  record["samples"] = noise.flip_mask.numel();
  auto matrix = noise.transition.to(torch::kFloat64).contiguous();
  nlohmann::json rows = nlohmann::json::array();
  for (int64_t i = 0; i < matrix.size(0); ++i) {
    std::vector<double> row(matrix[i].data_ptr<double>(), matrix[i].data_ptr<double>() + matrix.size(1));
    rows.push_back(row);
  }
  record["transition"] = rows;
  atomic_write_json((fs::path(out_dir) / "noise.json").string(), record);
}

// A progress-line cell: the value, or "-" where the method does not report it.
std::string cell(double value, const char* format, int width) {
  return std::isnan(value) ? fmt::format("{:>{}}", "-", width) : fmt::format(fmt::runtime(format), value);
}

double metric(const nlohmann::ordered_json& line, const char* key) {
  auto it = line.find(key);
  if (it == line.end() || it->is_null()) return std::numeric_limits<double>::quiet_NaN();
  return it->get<double>();
}

// Index of the best epoch by `key` (max, or min when `minimise`), NaN-aware; -1 if none.
int64_t best_index(const nlohmann::ordered_json& metrics, const char* key, bool minimise) {
  int64_t best = -1;
  double best_value = 0;
  for (size_t i = 0; i < metrics.size(); ++i) {
    double v = metric(metrics[i], key);
    if (std::isnan(v)) continue;
    if (best < 0 || (minimise ? v < best_value : v > best_value)) {
      best = static_cast<int64_t>(i);
      best_value = v;
    }
  }
  return best;
}

// The class the method predicts for each row of `inputs` (eval mode, no augmentation). Every
// rank of a multi-process run takes part: map_batches shards the pass.
torch::Tensor predicted_classes(Method& method, const torch::Tensor& inputs, const TrainSettings& settings) {
  torch::NoGradGuard no_grad;
  method.set_training(false);
  auto predicted = map_batches(inputs, settings.eval_batch_size, settings.device,
                               [&](const torch::Tensor& x) { return method.predict(x); })
                       .argmax(1)
                       .to(torch::kCPU);
  method.set_training(true);
  return predicted;
}

// The final model's test confusion matrix, rows the true class and columns the predicted
// one (`winnow report` draws it).
nlohmann::json test_confusion(Method& method, const Dataset& test, const TrainSettings& settings) {
  const auto predicted = predicted_classes(method, test.inputs, settings);
  const int64_t k = test.num_classes;
  auto counts = torch::bincount(test.labels * k + predicted, {}, k * k).reshape({k, k}).contiguous();
  nlohmann::json rows = nlohmann::json::array();
  for (int64_t i = 0; i < k; ++i) {
    rows.push_back(std::vector<int64_t>(counts[i].data_ptr<int64_t>(), counts[i].data_ptr<int64_t>() + k));
  }
  return rows;
}

nlohmann::ordered_json summarize(const RunSetup& run, const TrainerState& state, Config& config) {
  const auto& metrics = state.metrics;
  nlohmann::ordered_json s;
  s["winnow_version"] = WINNOW_VERSION;
  s["method"] = run.method->describe();
  s["epochs"] = state.epochs_done;
  s["stopped_early"] = state.stopped_early;
  const auto& last = metrics.back();
  s["final_test_accuracy"] = json_number(metric(last, "test_accuracy"));
  const int64_t best_test = best_index(metrics, "test_accuracy", false);
  s["best_test_accuracy"] = best_test >= 0 ? json_number(metric(metrics[best_test], "test_accuracy")) : nullptr;
  s["best_test_epoch"] = best_test >= 0 ? nlohmann::json(best_test + 1) : nullptr;
  const bool by_loss = run.settings.monitor == "val_loss";
  const int64_t best_val = best_index(metrics, run.settings.monitor.c_str(), by_loss);
  s["monitor"] = run.settings.monitor;
  s["best_val_epoch"] = best_val >= 0 ? nlohmann::json(best_val + 1) : nullptr;
  s["test_accuracy_at_best_val"] =
      best_val >= 0 ? json_number(metric(metrics[best_val], "test_accuracy")) : nullptr;
  double sum = 0;
  int64_t count = 0;
  for (size_t i = metrics.size() > 10 ? metrics.size() - 10 : 0; i < metrics.size(); ++i) {
    double v = metric(metrics[i], "test_accuracy");
    if (!std::isnan(v)) { sum += v; ++count; }
  }
  s["mean_last10_test_accuracy"] = count ? json_number(sum / count) : nullptr;
  s["final_val_accuracy"] = json_number(metric(last, "val_accuracy"));
  s["train_seconds"] = state.train_seconds;
  s["samples_per_second"] = state.train_seconds > 0 ? state.samples_trained / state.train_seconds : 0.0;
  s["threads"] = run.settings.threads;
  s["world_size"] = dist::world_size();
  if (dist::world_size() > 1) {
    s["sync_batchnorm"] = run.settings.sync_batchnorm;
    s["gradient_compression"] = run.settings.gradient_compression;
  }
  s["device"] = run.settings.device.str();
  s["precision"] = precision_name(run.settings.execution.precision);
  s["channels_last"] = run.settings.execution.channels_last;
  s["train_samples"] = run.data.train.size();
  s["val_samples"] = run.data.val.size();
  s["test_samples"] = run.data.test ? run.data.test->size() : 0;
  s["noise"] = run.data.noise_description;
  s["actual_noise_rate"] = run.data.noise ? nlohmann::json(run.data.noise->actual_rate) : nullptr;
  if (run.noise_source->has_estimate()) {
    const auto& estimate = run.noise_source->estimate();
    nlohmann::ordered_json record = estimate.to_json(run.data.train.class_names);
    if (run.data.train.has_true_labels()) {
      record["against_truth"] = score_estimate(estimate, run.data.train.true_labels, run.data.train.labels);
    }
    s["noise_estimate"] = record;
    nlohmann::ordered_json settings;
    for (const auto& [key, value] : run.noise_source->auto_settings()) settings[key] = value;
    s["auto"] = settings;
  }
  return s;
}

}  // namespace

RunResult run_training(Config& config, const RunOptions& options) {
  // Domain adaptation by clustering (act, cluster_baseline) has a loop of its own: source
  // epochs, then rounds of clustering and training, evaluated by retrieval.
  if (is_adaptation_method(config.get<std::string>("method.name", "standard"))) {
    require(dist::world_size() == 1, "method.name = \"{}\" runs in one process (its clustering rounds are not "
            "data-parallel yet); drop --nproc / WORLD_SIZE", config.get<std::string>("method.name", "standard"));
    return run_adaptation(config, options);
  }
  // In a multi-process run (dist/) every rank trains and evaluates its shard; rank 0 alone
  // prints and writes the run folder, whose name it decides.
  const bool main_rank = dist::is_main();
  std::string out_dir = options.out_dir.empty() ? default_run_dir(config.get<std::string>("method.name", "standard")) : options.out_dir;
  out_dir = dist::broadcast_string(out_dir, "run folder");
  // One writer per run folder (engine/run_lock.h), held until this function returns.
  std::optional<RunLock> lock;
  if (main_rank) lock.emplace(out_dir);
  if (!options.resume && main_rank) {
    require(!has_checkpoint(out_dir),
            "{} already holds a run (checkpoint/trainer.json); continue it with --resume {} or "
            "choose another --out", out_dir, out_dir);
  }
  dist::require_same("the configuration (config.toml)", config_fingerprint(config));
  auto run = build_run(config, main_rank ? out_dir : std::string(),
                       !options.estimate_from.empty() ? options.estimate_from
                                                      : (options.resume ? out_dir : std::string()));
  const auto networks = run->method->networks();
  require(dist::world_size() == 1 || !networks.empty(),
          "{}: this method does not list its networks, so it cannot run in several processes",
          run->method->describe());
  if (main_rank) fs::create_directories(out_dir);
  if (run->noise_source->has_estimate() && !options.resume && main_rank) {
    atomic_write_json((fs::path(out_dir) / "estimate.json").string(),
                      run->noise_source->estimate().to_json(run->data.train.class_names));
  }

  TrainerState state;
  if (options.resume) {
    state = load_checkpoint(out_dir, *run->method);
    if (options.progress && main_rank) fmt::print("resuming {} after epoch {}\n", out_dir, state.epochs_done);
  } else if (main_rank) {
    write_run_config(out_dir, config, options.command_line);
    write_noise(out_dir, run->data);
  }
  // Every rank starts from rank 0's networks (DDP does the same when it wraps a model).
  dist::broadcast_parameters(networks);
  const auto& settings = run->settings;
  const bool progress = options.progress && main_rank;
  if (progress) {
    fmt::print("winnow {}: {}\n", WINNOW_VERSION, run->method->describe());
    fmt::print("execution: {} on {}, {} thread(s){}{}\n", precision_name(settings.execution.precision),
               settings.device.str(), settings.threads, settings.execution.channels_last ? ", channels-last" : "",
               dist::world_size() > 1 ? fmt::format(", {} processes (Gloo): global batch {} split among them",
                                                    dist::world_size(), settings.batch_size)
                                      : std::string());
    fmt::print("data: {} train / {} noisy val / {} test samples, {} classes; noise: {}\n",
               run->data.train.size(), run->data.val.size(), run->data.test ? run->data.test->size() : 0,
               run->data.train.num_classes, run->data.noise_description);
    if (run->noise_source->has_estimate()) {
      const auto& e = run->noise_source->estimate();
      fmt::print("noise estimate: {:.1f}% wrong labels ({} of {}), {} ({}); from {}\n", 100 * e.noise_rate,
                 e.label_issues, e.samples, e.asymmetric ? "asymmetric" : "symmetric-like",
                 fmt::format("asymmetry {:.2f}", e.asymmetry), e.method);
      for (const auto& [key, value] : run->noise_source->auto_settings()) {
        fmt::print("  auto: {} = {}\n", key, value);
      }
    }
  }

  Batcher batcher(run->data.train, settings.batch_size, /*shuffle=*/true,
                  derive_seed(settings.seed, kBatchStream), /*drop_last=*/false, run->data.augment);
  // On a terminal, a bar over the epoch's batches redrawn in place; in logs, one line per epoch.
  ProgressBar bar("epoch", 1, progress);
  if (progress && ProgressBar::on_terminal()) {
    batcher.set_progress([&](int64_t done, int64_t total) {
      bar.set_label(fmt::format("epoch {:>3}/{}", state.epochs_done + 1, settings.epochs));
      bar.set_total(total);
      bar.update(done);
    });
  }
  int64_t epochs_this_call = 0;
  try {
    while (state.epochs_done < settings.epochs && !state.stopped_early) {
      const int64_t epoch = state.epochs_done;
      // Every random draw of an epoch (dropout, peer samples, batches, augmentation) comes from
      // streams seeded by (seed, epoch): a resumed run replays the same numbers.
      torch::manual_seed(derive_seed(settings.seed, kEpochStream, static_cast<uint64_t>(epoch)));
      batcher.begin_epoch(epoch);
      run->method->set_training(true);
      const auto start = std::chrono::steady_clock::now();
      const auto communication_before = dist::communication_stats();
      EpochLog log = run->method->train_epoch(epoch, batcher);
      const auto communication = dist::communication_stats();
      // The ranks' logs describe their own shards: the run's line holds their means. The batch
      // norm statistics are averaged so that every rank evaluates the same model.
      log = average_log(log);
      dist::average_buffers(networks);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      state.train_seconds += seconds;
      state.samples_trained += run->data.train.size();

      Evaluation val = evaluate(*run->method, run->data.val, settings);
      std::vector<double> variant_accuracy;
      Evaluation test = run->data.test
                            ? evaluate_all_rules(*run->method, *run->data.test, settings, variant_accuracy)
                            : Evaluation{};
      nlohmann::ordered_json line;
      line["epoch"] = epoch + 1;
      for (const auto& [key, value] : log.values()) line[key] = json_number(value);
      line["val_accuracy"] = json_number(val.accuracy);
      line["val_loss"] = json_number(val.loss);
      line["test_accuracy"] = json_number(test.accuracy);
      if (run->data.test) {
        const auto variants = run->method->prediction_variants();
        require(variants.size() == variant_accuracy.size(),
                "{}: predict_all_rules gave {} test-time rules besides predict(); prediction_variants() "
                "names {}", run->method->describe(), variant_accuracy.size(), variants.size());
        for (size_t v = 0; v < variants.size(); ++v) {
          line["test_accuracy_" + variants[v]] = json_number(variant_accuracy[v]);
        }
      }
      line["epoch_seconds"] = seconds;
      if (dist::world_size() > 1) {
        // Rank 0's time waiting in the training step's collectives, and what it sent into them.
        line["communication_seconds"] = communication.seconds - communication_before.seconds;
        line["all_reduce_megabytes"] = (communication.all_reduce_bytes - communication_before.all_reduce_bytes) / 1e6;
      }
      state.metrics.push_back(line);
      state.epochs_done = epoch + 1;

      if (settings.patience > 0) {
        // Replayed from the metrics so that a resumed run decides exactly as an unbroken one.
        EarlyStopping stopping(settings.patience, settings.monitor == "val_loss");
        for (const auto& past : state.metrics) {
          state.stopped_early = stopping.update(past["epoch"].get<int64_t>(), metric(past, settings.monitor.c_str()));
        }
      }
      if (main_rank) {
        save_checkpoint(out_dir, *run->method, state);
        write_metrics_jsonl(out_dir, state.metrics);
      }
      bar.line(fmt::format("epoch {:>3}/{}  loss {}  train {}  val {:6.2f}%  test {:6.2f}%  {:.1f}s", epoch + 1,
                           settings.epochs, cell(metric(line, "train_loss"), "{:.4f}", 6),
                           cell(metric(line, "train_accuracy"), "{:6.2f}%", 7), val.accuracy, test.accuracy, seconds));
      if (state.stopped_early) {
        bar.line(fmt::format("early stop: {} has not improved for {} epochs", settings.monitor, settings.patience));
      }
      if (options.stop_after_epochs > 0 && ++epochs_this_call >= options.stop_after_epochs) break;
    }
  } catch (const Interrupted& interrupted) {
    // Every finished epoch was checkpointed when it ended; the one under way is dropped.
    const std::string where =
        state.epochs_done > 0
            ? fmt::format("the checkpoint of epoch {} is in {}/checkpoint; continue with `winnow train --resume {}`",
                          state.epochs_done, out_dir, out_dir)
            : std::string("no epoch had finished, so there is nothing to resume");
    throw Interrupted(interrupted.signal(), fmt::format("{} during epoch {} of {}: {}", interrupted.what(),
                                                        state.epochs_done + 1, settings.epochs, where));
  }

  RunResult result;
  result.out_dir = out_dir;
  if (state.epochs_done == 0) return result;
  auto summary = summarize(*run, state, config);
  if (!run->data.train.class_names.empty()) summary["class_names"] = run->data.train.class_names;
  if (run->data.test) summary["test_confusion"] = test_confusion(*run->method, *run->data.test, run->settings);
  // Per-sample suspicion and, where the truth is known, how well it finds the wrong labels.
  SampleScores scores = run->method->score_samples(run->data.train);
  if (!main_rank) {
    result.scores = scores;
    return result;
  }
  write_samples_csv((fs::path(out_dir) / "samples.csv").string(), run->data.train, run->data.train_origin,
                    scores);
  // The test-time network's weights for PyTorch (torch.load; python/winnow_torch.py).
  if (const auto network = run->method->test_network()) {
    write_state_dict((fs::path(out_dir) / "model.pt").string(), *network);
  }
  summary["suspects"] = scores.suspect.sum().item<int64_t>();
  if (run->data.train.has_true_labels()) {
    auto flips = run->data.train.labels.ne(run->data.train.true_labels);
    summary["detection"] = to_json(detection_metrics(scores.clean_score, scores.suspect, flips));
  }
  summary["complete"] = state.epochs_done == settings.epochs || state.stopped_early;
  atomic_write_json((fs::path(out_dir) / "summary.json").string(), summary);
  result.summary = summary;
  result.scores = scores;
  return result;
}

namespace {

// How the model fits its own training set (unaugmented, eval mode): accuracy against the
// given labels and, where the truth is known, split by whether the given label is right. On
// the wrong-labelled samples, accuracy against the true label says what the model learnt
// despite the noise and `memorised` how many wrong labels it fitted (the quantity that rises
// when CE overfits the noise, Arpit et al. 2017, and that robust methods keep low).
nlohmann::ordered_json train_fit(Method& method, const Dataset& train, const TrainSettings& settings) {
  const auto predicted = predicted_classes(method, train.inputs, settings);
  auto percent = [](const torch::Tensor& hits) {
    return hits.numel() ? json_number(100.0 * hits.sum().item<int64_t>() / hits.numel())
                        : json_number(std::numeric_limits<double>::quiet_NaN());
  };
  nlohmann::ordered_json out;
  out["samples"] = train.size();
  out["accuracy_given_labels"] = percent(predicted.eq(train.labels));
  if (!train.has_true_labels()) return out;
  auto wrong = train.labels.ne(train.true_labels);
  auto right = wrong.logical_not();
  out["clean_labelled"] = {{"samples", right.sum().item<int64_t>()},
                           {"accuracy", percent(predicted.masked_select(right).eq(train.labels.masked_select(right)))}};
  out["wrong_labelled"] = {
      {"samples", wrong.sum().item<int64_t>()},
      {"accuracy_true_labels", percent(predicted.masked_select(wrong).eq(train.true_labels.masked_select(wrong)))},
      {"memorised", percent(predicted.masked_select(wrong).eq(train.labels.masked_select(wrong)))}};
  return out;
}

}  // namespace

nlohmann::json evaluate_run(const std::string& run_dir) {
  const std::string config_path = (fs::path(run_dir) / "config.toml").string();
  require(fs::exists(config_path), "{}: not a run folder (no config.toml)", run_dir);
  Config config = Config::from_file(config_path);
  if (is_adaptation_method(config.get<std::string>("method.name", "standard"))) {
    return evaluate_adaptation_run(run_dir, config);
  }
  auto run = build_run(config, {}, run_dir);
  TrainerState state = load_checkpoint(run_dir, *run->method);
  nlohmann::ordered_json out;
  out["run"] = run_dir;
  out["epochs_done"] = state.epochs_done;
  Evaluation val = evaluate(*run->method, run->data.val, run->settings);
  out["val_accuracy"] = json_number(val.accuracy);
  if (run->data.test) {
    const auto& test = *run->data.test;
    torch::NoGradGuard no_grad;
    run->method->set_training(false);
    auto logits = map_batches(test.inputs, run->settings.eval_batch_size, run->settings.device,
                              [&](const torch::Tensor& x) { return run->method->predict(x); });
    out["test_accuracy"] = json_number(accuracy_percent(logits, test.labels));
    auto predicted = logits.argmax(1);
    nlohmann::ordered_json per_class;
    for (int64_t k = 0; k < test.num_classes; ++k) {
      auto mask = test.labels.eq(k);
      const int64_t n = mask.sum().item<int64_t>();
      const double acc = n ? 100.0 * predicted.masked_select(mask).eq(k).sum().item<int64_t>() / n
                           : std::numeric_limits<double>::quiet_NaN();
      const std::string name = test.class_names.empty() ? std::to_string(k) : test.class_names[k];
      per_class[name] = json_number(acc);
    }
    out["test_accuracy_per_class"] = per_class;
  }
  out["train"] = train_fit(*run->method, run->data.train, run->settings);
  return out;
}

}  // namespace winnow
