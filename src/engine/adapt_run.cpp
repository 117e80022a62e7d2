#include "winnow/engine/adapt_run.h"


#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "winnow/adapt/adaptation.h"
#include "winnow/core/error.h"
#include "winnow/engine/checkpoint.h"
#include "winnow/engine/run_folder.h"
#include "winnow/engine/run_lock.h"
#include "winnow/engine/run_setup.h"
#include "winnow/eval/cluster_quality.h"
#include "winnow/eval/retrieval.h"
#include "winnow/report/files.h"
#include "winnow/report/progress.h"

namespace winnow {
namespace fs = std::filesystem;

namespace {

constexpr uint64_t kSourceEpochStream = 43;
constexpr uint64_t kRoundSeedStream = 44;
constexpr int kAdaptCheckpointFormat = 1;
constexpr const char* kCheckpointKind = "adaptation";

struct AdaptState {
  int64_t source_epochs_done = 0;
  int64_t rounds_done = 0;
  bool source_evaluated = false;     // the round-0 line (the source model) is in the metrics
  std::optional<double> eps;         // DBSCAN's radius, fixed in round 1
  double train_seconds = 0;
  double cluster_seconds = 0;
  nlohmann::ordered_json metrics = nlohmann::ordered_json::array();
};

// Everything a run reads from its configuration, before any data is loaded.
struct AdaptSetup {
  TrainSettings settings;
  DataOptions data;
  DomainOptions domain;
  std::string method;
};

AdaptSetup read_setup(Config& config) {
  AdaptSetup s;
  s.settings = read_train_settings(config);
  s.method = config.get<std::string>("method.name", "act");
  s.data = DataOptions::from_config(config);
  s.domain = DomainOptions::from_config(config, s.data);
  return s;
}

AdaptContext make_context(const AdaptSetup& setup, const DomainData& data) {
  AdaptContext context;
  context.data = &data;
  context.device = setup.settings.device;
  context.seed = setup.settings.seed;
  context.batch_size = setup.settings.batch_size;
  context.eval_batch_size = setup.settings.eval_batch_size;
  context.augment = setup.data.augment;
  context.execution = setup.settings.execution;
  require(!context.augment.enabled() || data.target.dim() == 4,
          "data.augment needs image inputs [N, C, H, W]; these samples have {} dimensions",
          data.target.dim() - 1);
  return context;
}

std::string checkpoint_dir(const std::string& run_dir) { return (fs::path(run_dir) / "checkpoint").string(); }
std::string checkpoint_file(const std::string& run_dir) {
  return (fs::path(checkpoint_dir(run_dir)) / "trainer.json").string();
}

// Same layout and order as the Trainer's checkpoint (engine/checkpoint.h): the state archive
// first, then trainer.json naming it, then the older archives go; each write is atomic.
void save_state(const std::string& run_dir, const AdaptationMethod& method, const AdaptState& state) {
  const fs::path dir = checkpoint_dir(run_dir);
  fs::create_directories(dir);
  const std::string state_name =
      fmt::format("state-s{:04d}-r{:04d}.pt", state.source_epochs_done, state.rounds_done);
  torch::serialize::OutputArchive archive;
  method.save(archive);
  atomic_save_archive((dir / state_name).string(), archive);
  nlohmann::ordered_json j;
  j["format"] = kAdaptCheckpointFormat;
  j["kind"] = kCheckpointKind;
  j["winnow_version"] = WINNOW_VERSION;
  j["state_file"] = state_name;
  j["source_epochs_done"] = state.source_epochs_done;
  j["rounds_done"] = state.rounds_done;
  j["source_evaluated"] = state.source_evaluated;
  j["eps"] = state.eps ? nlohmann::json(*state.eps) : nlohmann::json(nullptr);
  j["train_seconds"] = state.train_seconds;
  j["cluster_seconds"] = state.cluster_seconds;
  j["metrics"] = state.metrics;
  atomic_write_text(checkpoint_file(run_dir), j.dump(1) + "\n");
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    if (name != state_name && name.rfind("state-", 0) == 0) fs::remove(entry.path());
  }
}

AdaptState load_state(const std::string& run_dir, AdaptationMethod& method) {
  const std::string path = checkpoint_file(run_dir);
  require(fs::exists(path), "{}: no checkpoint to resume from (expected {})", run_dir, path);
  auto j = read_json(path);
  AdaptState state;
  try {
    require(j.value("kind", std::string()) == kCheckpointKind,
            "{}: not the checkpoint of a domain-adaptation run (method.name act or cluster_baseline)", path);
    const int format = j.at("format").get<int>();
    require(format == kAdaptCheckpointFormat, "{}: checkpoint format {} is not supported (this winnow reads {})",
            path, format, kAdaptCheckpointFormat);
    state.source_epochs_done = j.at("source_epochs_done").get<int64_t>();
    state.rounds_done = j.at("rounds_done").get<int64_t>();
    state.source_evaluated = j.at("source_evaluated").get<bool>();
    if (!j.at("eps").is_null()) state.eps = j.at("eps").get<double>();
    state.train_seconds = j.at("train_seconds").get<double>();
    state.cluster_seconds = j.at("cluster_seconds").get<double>();
    state.metrics = j.at("metrics");
    const std::string archive_path = (fs::path(checkpoint_dir(run_dir)) / j.at("state_file").get<std::string>()).string();
    require(fs::exists(archive_path), "{}: names {}, which is missing", path, archive_path);
    torch::serialize::InputArchive archive;
    archive.load_from(archive_path);
    method.load(archive);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: malformed checkpoint ({})", path, e.what());
  } catch (const c10::Error& e) {
    fail("{}: the checkpoint does not fit this configuration's networks ({})", path, e.what_without_backtrace());
  }
  return state;
}

// mAP and Rank-k of the main network's pooled features on the target test split, in percent.
nlohmann::ordered_json retrieval(AdaptationMethod& method, const DomainData& data, const TrainSettings& settings) {
  nlohmann::ordered_json out;
  if (!data.has_retrieval()) return out;
  auto& network = method.main_network();
  auto query = extract_features(network, data.query, settings.device, settings.eval_batch_size);
  auto gallery = extract_features(network, data.gallery, settings.device, settings.eval_batch_size);
  // Squared euclidean distance of the raw pooled features, as the re-ID evaluators rank.
  auto scores = evaluate_retrieval(squared_euclidean(query, gallery), data.query_ids, data.gallery_ids, 10);
  out["target_map"] = 100.0 * scores.mean_ap;
  out["target_rank1"] = 100.0 * scores.cmc.at(0);
  out["target_rank5"] = 100.0 * scores.cmc.at(4);
  out["target_rank10"] = 100.0 * scores.cmc.at(9);
  return out;
}

void write_pseudo_labels(const std::string& out_dir, const DomainData& data, const PseudoLabels& pseudo,
                         const torch::Tensor& correct) {
  std::string text = "target_index,origin,pseudo_label,inlier";
  const bool truth = data.has_target_truth();
  if (truth) text += ",true_identity,label_correct";
  text += "\n";
  auto labels = pseudo.labels.contiguous();
  auto inlier = pseudo.inlier.contiguous();
  auto origin = data.target_origin.contiguous();
  auto l = labels.accessor<int64_t, 1>();
  auto in = inlier.accessor<bool, 1>();
  auto o = origin.accessor<int64_t, 1>();
  torch::Tensor identity = truth ? data.target_truth.contiguous() : torch::Tensor();
  torch::Tensor right = truth ? correct.contiguous() : torch::Tensor();
  for (int64_t i = 0; i < labels.numel(); ++i) {
    text += fmt::format("{},{},{},{}", i, o[i], l[i], in[i] ? 1 : 0);
    if (truth) {
      text += fmt::format(",{},{}", identity.data_ptr<int64_t>()[i], right.data_ptr<bool>()[i] ? 1 : 0);
    }
    text += "\n";
  }
  atomic_write_text((fs::path(out_dir) / "pseudo_labels.csv").string(), text);
}

double number(const nlohmann::ordered_json& line, const char* key) {
  auto it = line.find(key);
  if (it == line.end() || it->is_null()) return std::numeric_limits<double>::quiet_NaN();
  return it->get<double>();
}

std::string percent_cell(const nlohmann::ordered_json& line, const char* key) {
  const double v = number(line, key);
  return std::isnan(v) ? std::string("   n/a") : fmt::format("{:5.1f}%", v);
}

nlohmann::ordered_json summarize(const AdaptSetup& setup, const AdaptationMethod& method, const DomainData& data,
                                 const AdaptState& state, const std::string& description) {
  nlohmann::ordered_json s;
  s["winnow_version"] = WINNOW_VERSION;
  s["method"] = description;
  s["source_epochs"] = state.source_epochs_done;
  s["rounds"] = state.rounds_done;
  s["eps"] = state.eps ? nlohmann::json(*state.eps) : nlohmann::json(nullptr);
  nlohmann::ordered_json history = nlohmann::ordered_json::array();
  const nlohmann::ordered_json* last = nullptr;
  for (const auto& line : state.metrics) {
    if (line.value("phase", std::string()) != "round") continue;
    nlohmann::ordered_json h;
    for (const char* key : {"round", "target_map", "target_rank1", "clusters", "outliers", "pairwise_precision",
                            "pairwise_recall", "pairwise_f", "nmi", "remember_rate", "selected_outlier_precision",
                            "rejected_outlier_precision"}) {
      if (line.contains(key)) h[key] = line[key];
    }
    history.push_back(h);
    last = &line;
    if (line["round"].get<int64_t>() == 0) {
      s["source_only_map"] = line.contains("target_map") ? line["target_map"] : nlohmann::ordered_json(nullptr);
      s["source_only_rank1"] = line.contains("target_rank1") ? line["target_rank1"] : nlohmann::ordered_json(nullptr);
    }
  }
  for (const char* key : {"target_map", "target_rank1", "target_rank5", "target_rank10"}) {
    s[key] = last && last->contains(key) ? (*last)[key] : nlohmann::ordered_json(nullptr);
  }
  s["history"] = history;
  s["train_seconds"] = state.train_seconds;
  s["cluster_seconds"] = state.cluster_seconds;
  s["threads"] = setup.settings.threads;
  s["device"] = setup.settings.device.str();
  s["precision"] = precision_name(setup.settings.execution.precision);
  s["channels_last"] = setup.settings.execution.channels_last;
  s["source_samples"] = data.source.size();
  s["target_samples"] = data.target.size(0);
  s["query_samples"] = data.query.defined() ? data.query.size(0) : 0;
  s["gallery_samples"] = data.gallery.defined() ? data.gallery.size(0) : 0;
  s["complete"] = state.source_epochs_done == setup.settings.epochs && state.rounds_done == method.options().rounds;
  return s;
}

}  // namespace

RunResult run_adaptation(Config& config, const RunOptions& options) {
  AdaptSetup setup = read_setup(config);
  const std::string out_dir = options.out_dir.empty() ? default_run_dir(setup.method) : options.out_dir;
  const RunLock lock(out_dir);  // one writer per run folder (engine/run_lock.h)
  if (!options.resume) {
    require(!has_checkpoint(out_dir),
            "{} already holds a run (checkpoint/trainer.json); continue it with --resume {} or choose another --out",
            out_dir, out_dir);
  }
  const DomainData data = prepare_domain(setup.data, setup.domain, setup.settings.seed);
  setup.settings.execution = resolve_run_execution(
      setup.settings, config, ModelSpec{data.source.sample_shape(), data.source.num_classes});
  torch::manual_seed(setup.settings.seed);  // the networks' initial weights
  auto method = make_adaptation(make_context(setup, data), config);
  config.check_unknown();
  const std::string description = method->describe();
  const auto& settings = setup.settings;
  const auto& opts = method->options();

  fs::create_directories(out_dir);
  AdaptState state;
  if (options.resume) {
    state = load_state(out_dir, *method);
    if (options.progress) {
      fmt::print("resuming {} after {} source epochs and {} rounds\n", out_dir, state.source_epochs_done,
                 state.rounds_done);
    }
  } else {
    write_run_config(out_dir, config, options.command_line);
  }
  if (options.progress) {
    fmt::print("winnow {}: {}\n", WINNOW_VERSION, description);
    fmt::print("data: {} labelled source samples ({} classes), {} unlabelled target samples, {} queries / {} gallery\n",
               data.source.size(), data.source.num_classes, data.target.size(0),
               data.query.defined() ? data.query.size(0) : 0, data.gallery.defined() ? data.gallery.size(0) : 0);
  }
  int64_t steps_this_call = 0;
  auto stop_now = [&] { return options.stop_after_epochs > 0 && ++steps_this_call >= options.stop_after_epochs; };
  auto checkpoint = [&] {
    save_state(out_dir, *method, state);
    write_metrics_jsonl(out_dir, state.metrics);
  };

  // 1. The source model: cross entropy + triplet on the labelled source.
  while (state.source_epochs_done < settings.epochs) {
    const int64_t epoch = state.source_epochs_done;
    torch::manual_seed(derive_seed(settings.seed, kSourceEpochStream, static_cast<uint64_t>(epoch)));
    const auto start = std::chrono::steady_clock::now();
    EpochLog log = method->train_source_epoch(epoch);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    state.train_seconds += seconds;
    nlohmann::ordered_json line;
    line["phase"] = "source";
    line["epoch"] = epoch + 1;
    for (const auto& [key, value] : log.values()) line[key] = json_number(value);
    line["epoch_seconds"] = seconds;
    state.metrics.push_back(line);
    state.source_epochs_done = epoch + 1;
    checkpoint();
    if (options.progress) {
      fmt::print("source epoch {:>3}/{}  loss {:.4f}  train {:6.2f}%  {:.1f}s\n", epoch + 1, settings.epochs,
                 number(line, "train_loss"), number(line, "train_accuracy"), seconds);
      std::fflush(stdout);
    }
    if (stop_now()) break;
  }

  // 2. Round 0: the source model on the target (direct transfer).
  if (state.source_epochs_done == settings.epochs && !state.source_evaluated) {
    nlohmann::ordered_json line;
    line["phase"] = "round";
    line["round"] = 0;
    const auto scores = retrieval(*method, data, settings);
    for (const auto& [key, value] : scores.items()) line[key] = value;
    state.metrics.push_back(line);
    state.source_evaluated = true;
    // Before the checkpoint, so that a run resumed from it has the rounds' starting state.
    method->begin_rounds();
    checkpoint();
    if (options.progress) {
      fmt::print("round   0 (source model)  mAP {}  rank-1 {}\n", percent_cell(line, "target_map"),
                 percent_cell(line, "target_rank1"));
    }
  }

  // 3. Rounds: cluster the target with the main network, train on the pseudo-labels.
  // On a terminal, a bar over the rounds that names the phase; in logs, one line per round.
  ProgressBar bar("round", opts.rounds, options.progress);
  std::optional<PseudoLabels> pseudo;
  torch::Tensor correct;
  bool stopped = state.source_epochs_done < settings.epochs;
  while (!stopped && state.rounds_done < opts.rounds) {
    const int64_t round = state.rounds_done;
    torch::manual_seed(derive_seed(settings.seed, kRoundSeedStream, static_cast<uint64_t>(round)));
    bar.set_label(fmt::format("round {:>3}/{}: clustering {} target samples", round + 1, opts.rounds, data.target.size(0)));
    bar.update(round);
    const auto cluster_start = std::chrono::steady_clock::now();
    auto& network = method->main_network();
    auto target_features = extract_features(network, data.target, settings.device, settings.eval_batch_size);
    torch::Tensor source_features;
    if (opts.clustering.rerank.lambda > 0) {
      source_features = extract_features(network, data.source.inputs, settings.device, settings.eval_batch_size);
    }
    pseudo = make_pseudo_labels(target_features, source_features, opts.clustering, state.eps);
    state.eps = pseudo->eps;
    const double cluster_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - cluster_start).count();
    state.cluster_seconds += cluster_seconds;

    nlohmann::ordered_json line;
    line["phase"] = "round";
    line["round"] = round + 1;
    line["eps"] = pseudo->eps;
    line["clusters"] = pseudo->clusters;
    line["outliers"] = pseudo->outliers();
    if (data.has_target_truth()) {
      // Scoring only: the hidden identities never reach training.
      correct = pseudo_label_correct(*pseudo, data.target_truth);
      auto all = cluster_quality(pseudo->labels, data.target_truth);  // outliers with their 1-NN labels
      auto inliers = cluster_quality(pseudo->dbscan_labels(), data.target_truth);
      line["pairwise_precision"] = all.pairwise_precision;
      line["pairwise_recall"] = all.pairwise_recall;
      line["pairwise_f"] = all.pairwise_f;
      line["nmi"] = all.nmi;
      line["ari"] = all.ari;
      line["inlier_pairwise_precision"] = inliers.pairwise_precision;
      line["inlier_pairwise_recall"] = inliers.pairwise_recall;
      auto outlier = pseudo->inlier.logical_not();
      const int64_t outliers = outlier.sum().item<int64_t>();
      line["outlier_label_precision"] =
          outliers ? json_number(correct.logical_and(outlier).sum().item<double>() / static_cast<double>(outliers))
                   : nlohmann::json(nullptr);
    }
    bar.set_label(fmt::format("round {:>3}/{}: {} clusters, {} outliers; training", round + 1, opts.rounds,
                              pseudo->clusters, pseudo->outliers()));
    bar.update(round);
    const auto train_start = std::chrono::steady_clock::now();
    RoundInput input;
    input.round = round;
    input.pseudo = &*pseudo;
    input.label_correct = correct;
    EpochLog log = method->train_round(input);
    const double train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - train_start).count();
    state.train_seconds += train_seconds;
    for (const auto& [key, value] : log.values()) line[key] = json_number(value);
    const auto scores = retrieval(*method, data, settings);
    for (const auto& [key, value] : scores.items()) line[key] = value;
    line["cluster_seconds"] = cluster_seconds;
    line["train_seconds"] = train_seconds;
    state.metrics.push_back(line);
    state.rounds_done = round + 1;
    checkpoint();
    write_pseudo_labels(out_dir, data, *pseudo, correct);
    bar.line(fmt::format("round {:>3}/{}  {} clusters  {} outliers  pairwise F {}  mAP {}  rank-1 {}  {:.1f}s + {:.1f}s",
                         round + 1, opts.rounds, pseudo->clusters, pseudo->outliers(),
                         line.contains("pairwise_f") ? fmt::format("{:.3f}", line["pairwise_f"].get<double>()) : "n/a",
                         percent_cell(line, "target_map"), percent_cell(line, "target_rank1"), cluster_seconds,
                         train_seconds));
    if (stop_now()) break;
  }

  RunResult result;
  result.out_dir = out_dir;
  if (state.metrics.empty()) return result;
  auto summary = summarize(setup, *method, data, state, description);
  atomic_write_json((fs::path(out_dir) / "summary.json").string(), summary);
  result.summary = summary;
  return result;
}

nlohmann::json evaluate_adaptation_run(const std::string& run_dir, Config& config) {
  AdaptSetup setup = read_setup(config);
  const DomainData data = prepare_domain(setup.data, setup.domain, setup.settings.seed);
  setup.settings.execution = resolve_run_execution(
      setup.settings, config, ModelSpec{data.source.sample_shape(), data.source.num_classes});
  auto method = make_adaptation(make_context(setup, data), config);
  AdaptState state = load_state(run_dir, *method);
  nlohmann::ordered_json out;
  out["run"] = run_dir;
  out["source_epochs_done"] = state.source_epochs_done;
  out["rounds_done"] = state.rounds_done;
  const auto scores = retrieval(*method, data, setup.settings);
  for (const auto& [key, value] : scores.items()) out[key] = value;
  return out;
}

std::string resolve_adaptation_config(Config& config) {
  AdaptSetup setup = read_setup(config);
  // A stand-in domain (two 28x28 images of two source classes) builds the networks, so that
  // every [method] and [model] key is read and checked without loading data.
  DomainData stand_in;
  stand_in.source.inputs = torch::zeros({2, 1, 28, 28});
  stand_in.source.labels = torch::tensor({0, 1}, torch::kInt64);
  stand_in.source.num_classes = 2;
  stand_in.target = torch::zeros({2, 1, 28, 28});
  AdaptContext context = make_context(setup, stand_in);
  make_adaptation(context, config);
  return config.resolved_toml();
}

}  // namespace winnow
