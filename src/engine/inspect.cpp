#include "winnow/engine/inspect.h"

#include <filesystem>

#include "winnow/adapt/adaptation.h"
#include "winnow/core/error.h"
#include "winnow/engine/checkpoint.h"
#include "winnow/engine/run_setup.h"
#include "winnow/engine/trainer.h"
#include "winnow/estimate/confident_learning.h"
#include "winnow/estimate/score.h"
#include "winnow/eval/metrics.h"
#include "winnow/report/files.h"
#include "winnow/report/npy.h"
#include "winnow/report/samples.h"

namespace winnow {
namespace fs = std::filesystem;

namespace {

// The thorough defaults: confident learning's own protocol (Northcutt et al. 2021, Sec. 5:
// 4- or 5-fold cross-validation; cleanlab's default is 5), 10 epochs per fold, each fold's
// probabilities averaged over its epochs. The average beat the best-noisy-validation epoch
// on detection F1 in all 6 settings of bench/RESULTS.md (Fashion-MNIST at 4 noise types,
// digits at 2) and on T in 5 of 6; on digits' 135-sample validation split the best epoch is
// a noisy choice.
EstimateOptions inspect_estimate_defaults() {
  EstimateOptions o;
  o.protocol = "crossfit";
  o.folds = 5;
  o.epochs = 10;
  o.select_epoch = "average";
  return o;
}

std::string name_of(const Dataset& data, int64_t k) {
  return k < static_cast<int64_t>(data.class_names.size()) ? data.class_names[k] : std::to_string(k);
}

void print_summary(const nlohmann::ordered_json& record, const Dataset& train, const torch::Tensor& origin,
                   const SampleScores& scores, int64_t show) {
  fmt::print("estimated noise rate {:.2f}% ({} label issues of {} samples), health score {:.3f}\n",
             100 * record["noise_rate"].get<double>(), record["label_issues"].get<int64_t>(),
             record["samples"].get<int64_t>(), record["health_score"].get<double>());
  fmt::print("flagged {} samples ({})\n", record["suspects"].get<int64_t>(), record["filter_by"].get<std::string>());
  if (!record["overlapping_classes"].empty()) {
    fmt::print("most confused (true -> given, share of all samples):\n");
    for (const auto& pair : record["overlapping_classes"]) {
      fmt::print("  {} -> {}: {:.2f}%\n", pair["true"].get<std::string>(), pair["given"].get<std::string>(),
                 100 * pair["share_of_samples"].get<double>());
    }
  }
  fmt::print("per-class noise rate (share of each given class that is wrong):");
  for (const auto& [name, rate] : record["per_class_noise_rate"].items()) {
    fmt::print(" {} {:.1f}%", name, 100 * rate.get<double>());
  }
  fmt::print("\n");
  auto order = scores.clean_score.argsort();
  const int64_t count = std::min<int64_t>(show, order.numel());
  if (count > 0) fmt::print("top {} suspects (index: given -> predicted, label quality):\n", count);
  for (int64_t r = 0; r < count; ++r) {
    const int64_t i = order[r].item<int64_t>();
    fmt::print("  {:>7}: {} -> {}  {:.4f}\n", origin[i].item<int64_t>(), name_of(train, train.labels[i].item<int64_t>()),
               name_of(train, scores.predicted[i].item<int64_t>()), scores.clean_score[i].item<double>());
  }
  if (record.contains("against_truth")) {
    const auto& t = record["against_truth"];
    const auto& d = t["detection"];
    fmt::print("against the truth: rate error {:.4f} (true {:.4f}), T error {:.3f}; detection precision {:.3f} "
               "recall {:.3f} F1 {:.3f} AUROC {:.3f}\n",
               t["rate_error"].get<double>(), t["true_noise_rate"].get<double>(),
               t["transition_relative_l1_error"].get<double>(), d["precision"].get<double>(),
               d["recall"].get<double>(), d["f1"].get<double>(), d["auroc"].get<double>());
  }
}

}  // namespace

nlohmann::ordered_json run_inspect(Config& config, const InspectOptions& options) {
  require(!options.out_dir.empty(), "winnow inspect needs --out DIR");
  {
    const std::string method = config.get<std::string>("method.name", "standard");
    require(!is_adaptation_method(method),
            "method.name = \"{}\" adapts to an unlabelled domain; winnow inspect ranks the given labels of one "
            "labelled set. Run it with `winnow train` (its pseudo_labels.csv scores the target's pseudo-labels)",
            method);
  }
  TrainSettings settings = read_train_settings(config);
  const DataOptions data_options = DataOptions::from_config(config);
  const NoiseSetup noise = NoiseSetup::from_config(config, settings.seed);
  const EstimateOptions estimate_options = EstimateOptions::from_config(config, inspect_estimate_defaults());
  const std::string filter_by = config.get_choice(
      "inspect.filter_by", "prune_by_noise_rate",
      {"prune_by_noise_rate", "prune_by_class", "both", "confident_learning", "predicted_neq_given"});
  const std::string rank_by = config.get_choice("inspect.rank_by", "self_confidence",
                                                {"self_confidence", "normalized_margin", "confidence_weighted_entropy"});
  const int64_t show = config.get<int64_t>("inspect.show", 10);
  const std::string detector = config.get_choice("inspect.detector", "confident_learning", {"confident_learning", "method"});
  require(show >= 0, "inspect.show = {}: must be >= 0", show);
  PreparedData data = prepare_data(data_options, noise, settings.seed);
  settings.execution =
      resolve_run_execution(settings, config, ModelSpec{data.train.sample_shape(), data.train.num_classes});
  // Methods that need the noise rate inside the folds ("auto") take a cheap estimate first.
  auto source = make_noise_source(config, data, settings, train_estimate_defaults(), options.progress);
  {
    // The same configuration as train, checked as train checks it: the configured method is
    // built once (nothing trains), so a typo in any section is an error now, not after the
    // first fold. Its "auto" options are resolved, not estimated.
    TrainContext context;
    context.train = &data.train;
    context.val = &data.val;
    context.model_spec = ModelSpec{data.train.sample_shape(), data.train.num_classes};
    context.model_spec.execution = settings.execution;
    context.epochs = settings.epochs;
    context.noise_source = make_noise_source(config, data, settings, train_estimate_defaults(), false, {},
                                             /*estimate=*/false);
    make_method(context, config);
  }
  config.check_unknown();

  fs::create_directories(options.out_dir);
  atomic_write_text((fs::path(options.out_dir) / "config.toml").string(),
                    fmt::format("# winnow {} inspect\n{}\n{}\n", WINNOW_VERSION,
                                options.command_line.empty() ? "" : "# command: " + options.command_line,
                                config.resolved_toml()));
  if (options.progress) {
    fmt::print("winnow {} inspect: {} training samples, {} classes; noise: {}\n", WINNOW_VERSION, data.train.size(),
               data.train.num_classes, data.noise_description);
    fmt::print("estimating: {}\n", estimate_options.describe());
  }
  OutOfSampleOptions base = out_of_sample_base(settings, data, options.progress);
  // Finished folds survive an interrupted inspection; a rerun with the same configuration
  // takes them back.
  base.cache_dir = (fs::path(options.out_dir) / "folds").string();
  base.fingerprint = config.resolved_toml();
  EstimationResult result = estimate_noise(data.train, data.val, config, estimate_options, base, source);
  const auto& probs = result.probabilities.probs;
  const auto& labels = data.train.labels;

  SampleScores scores;
  nlohmann::ordered_json record = result.estimate.to_json(data.train.class_names);
  if (detector == "method") {
    // The method's run sees the same data (same seed, splits and labels) and takes this
    // estimate for its "auto" options through <out>/train/estimate.json.
    const std::string train_dir = (fs::path(options.out_dir) / "train").string();
    fs::create_directories(train_dir);
    atomic_write_json((fs::path(train_dir) / "estimate.json").string(), record);
    RunOptions run_options;
    run_options.out_dir = train_dir;
    run_options.progress = options.progress;
    run_options.resume = has_checkpoint(train_dir);
    run_options.estimate_from = train_dir;
    if (options.progress) fmt::print("detecting with the configured method, run folder {}\n", train_dir);
    RunResult run = run_training(config, run_options);
    require(run.scores.clean_score.defined(), "inspect: the method's run in {} trained no epoch", train_dir);
    scores = run.scores;
    record["detector"] = run.summary["method"];
    record["detector_epochs"] = run.summary["epochs"];
    record["detector_final_test_accuracy"] = run.summary["final_test_accuracy"];
  } else {
    scores.clean_score = label_quality_scores(probs, labels, rank_by);
    scores.predicted = probs.argmax(1);
    scores.suspect = find_label_issues(probs, labels, filter_by);
    record["detector"] = "confident_learning";
  }
  record["suspects"] = scores.suspect.sum().item<int64_t>();
  record["filter_by"] = detector == "method" ? "the method's own flags" : filter_by;
  record["rank_by"] = detector == "method" ? "the method's clean score" : rank_by;
  record["chosen_epochs"] = result.probabilities.chosen_epochs;
  if (data.train.has_true_labels()) {
    auto truth = score_estimate(result.estimate, data.train.true_labels, labels);
    auto flips = labels.ne(data.train.true_labels);
    truth["detection"] = to_json(detection_metrics(scores.clean_score, scores.suspect, flips));
    record["against_truth"] = truth;
  }
  write_samples_csv((fs::path(options.out_dir) / "samples.csv").string(), data.train, data.train_origin, scores);
  write_npy((fs::path(options.out_dir) / "probabilities.npy").string(), probs.to(torch::kFloat32));
  atomic_write_json((fs::path(options.out_dir) / "estimate.json").string(), record);
  if (options.progress) {
    print_summary(record, data.train, data.train_origin, scores, show);
    fmt::print("outputs: {}/ (samples.csv, estimate.json, probabilities.npy, config.toml)\n", options.out_dir);
  }
  return record;
}

}  // namespace winnow
