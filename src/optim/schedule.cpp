#include <cmath>

#include "winnow/core/error.h"
#include "winnow/optim/optimizer.h"

namespace winnow {

Schedule Schedule::from_config(Config& config, int64_t epochs, double base_lr) {
  Schedule s;
  s.epochs_ = epochs;
  s.base_lr_ = base_lr;
  s.kind_ = config.get_choice("optim.schedule", "none", {"none", "multistep", "cosine", "coteaching"});
  if (s.kind_ == "multistep") {
    s.milestones_ = config.get<std::vector<int64_t>>("optim.milestones", {epochs / 2, epochs * 3 / 4});
    s.gamma_ = config.get<double>("optim.gamma", 0.1);
    require(s.gamma_ > 0 && s.gamma_ <= 1, "optim.gamma = {}: allowed (0, 1]", s.gamma_);
    for (auto m : s.milestones_) require(m >= 0, "optim.milestones: {} must be >= 0", m);
  } else if (s.kind_ == "cosine") {
    s.eta_min_ = config.get<double>("optim.eta_min", 0.0);
    require(s.eta_min_ >= 0 && s.eta_min_ <= s.base_lr_, "optim.eta_min = {}: allowed [0, optim.lr]",
            s.eta_min_);
  } else if (s.kind_ == "coteaching") {
    s.decay_start_ = config.get<int64_t>("optim.decay_start", 80);
    require(s.decay_start_ >= 0, "optim.decay_start = {}: must be >= 0", s.decay_start_);
  }
  return s;
}

double Schedule::learning_rate(int64_t epoch) const {
  if (kind_ == "multistep") {
    int64_t passed = 0;
    for (auto m : milestones_) passed += (epoch >= m);
    return base_lr_ * std::pow(gamma_, static_cast<double>(passed));
  }
  if (kind_ == "cosine") {
    const double pi = std::acos(-1.0);
    return eta_min_ + (base_lr_ - eta_min_) * (1 + std::cos(pi * epoch / epochs_)) / 2;
  }
  if (kind_ == "coteaching" && epoch >= decay_start_ && epochs_ > decay_start_) {
    return base_lr_ * static_cast<double>(epochs_ - epoch) / static_cast<double>(epochs_ - decay_start_);
  }
  return base_lr_;
}

std::optional<double> Schedule::beta1(int64_t epoch) const {
  if (kind_ != "coteaching") return std::nullopt;
  return epoch >= decay_start_ ? 0.1 : 0.9;
}

void Schedule::apply(torch::optim::Optimizer& optimizer, int64_t epoch) const {
  const double lr = learning_rate(epoch);
  const auto beta = beta1(epoch);
  for (auto& group : optimizer.param_groups()) {
    group.options().set_lr(lr);
    if (beta) {
      if (auto* adam = dynamic_cast<torch::optim::AdamOptions*>(&group.options())) {
        adam->betas({*beta, std::get<1>(adam->betas())});
      }
    }
  }
}

std::string Schedule::describe() const {
  if (kind_ == "multistep") return fmt::format("multistep milestones=[{}] gamma={}", fmt::join(milestones_, ","), gamma_);
  if (kind_ == "cosine") return fmt::format("cosine eta_min={}", eta_min_);
  if (kind_ == "coteaching") return fmt::format("coteaching decay_start={}", decay_start_);
  return "none";
}

}  // namespace winnow
