// Milliseconds per training step of winnow's own methods, as `winnow train` runs them: the
// method built by make_method from a config, one epoch over a Batcher on synthetic data, the
// step time read between consecutive batches (so it holds forward, backward, selection and
// optimizer steps, and batch slicing). Prints one JSON line; bench/step_time.py runs it
// beside the PyTorch Python reference and reports ratios.
//
//   build/bench/winnow_step_time MODEL METHOD PRECISION [steps=20] [threads=all] [warmup=3] [METHOD_TOML]
//   MODEL mlp | cnn4 (1x28x28) | cnn9 (3x32x32); METHOD standard | coteaching;
//   PRECISION fp32 | bf16 | auto (train.precision; channels_last follows "auto");
//   METHOD_TOML further [method] lines, e.g. "fused = 'off'"
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include <torch/torch.h>

#include "winnow/core/config.h"
#include "winnow/core/execution.h"
#include "winnow/data/batcher.h"
#include "winnow/methods/method.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s MODEL METHOD PRECISION [steps] [threads] [warmup] [METHOD_TOML]\n", argv[0]);
    return 2;
  }
  const std::string model = argv[1], method = argv[2], precision = argv[3];
  const int steps = argc > 4 ? std::atoi(argv[4]) : 20;
  const int threads = argc > 5 ? std::atoi(argv[5]) : static_cast<int>(std::thread::hardware_concurrency());
  const int warmup = argc > 6 ? std::atoi(argv[6]) : 3;
  const std::string method_toml = argc > 7 ? std::string(argv[7]) + "\n" : "";
  winnow::configure_runtime(threads);
  const int64_t batch = 128;
  const bool cifar = model == "cnn9";
  winnow::Dataset data;
  data.name = "synthetic";
  torch::manual_seed(0);
  const int64_t n = batch * (warmup + steps);
  data.inputs = cifar ? torch::rand({n, 3, 32, 32}) : torch::rand({n, 1, 28, 28});
  data.labels = torch::randint(0, 10, {n}, torch::kInt64);
  data.num_classes = 10;
  winnow::Dataset empty;

  std::string toml = "[model]\nname = \"" + model + "\"\n[optim]\nname = \"adam\"\nlr = 0.001\n[method]\nname = \"" +
                     method + "\"\n";
  if (method == "coteaching") toml += "forget_rate = 0.5\n";
  toml += method_toml;
  auto config = winnow::Config::from_string(toml);
  winnow::TrainContext context;
  context.train = &data;
  context.val = &empty;
  context.model_spec = winnow::ModelSpec{data.sample_shape(), 10};
  context.epochs = 10;
  // Conv models are convolutional; the flag only matters for "auto".
  const bool convolutional = model != "mlp";
  context.model_spec.execution = winnow::resolve_execution(precision, "auto", convolutional, torch::kCPU,
                                                           winnow::cpu_has_native_bf16());
  torch::manual_seed(1);
  auto trainer = winnow::make_method(context, config);

  winnow::Batcher batcher(data, batch, /*shuffle=*/true, 7);
  std::vector<double> marks;
  batcher.set_progress([&](int64_t, int64_t) {
    marks.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count());
  });
  batcher.begin_epoch(0);
  trainer->set_training(true);
  const auto epoch_start = std::chrono::steady_clock::now();
  trainer->train_epoch(/*epoch=*/5, batcher);
  const double epoch_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - epoch_start).count();
  // The last step ends with the epoch; its end is not marked, so steps = marks - 1 intervals.
  std::vector<double> step_ms;
  for (size_t i = warmup + 1; i < marks.size(); ++i) step_ms.push_back(marks[i] - marks[i - 1]);
  std::sort(step_ms.begin(), step_ms.end());
  const double median = step_ms.empty() ? 0.0 : step_ms[step_ms.size() / 2];
  std::printf("{\"model\": \"%s\", \"method\": \"%s\", \"precision\": \"%s\", \"resolved\": \"%s\", "
              "\"channels_last\": %s, \"threads\": %d, \"steps\": %zu, \"median_step_ms\": %.3f, \"mean_step_ms\": %.3f}\n",
              model.c_str(), method.c_str(), precision.c_str(),
              winnow::precision_name(context.model_spec.execution.precision).c_str(),
              context.model_spec.execution.channels_last ? "true" : "false", threads, step_ms.size(), median,
              epoch_ms / static_cast<double>(marks.size()));
  return 0;
}
