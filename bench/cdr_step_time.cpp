// How much of a training iteration the optimizer step takes: SGD against CDR (paper and
// official variants; Xia et al., ICLR 2021) on the benchmark's networks, batch 32 of 28x28
// grey images, CPU. Times forward + backward and the step separately over many iterations
// (after a warm-up) and prints the step's share of the iteration.
//
//   build/bench/winnow_cdr_step_time [iterations=500] [threads=all]   (cmake -DWINNOW_BUILD_BENCH=ON)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <torch/torch.h>

#include "winnow/core/config.h"
#include "winnow/models/network.h"
#include "winnow/optim/optimizer.h"

namespace {

struct Timing {
  double forward_backward_ms = 0;
  double step_ms = 0;
};

Timing measure(const std::string& model_toml, const std::string& optimizer_toml, int iterations) {
  using clock = std::chrono::steady_clock;
  torch::manual_seed(1);
  auto config = winnow::Config::from_string("[model]\n" + model_toml + "[optim]\n" + optimizer_toml);
  auto network = winnow::make_model(winnow::ModelSpec{{1, 28, 28}, 10}, config);
  auto optimizer = winnow::make_optimizer(winnow::OptimizerSpec{network->parameters(), 30, 0.4}, config);
  auto x = torch::randn({32, 1, 28, 28});
  auto y = torch::randint(0, 10, {32});
  Timing t;
  const int warmup = 50;
  for (int i = 0; i < warmup + iterations; ++i) {
    const auto start = clock::now();
    optimizer->zero_grad();
    torch::nn::functional::cross_entropy(network->forward(x), y).backward();
    const auto middle = clock::now();
    optimizer->step();
    const auto end = clock::now();
    if (i >= warmup) {
      t.forward_backward_ms += std::chrono::duration<double, std::milli>(middle - start).count();
      t.step_ms += std::chrono::duration<double, std::milli>(end - middle).count();
    }
  }
  t.forward_backward_ms /= iterations;
  t.step_ms /= iterations;
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 500;
  const int threads = argc > 2 ? std::atoi(argv[2]) : static_cast<int>(std::thread::hardware_concurrency());
  torch::set_num_threads(threads);
  const char* optimizers[][2] = {
      {"sgd", "name = \"sgd\"\nmomentum = 0.9\nweight_decay = 0.001\n"},
      {"cdr paper", "name = \"cdr\"\nvariant = \"paper\"\n"},
      {"cdr official", "name = \"cdr\"\nvariant = \"official\"\n"},
  };
  std::printf("batch 32, 1x28x28, %d iterations, %d threads\n", iterations, threads);
  std::printf("| model | optimizer | forward+backward ms | step ms | step share of iteration |\n");
  std::printf("| --- | --- | --- | --- | --- |\n");
  const char* models[][2] = {
      {"lenet5", "name = \"lenet5\"\n"},
      {"cnn4", "name = \"cnn4\"\n"},
      {"mlp 784-512-512-10", "name = \"mlp\"\nhidden = [512, 512]\n"},
  };
  for (const auto& model : models) {
    for (const auto& optimizer : optimizers) {
      Timing t = measure(model[1], optimizer[1], iterations);
      std::printf("| %s | %s | %.3f | %.3f | %.1f%% |\n", model[0], optimizer[0], t.forward_backward_ms, t.step_ms,
                  100.0 * t.step_ms / (t.forward_backward_ms + t.step_ms));
      std::fflush(stdout);
    }
  }
  return 0;
}
