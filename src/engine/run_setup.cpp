#include "winnow/engine/run_setup.h"

#include <cstdlib>
#include <filesystem>
#include <thread>

#include "winnow/adapt/adaptation.h"
#include "winnow/core/error.h"
#include "winnow/engine/adapt_run.h"
#include "winnow/report/files.h"
#include "winnow/dist/data_parallel.h"
#include "winnow/dist/process_group.h"
#include "winnow/dist/sync_batch_norm.h"
#include "multi_process.h"

namespace winnow {
namespace fs = std::filesystem;

TrainSettings read_train_settings(Config& config) {
  TrainSettings s;
  s.epochs = config.get<int64_t>("train.epochs", 20);
  s.batch_size = config.get<int64_t>("train.batch_size", 128);
  s.eval_batch_size = config.get<int64_t>("train.eval_batch_size", 1024);
  s.seed = static_cast<uint64_t>(config.get<int64_t>("train.seed", 1));
  // The default shares the machine's cores among the processes a multi-process job runs on it
  // (two processes with all cores each run many times slower than one).
  const int64_t cores = std::max<int64_t>(1, std::thread::hardware_concurrency());
  s.threads = config.get<int64_t>("train.threads", std::max<int64_t>(1, cores / dist::local_world_size()));
  // WINNOW_DEVICE changes the default (bench/device_check.sh runs the whole suite on CUDA).
  const char* default_device = std::getenv("WINNOW_DEVICE");
  const std::string device = config.get<std::string>("train.device", default_device ? default_device : "cpu");
  s.patience = config.get<int64_t>("train.patience", 0);
  s.monitor = config.get_choice("train.monitor", "val_accuracy", {"val_accuracy", "val_loss"});
  s.precision = config.get_choice("train.precision", "auto", {"auto", "fp32", "bf16"});
  s.channels_last = config.get_choice("train.channels_last", "auto", {"auto", "on", "off"});

  require(s.epochs >= 1, "train.epochs = {}: must be >= 1", s.epochs);
  require(s.batch_size >= 1, "train.batch_size = {}: must be >= 1", s.batch_size);
  require(s.eval_batch_size >= 1, "train.eval_batch_size = {}: must be >= 1", s.eval_batch_size);
  require(s.threads >= 1, "train.threads = {}: must be >= 1", s.threads);
  require(s.patience >= 0, "train.patience = {}: must be >= 0 (0: no early stopping)", s.patience);
  try {
    s.device = torch::Device(device);
  } catch (const c10::Error&) {
    fail("train.device = \"{}\": expected \"cpu\", \"cuda\" or \"cuda:N\"", device);
  }
  require(!s.device.is_cuda() || torch::cuda::is_available(),
          "train.device = \"{}\": this LibTorch has no CUDA device available", device);
  // Each process of a multi-process job on CUDA takes the GPU of its local rank, as with DDP.
  if (s.device.is_cuda() && !s.device.has_index() && dist::world_size() > 1) {
    s.device = torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(dist::local_rank()));
  }
  // Multi-process runs only: batch norm over the global batch instead of each rank's shard.
  s.sync_batchnorm = config.get<bool>("train.sync_batchnorm", false);
  dist::set_sync_batch_norm(s.sync_batchnorm);
  s.gradient_compression = config.get_choice("train.gradient_compression", "none", {"none", "fp16"});
  dist::set_gradient_compression(s.gradient_compression == "fp16" ? dist::GradientCompression::kFp16
                                                                   : dist::GradientCompression::kNone);
  configure_runtime(s.threads);
  return s;
}

Execution resolve_run_execution(const TrainSettings& settings, const Config& config, const ModelSpec& spec) {
  bool convolutional = false;
  if (settings.precision == "auto" || settings.channels_last != "off") {
    Config probe_config = config;
    ModelSpec probe_spec = spec;
    probe_spec.execution = Execution{};
    convolutional = make_model(probe_spec, probe_config)->convolutional();
  }
  return resolve_execution(settings.precision, settings.channels_last, convolutional, settings.device,
                           cpu_has_native_bf16());
}

// 2 folds x 5 epochs of the configured model with cross entropy: 5 epochs of training, out of
// sample. On Fashion-MNIST (mlp, labels given as files) its rate was within 0.025 of the
// truth at symmetric 50%, pair-flip 40%, class-map 40% and instance 40% (bench/RESULTS.md),
// about as close as 5 x 10 (0.017) at an eighth of the cost; the single run of 10 epochs
// (in-sample) missed pair-flip 40% by 0.084.
EstimateOptions train_estimate_defaults() {
  EstimateOptions o;
  o.protocol = "crossfit";
  o.folds = 2;
  o.epochs = 5;
  return o;
}

OutOfSampleOptions out_of_sample_base(const TrainSettings& settings, const PreparedData& data, bool progress) {
  OutOfSampleOptions base;
  base.batch_size = settings.batch_size;
  base.eval_batch_size = settings.eval_batch_size;
  base.seed = settings.seed;
  base.device = settings.device;
  base.execution = settings.execution;
  base.augment = data.augment;
  base.progress = progress;
  return base;
}

std::shared_ptr<NoiseSource> make_noise_source(Config& config, const PreparedData& data, const TrainSettings& settings,
                                               const EstimateOptions& options, bool progress,
                                               const std::string& estimate_dir, bool estimate) {
  std::optional<double> simulated_rate = data.noise ? data.noise_rate : std::nullopt;
  std::optional<bool> simulated_asymmetric;
  if (data.noise) {
    simulated_asymmetric = is_class_dependent_noise(config.get_optional<std::string>("noise.type").value_or("none"));
  }
  if (!estimate) return NoiseSource::resolve_only(simulated_rate, simulated_asymmetric);
  // The estimator sees only the training and validation splits, and never their true labels.
  const Dataset* train = &data.train;
  const Dataset* val = &data.val;
  const OutOfSampleOptions base = out_of_sample_base(settings, data, progress);
  // Only the "ce" recipe reads no more than [model]; the "config" recipe reads the method's
  // options from the run's configuration as the run itself does.
  auto recipe_config = std::make_shared<Config>(config);
  const std::string saved = estimate_dir.empty() ? std::string() : (fs::path(estimate_dir) / "estimate.json").string();
  auto estimator = [=]() -> NoiseEstimate {
    if (!saved.empty() && fs::exists(saved)) return NoiseEstimate::from_json(read_json(saved));
    if (progress) fmt::print("estimating the noise: {}\n", options.describe());
    return estimate_noise(*train, *val, *recipe_config, options, base).estimate;
  };
  return std::make_shared<NoiseSource>(simulated_rate, simulated_asymmetric, estimator);
}

std::unique_ptr<RunSetup> build_run(Config& config, const std::string& output_dir, const std::string& estimate_dir,
                                    bool estimate) {
  auto owned = std::make_unique<RunSetup>();
  RunSetup& run = *owned;
  run.settings = read_train_settings(config);
  const DataOptions data_options = DataOptions::from_config(config);
  const NoiseSetup noise = NoiseSetup::from_config(config, run.settings.seed);
  run.data = prepare_data(data_options, noise, run.settings.seed);
  // The ranks of a multi-process job must hold the same data before anything collective runs.
  if (dist::world_size() > 1) dist::require_same("the data", data_fingerprint(run.data));
  require(run.settings.patience == 0 || run.data.val.size() > 0,
          "train.patience = {} needs a validation split (data.val_fraction > 0)", run.settings.patience);

  TrainContext context;
  context.train = &run.data.train;
  context.val = &run.data.val;
  context.test = run.data.test ? &*run.data.test : nullptr;
  context.model_spec = ModelSpec{run.data.train.sample_shape(), run.data.train.num_classes};
  run.settings.execution = resolve_run_execution(run.settings, config, context.model_spec);
  context.model_spec.execution = run.settings.execution;
  context.epochs = run.settings.epochs;
  context.seed = run.settings.seed;
  context.device = run.settings.device;
  context.noise_rate = run.data.noise_rate;
  run.noise_source = make_noise_source(config, run.data, run.settings,
                                       EstimateOptions::from_config(config, train_estimate_defaults()),
                                       /*progress=*/!output_dir.empty(), estimate_dir, estimate);
  context.noise_source = run.noise_source;
  context.eval_batch_size = run.settings.eval_batch_size;
  context.output_dir = output_dir;
  // One seed drives the initial weights.
  torch::manual_seed(run.settings.seed);
  run.method = make_method(context, config);
  config.check_unknown();
  return owned;
}

}  // namespace winnow

namespace winnow {

std::string resolve_without_data(Config& config) {
  if (is_adaptation_method(config.get<std::string>("method.name", "standard"))) {
    return resolve_adaptation_config(config);
  }
  TrainSettings settings = read_train_settings(config);
  const DataOptions data = DataOptions::from_config(config);
  const NoiseSetup noise = NoiseSetup::from_config(config, settings.seed);
  Dataset fake;
  fake.name = data.name;  // presets keyed by the data set (DivideMix's) resolve as in a run
  fake.inputs = torch::zeros({2, 1, 28, 28});
  fake.labels = torch::tensor({0, 1}, torch::kInt64);
  fake.num_classes = 10;
  TrainContext context;
  context.train = &fake;
  context.model_spec = ModelSpec{fake.sample_shape(), fake.num_classes};
  context.model_spec.execution = resolve_run_execution(settings, config, context.model_spec);
  context.epochs = settings.epochs;
  context.device = torch::kCPU;
  context.noise_rate = noise.rate;
  // "auto" options resolve as in a run (they stay "auto"), without estimating anything.
  std::optional<bool> simulated_asymmetric;
  if (noise.model) {
    simulated_asymmetric = is_class_dependent_noise(config.get_optional<std::string>("noise.type").value_or("none"));
  }
  context.noise_source = NoiseSource::resolve_only(noise.model ? noise.rate : std::nullopt, simulated_asymmetric);
  make_method(context, config);
  return config.resolved_toml();
}

}  // namespace winnow
