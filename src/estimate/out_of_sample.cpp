#include "winnow/estimate/out_of_sample.h"

#include <cmath>
#include <filesystem>
#include <limits>

#include "winnow/core/error.h"
#include "winnow/estimate/noise_source.h"
#include "winnow/eval/metrics.h"
#include "winnow/methods/method.h"
#include "winnow/report/files.h"
#include "winnow/report/progress.h"

namespace winnow {
namespace fs = std::filesystem;

namespace {

// derive_seed streams of the estimation passes (the trainer's are 21 and 22).
constexpr uint64_t kFoldStream = 31;
constexpr uint64_t kFitStream = 32;
constexpr uint64_t kFitBatchStream = 33;
constexpr uint64_t kFitEpochStream = 34;

struct Snapshot {
  torch::Tensor probs;
  int64_t epoch = 0;
};

torch::Tensor softmax_all(Method& method, const torch::Tensor& inputs, const OutOfSampleOptions& options) {
  torch::NoGradGuard no_grad;
  method.set_training(false);
  auto probs = map_batches(inputs, options.eval_batch_size, options.device,
                           [&](const torch::Tensor& x) { return torch::softmax(method.predict(x).to(torch::kFloat64), 1); });
  method.set_training(true);
  return probs;
}

// Trains the configured method on `fit` and returns its probabilities on `target` at the
// chosen epoch. `index` tells the fits apart (the fold; 0 for a single run).
Snapshot fit_and_predict(const Dataset& fit, const Dataset& val, const Dataset& target, Config& config,
                         const OutOfSampleOptions& options, uint64_t index, std::shared_ptr<NoiseSource> noise,
                         const std::string& label) {
  TrainContext context;
  context.train = &fit;
  context.val = &val;
  context.test = nullptr;
  context.model_spec = ModelSpec{fit.sample_shape(), fit.num_classes};
  context.model_spec.execution = options.execution;
  context.epochs = options.epochs;
  const uint64_t seed = derive_seed(options.seed, kFitStream, index);
  context.seed = seed;
  context.device = options.device;
  // No simulated rate here: what a method needs of the noise it asks `noise` for.
  context.noise_source = std::move(noise);
  context.eval_batch_size = options.eval_batch_size;
  torch::manual_seed(seed);
  auto method = make_method(context, config);

  Batcher batcher(fit, options.batch_size, /*shuffle=*/true, derive_seed(seed, kFitBatchStream), /*drop_last=*/false,
                  options.augment);
  const bool by_val = options.select_epoch == "best_val" && val.size() > 0;
  const bool average = options.select_epoch == "average";
  double best = -std::numeric_limits<double>::infinity();
  Snapshot snapshot;
  torch::Tensor sum;
  // On a terminal, a bar over all of this fit's batches; in logs, one line per epoch.
  ProgressBar bar(label, options.epochs * batcher.batches_per_epoch(), options.progress);
  int64_t epoch = 0;
  if (options.progress && ProgressBar::on_terminal()) {
    batcher.set_progress([&](int64_t done, int64_t total) { bar.update(epoch * total + done); });
  }
  for (; epoch < options.epochs; ++epoch) {
    torch::manual_seed(derive_seed(seed, kFitEpochStream, static_cast<uint64_t>(epoch)));
    batcher.begin_epoch(epoch);
    method->set_training(true);
    method->train_epoch(epoch, batcher);
    double accuracy = std::numeric_limits<double>::quiet_NaN();
    if (by_val) {
      torch::NoGradGuard no_grad;
      method->set_training(false);
      auto logits = map_batches(val.inputs, options.eval_batch_size, options.device,
                                [&](const torch::Tensor& x) { return method->predict(x); });
      method->set_training(true);
      accuracy = accuracy_percent(logits, val.labels);
    }
    const bool last = epoch + 1 == options.epochs;
    if (average) {
      auto probs = softmax_all(*method, target.inputs, options);
      sum = sum.defined() ? sum.add_(probs) : probs;
      if (last) {
        snapshot.probs = sum / static_cast<double>(options.epochs);
        snapshot.epoch = epoch + 1;
      }
    } else if ((by_val && accuracy > best) || (!by_val && last)) {
      best = accuracy;
      snapshot.probs = softmax_all(*method, target.inputs, options);
      snapshot.epoch = epoch + 1;
    }
    bar.line(fmt::format("  {} epoch {:>3}/{}{}", label, epoch + 1, options.epochs,
                         by_val ? fmt::format("  noisy val {:6.2f}%{}", accuracy, snapshot.epoch == epoch + 1 ? " *" : "")
                                : std::string()));
  }
  return snapshot;
}

std::string fold_path(const OutOfSampleOptions& options, int64_t fold) {
  return (fs::path(options.cache_dir) / fmt::format("fold-{}.pt", fold)).string();
}

bool load_cached_fold(const OutOfSampleOptions& options, int64_t fold, int64_t rows, Snapshot& out) {
  if (options.cache_dir.empty()) return false;
  const std::string path = fold_path(options, fold);
  if (!fs::exists(path)) return false;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    c10::IValue fingerprint;
    archive.read("fingerprint", fingerprint);
    if (!fingerprint.isString() || fingerprint.toStringRef() != options.fingerprint) return false;
    torch::Tensor probs, epoch;
    archive.read("probs", probs);
    archive.read("epoch", epoch);
    if (probs.dim() != 2 || probs.size(0) != rows) return false;
    out.probs = probs;
    out.epoch = epoch.item<int64_t>();
    return true;
  } catch (const c10::Error&) {
    return false;  // unreadable (an older format, a foreign file): computed afresh
  }
}

void save_fold(const OutOfSampleOptions& options, int64_t fold, const Snapshot& snapshot) {
  if (options.cache_dir.empty()) return;
  fs::create_directories(options.cache_dir);
  torch::serialize::OutputArchive archive;
  archive.write("fingerprint", c10::IValue(options.fingerprint));
  archive.write("probs", snapshot.probs);
  archive.write("epoch", torch::tensor(snapshot.epoch, torch::kInt64));
  atomic_save_archive(fold_path(options, fold), archive);
}

}  // namespace

torch::Tensor stratified_folds(const torch::Tensor& labels, int64_t folds, uint64_t seed) {
  require(folds >= 2, "estimate.folds = {}: cross-fitting needs at least 2 folds", folds);
  const int64_t n = labels.numel();
  require(n >= folds, "estimate.folds = {}: more folds than the {} training samples", folds, n);
  auto generator = at::detail::createCPUGenerator(seed);
  auto fold = torch::empty({n}, torch::kInt64);
  const int64_t k = labels.max().item<int64_t>() + 1;
  int64_t offset = 0;
  for (int64_t c = 0; c < k; ++c) {
    auto members = labels.eq(c).nonzero().squeeze(1);
    const int64_t m = members.numel();
    if (m == 0) continue;
    members = members.index_select(0, torch::randperm(m, generator, torch::kInt64));
    // Deal the class's samples round-robin, continuing where the previous class stopped, so
    // fold sizes differ by at most one.
    fold.index_put_({members}, (torch::arange(m, torch::kInt64) + offset).remainder(folds));
    offset = (offset + m) % folds;
  }
  return fold;
}

OutOfSampleProbabilities out_of_sample_probabilities(const Dataset& train, const Dataset& val, Config& config,
                                                     const OutOfSampleOptions& options,
                                                     std::shared_ptr<NoiseSource> noise) {
  require(options.protocol == "crossfit" || options.protocol == "single_run",
          "estimate.protocol = \"{}\": allowed \"crossfit\" or \"single_run\"", options.protocol);
  require(options.epochs >= 1, "estimate.epochs = {}: must be >= 1", options.epochs);
  require(options.select_epoch == "best_val" || options.select_epoch == "last" || options.select_epoch == "average",
          "estimate.select_epoch = \"{}\": allowed \"best_val\", \"last\" or \"average\"", options.select_epoch);
  OutOfSampleProbabilities out;
  const std::string rule = options.select_epoch == "average"                       ? "averaged over the epochs"
                           : options.select_epoch == "best_val" && val.size() > 0 ? "at the epoch of best noisy-validation accuracy"
                                                                                  : "at the last epoch";
  if (options.protocol == "single_run") {
    Snapshot s = fit_and_predict(train, val, train, config, options, 0, noise, "single run");
    out.probs = s.probs;
    out.chosen_epochs = {s.epoch};
    out.cost_epochs = static_cast<double>(options.epochs);
    out.description = fmt::format("single run of {} epochs, in-sample probabilities {}", options.epochs, rule);
    return out;
  }

  const int64_t n = train.size();
  auto fold_of = stratified_folds(train.labels, options.folds, derive_seed(options.seed, kFoldStream));
  out.probs = torch::zeros({n, train.num_classes}, torch::kFloat64);
  double trained = 0;
  for (int64_t fold = 0; fold < options.folds; ++fold) {
    auto held_out = fold_of.eq(fold).nonzero().squeeze(1);
    auto rest = fold_of.ne(fold).nonzero().squeeze(1);
    Snapshot s;
    if (!load_cached_fold(options, fold, held_out.numel(), s)) {
      Dataset fit = train.subset(rest);
      Dataset target = train.subset(held_out);
      s = fit_and_predict(fit, val, target, config, options, static_cast<uint64_t>(fold + 1), noise,
                          fmt::format("fold {}/{}", fold + 1, options.folds));
      save_fold(options, fold, s);
    } else if (options.progress) {
      fmt::print("  fold {}/{}: taken from {}\n", fold + 1, options.folds, fold_path(options, fold));
    }
    out.probs.index_copy_(0, held_out, s.probs.to(torch::kFloat64));
    out.chosen_epochs.push_back(s.epoch);
    trained += static_cast<double>(rest.numel()) / static_cast<double>(n) * static_cast<double>(options.epochs);
  }
  out.cost_epochs = trained;
  out.description =
      fmt::format("{}-fold cross-fitting, {} epochs per fold, out-of-sample probabilities {}", options.folds,
                  options.epochs, rule);
  return out;
}

}  // namespace winnow
