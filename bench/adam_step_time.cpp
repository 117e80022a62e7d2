// torch::optim::Adam against winnow::FusedAdam: milliseconds of forward+backward and of the
// optimizer step for the benchmark networks at batch 128 (1x28x28), CPU, in one process,
// alternating blocks of iterations so that both see the same machine.
//
//   build/bench/winnow_adam_step_time [iterations=300] [threads=all]   (cmake -DWINNOW_BUILD_BENCH=ON)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

#include <torch/torch.h>

#include "winnow/core/config.h"
#include "winnow/models/network.h"
#include "winnow/optim/fused_adam.h"

namespace {

struct Timing {
  double forward_backward_ms = 0;
  double step_ms = 0;
};

void run(winnow::Network& network, torch::optim::Optimizer& optimizer, int iterations, Timing& t) {
  using clock = std::chrono::steady_clock;
  auto x = torch::randn({128, 1, 28, 28});
  auto y = torch::randint(0, 10, {128});
  for (int i = 0; i < iterations; ++i) {
    const auto start = clock::now();
    optimizer.zero_grad();
    torch::nn::functional::cross_entropy(network.forward(x), y).backward();
    const auto middle = clock::now();
    optimizer.step();
    const auto end = clock::now();
    t.forward_backward_ms += std::chrono::duration<double, std::milli>(middle - start).count();
    t.step_ms += std::chrono::duration<double, std::milli>(end - middle).count();
  }
}

}  // namespace

int main(int argc, char** argv) {
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 300;
  const int threads = argc > 2 ? std::atoi(argv[2]) : static_cast<int>(std::thread::hardware_concurrency());
  torch::set_num_threads(threads);
  std::printf("batch 128, 1x28x28, %d iterations in 10 alternating blocks, %d threads\n", iterations, threads);
  std::printf("| model | optimizer | forward+backward ms | step ms | step share of iteration |\n");
  std::printf("| --- | --- | --- | --- | --- |\n");
  for (const char* model : {"mlp", "cnn4"}) {
    torch::manual_seed(1);
    auto config = winnow::Config::from_string(std::string("[model]\nname = \"") + model + "\"\n");
    auto net_a = winnow::make_model(winnow::ModelSpec{{1, 28, 28}, 10}, config);
    auto net_b = winnow::make_model(winnow::ModelSpec{{1, 28, 28}, 10}, config);
    torch::optim::Adam adam(net_a->parameters(), torch::optim::AdamOptions(1e-3));
    winnow::FusedAdam fused(net_b->parameters(), torch::optim::AdamOptions(1e-3));
    Timing ta, tb, warm;
    run(*net_a, adam, 20, warm);
    run(*net_b, fused, 20, warm);
    for (int block = 0; block < 10; ++block) {
      run(*net_a, adam, iterations / 10, ta);
      run(*net_b, fused, iterations / 10, tb);
    }
    for (auto [name, t] : {std::pair<const char*, Timing>{"torch::optim::Adam", ta}, {"winnow::FusedAdam", tb}}) {
      const double fb = t.forward_backward_ms / iterations, st = t.step_ms / iterations;
      std::printf("| %s | %s | %.3f | %.3f | %.1f%% |\n", model, name, fb, st, 100.0 * st / (fb + st));
    }
    std::fflush(stdout);
  }
  return 0;
}
