// Symmetric cross entropy and reverse cross entropy (Wang, Ma, Chen, Luo, Yi & Bailey,
// "Symmetric Cross Entropy for Robust Learning with Noisy Labels", ICCV 2019).
//
// RCE = -sum_k p_k log q(k|x)                                                 (eq. 5)
// with q the one-hot label distribution and log 0 defined as A < 0: log q(y|x) = 0 and
// log q(k|x) = A for k != y, so RCE = -A sum_{k != y} p_k = -A (1 - p_y). With A = -2 it is
// exactly the MAE of Ghosh et al. (2 - 2 p_y).
// SCE = alpha * CE + beta * RCE                                               (eq. 6)
//
// Differences from the official code (YisenWang/symmetric_cross_entropy_for_noisy_labels,
// Keras, and HanxunH/SCELoss-Reproduce, PyTorch): both clip the one-hot label at 1e-4, i.e.
// A = ln(1e-4) = -9.21, not the paper's A = -4; set loss.log_zero = -9.2103 to match them.
// They also clip p at 1e-7 inside CE; we use log_softmax, which needs no clip.
//
// Presets (loss.preset): alpha/beta of the official train_models.py (MNIST 0.01/1.0,
// CIFAR-10 0.1/1.0, CIFAR-100 6.0/0.1, the same in the SCE configs of
// HanxunH/Active-Passive-Losses) and of the WebVision
// config of HanxunH/Active-Passive-Losses (10.0/1.0).
#include <fmt/format.h>

#include "common.h"
#include "winnow/losses/loss.h"
#include "winnow/losses/robust.h"

namespace winnow {

void ReverseCrossEntropyOptions::validate() const {
  require(log_zero_ < 0.0,
          "loss.log_zero = {} is out of range: A (the value of log 0 in RCE) must be < 0",
          log_zero_);
}

void SymmetricCrossEntropyOptions::validate() const {
  require(alpha_ >= 0.0, "loss.alpha = {} is out of range: the CE weight must be >= 0", alpha_);
  require(beta_ >= 0.0, "loss.beta = {} is out of range: the RCE weight must be >= 0", beta_);
  require(alpha_ > 0.0 || beta_ > 0.0,
          "loss.alpha and loss.beta are both 0: SCE needs a "
          "positive weight on CE or RCE");
  ReverseCrossEntropyOptions().log_zero(log_zero_).validate();
}

namespace functional {

torch::Tensor reverse_cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets,
                                    const ReverseCrossEntropyOptions& options) {
  detail::check_loss_inputs(logits, targets, "rce");
  return -options.log_zero() * (1.0 - detail::target_probability(logits, targets));
}

torch::Tensor symmetric_cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets,
                                      const SymmetricCrossEntropyOptions& options) {
  detail::check_loss_inputs(logits, targets, "sce");
  auto ce = -detail::target_log_probability(logits, targets);
  auto rce = reverse_cross_entropy(logits, targets,
                                   ReverseCrossEntropyOptions().log_zero(options.log_zero()));
  return options.alpha() * ce + options.beta() * rce;
}

}  // namespace functional

namespace {

class ReverseCrossEntropy : public Loss {
 public:
  explicit ReverseCrossEntropy(ReverseCrossEntropyOptions options) : options_(options) {
    options_.validate();
  }
  torch::Tensor forward(const torch::Tensor& logits, const torch::Tensor& targets,
                        const torch::Tensor& /*indices*/) override {
    return functional::reverse_cross_entropy(logits, targets, options_);
  }
  std::string describe() const override {
    return fmt::format("rce log_zero={}", options_.log_zero());
  }

 private:
  ReverseCrossEntropyOptions options_;
};

class SymmetricCrossEntropy : public Loss {
 public:
  explicit SymmetricCrossEntropy(SymmetricCrossEntropyOptions options) : options_(options) {
    options_.validate();
  }
  torch::Tensor forward(const torch::Tensor& logits, const torch::Tensor& targets,
                        const torch::Tensor& /*indices*/) override {
    return functional::symmetric_cross_entropy(logits, targets, options_);
  }
  std::string describe() const override {
    return fmt::format("sce alpha={} beta={} log_zero={}", options_.alpha(), options_.beta(),
                       options_.log_zero());
  }

 private:
  SymmetricCrossEntropyOptions options_;
};

struct AlphaBeta {
  double alpha;
  double beta;
};

WINNOW_REGISTER(LossRegistry, "rce",
                "reverse cross entropy -sum_k p_k log q_k with log 0 = A (Wang et al. 2019)",
                [](const LossSpec&, Config& config) {
                  ReverseCrossEntropyOptions defaults;
                  auto options = ReverseCrossEntropyOptions().log_zero(
                      config.get<double>("loss.log_zero", defaults.log_zero()));
                  return std::make_shared<ReverseCrossEntropy>(options);
                });

WINNOW_REGISTER(LossRegistry, "sce",
                "symmetric cross entropy alpha * CE + beta * RCE (Wang et al. 2019); "
                "presets mnist, cifar10, cifar100, webvision",
                [](const LossSpec&, Config& config) {
                  SymmetricCrossEntropyOptions defaults;
                  auto preset =
                      detail::read_preset<AlphaBeta>(config, {defaults.alpha(), defaults.beta()},
                                                     {{"mnist", {0.01, 1.0}},
                                                      {"cifar10", {0.1, 1.0}},
                                                      {"cifar100", {6.0, 0.1}},
                                                      {"webvision", {10.0, 1.0}}});
                  auto options =
                      SymmetricCrossEntropyOptions()
                          .alpha(config.get<double>("loss.alpha", preset.alpha))
                          .beta(config.get<double>("loss.beta", preset.beta))
                          .log_zero(config.get<double>("loss.log_zero", defaults.log_zero()));
                  return std::make_shared<SymmetricCrossEntropy>(options);
                });

}  // namespace
}  // namespace winnow
