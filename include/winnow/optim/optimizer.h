#pragma once
// Optimizers by name (LibTorch's SGD and Adam; CDR and others register here too) and the
// per-epoch schedules the papers use.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "winnow/core/config.h"
#include "winnow/core/registry.h"

namespace winnow {

class NoiseSource;

struct OptimizerSpec {
  std::vector<torch::Tensor> parameters;
  int64_t epochs = 0;
  // Noise rate when the run simulates noise (CDR's tau defaults to it); unset otherwise.
  std::optional<double> noise_rate;
  // The run's estimate of the noise, for "auto" (may be null: estimate/noise_source.h).
  std::shared_ptr<NoiseSource> noise_source;
};

struct OptimizerTag {
  // Reads its options from the [optim] section of the config.
  using Factory =
      std::function<std::unique_ptr<torch::optim::Optimizer>(const OptimizerSpec&, Config&)>;
  static constexpr const char* kind = "optimizer";
};
using OptimizerRegistry = Registry<OptimizerTag>;

// The optimizer named by `optim.name`.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerSpec& spec, Config& config);

// Learning-rate (and Adam beta1) schedule over epochs, read from `optim.schedule`:
//  - "none": constant;
//  - "multistep": lr * gamma^(number of milestones <= epoch) (`milestones`, `gamma`);
//  - "cosine": eta_min + (lr - eta_min) (1 + cos(pi epoch / epochs)) / 2;
//  - "coteaching": Co-teaching's plan (Han et al. 2018, official code): from epoch
//    `decay_start` (default 80) the lr decays linearly, lr (epochs - e) / (epochs - decay_start),
//    and Adam's beta1 drops from 0.9 to 0.1.
class Schedule {
 public:
  // `base_lr` is the optimizer's configured learning rate.
  static Schedule from_config(Config& config, int64_t epochs, double base_lr);
  double learning_rate(int64_t epoch) const;
  // Adam beta1 for the epoch where the schedule sets it.
  std::optional<double> beta1(int64_t epoch) const;
  // Sets lr (and beta1 for Adam) of every parameter group for this 0-based epoch.
  void apply(torch::optim::Optimizer& optimizer, int64_t epoch) const;
  std::string describe() const;

 private:
  std::string kind_ = "none";
  double base_lr_ = 0.001;
  int64_t epochs_ = 1;
  std::vector<int64_t> milestones_;
  double gamma_ = 0.1;
  double eta_min_ = 0.0;
  int64_t decay_start_ = 80;
};

}  // namespace winnow
