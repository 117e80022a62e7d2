// Normalized cross entropy and the active-passive loss NCE+RCE (Ma, Huang, Wang, Romano,
// Erfani & Bailey, "Normalized Loss Functions for Deep Learning with Noisy Labels",
// ICML 2020).
//
// NCE = -log p_y / (-sum_k log p_k) = log p_y / sum_k log p_k                 (eq. 3)
// Normalising any loss by its sum over all labels makes it robust (Lemma 1), but on its own
// it underfits; an "active" normalised loss is paired with a "passive" robust one:
// APL = alpha * NCE + beta * RCE                                              (eq. 7)
//
// The official code (HanxunH/Active-Passive-Losses, loss.py) computes RCE with the one-hot
// label clipped at 1e-4, i.e. A = ln(1e-4) = -9.21; we default to the SCE paper's A = -4
// (loss.log_zero = -9.2103 matches the code). Presets (loss.preset) are the official configs:
// nce+rce.yaml alpha/beta for mnist 1/10, cifar10 1/1, cifar100 10/0.1, webvision_mini
// 50/0.1; nce.yaml scale for mnist 10, cifar10 and cifar100 1.
#include <fmt/format.h>

#include "common.h"
#include "winnow/losses/loss.h"
#include "winnow/losses/robust.h"

namespace winnow {

void NormalizedCrossEntropyOptions::validate() const {
  require(scale_ > 0.0, "loss.scale = {} is out of range: the NCE scale must be > 0", scale_);
}

void NceRceOptions::validate() const {
  require(alpha_ >= 0.0, "loss.alpha = {} is out of range: the NCE weight must be >= 0", alpha_);
  require(beta_ >= 0.0, "loss.beta = {} is out of range: the RCE weight must be >= 0", beta_);
  require(alpha_ > 0.0 || beta_ > 0.0,
          "loss.alpha and loss.beta are both 0: NCE+RCE needs a positive weight");
  ReverseCrossEntropyOptions().log_zero(log_zero_).validate();
}

namespace functional {

torch::Tensor normalized_cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets,
                                       const NormalizedCrossEntropyOptions& options) {
  detail::check_loss_inputs(logits, targets, "nce");
  auto log_p = torch::log_softmax(logits, 1);
  auto log_p_y = log_p.gather(1, targets.unsqueeze(1)).squeeze(1);
  return options.scale() * log_p_y / log_p.sum(1);
}

torch::Tensor nce_rce(const torch::Tensor& logits, const torch::Tensor& targets,
                      const NceRceOptions& options) {
  auto nce = normalized_cross_entropy(logits, targets, NormalizedCrossEntropyOptions());
  auto rce = reverse_cross_entropy(logits, targets,
                                   ReverseCrossEntropyOptions().log_zero(options.log_zero()));
  return options.alpha() * nce + options.beta() * rce;
}

}  // namespace functional

namespace {

class NormalizedCrossEntropy : public Loss {
 public:
  explicit NormalizedCrossEntropy(NormalizedCrossEntropyOptions options) : options_(options) {
    options_.validate();
  }
  torch::Tensor forward(const torch::Tensor& logits, const torch::Tensor& targets,
                        const torch::Tensor& /*indices*/) override {
    return functional::normalized_cross_entropy(logits, targets, options_);
  }
  std::string describe() const override { return fmt::format("nce scale={}", options_.scale()); }

 private:
  NormalizedCrossEntropyOptions options_;
};

class NceRce : public Loss {
 public:
  explicit NceRce(NceRceOptions options) : options_(options) { options_.validate(); }
  torch::Tensor forward(const torch::Tensor& logits, const torch::Tensor& targets,
                        const torch::Tensor& /*indices*/) override {
    return functional::nce_rce(logits, targets, options_);
  }
  std::string describe() const override {
    return fmt::format("nce_rce alpha={} beta={} log_zero={}", options_.alpha(), options_.beta(),
                       options_.log_zero());
  }

 private:
  NceRceOptions options_;
};

struct AlphaBeta {
  double alpha;
  double beta;
};

WINNOW_REGISTER(LossRegistry, "nce",
                "normalized cross entropy log p_y / sum_k log p_k (Ma et al. 2020); presets "
                "mnist, cifar10, cifar100",
                [](const LossSpec&, Config& config) {
                  NormalizedCrossEntropyOptions defaults;
                  double scale = detail::read_preset<double>(
                      config, defaults.scale(),
                      {{"mnist", 10.0}, {"cifar10", 1.0}, {"cifar100", 1.0}});
                  auto options = NormalizedCrossEntropyOptions().scale(
                      config.get<double>("loss.scale", scale));
                  return std::make_shared<NormalizedCrossEntropy>(options);
                });

WINNOW_REGISTER(LossRegistry, "nce_rce",
                "active-passive loss alpha * NCE + beta * RCE (Ma et al. 2020); presets mnist, "
                "cifar10, cifar100, webvision",
                [](const LossSpec&, Config& config) {
                  NceRceOptions defaults;
                  auto preset =
                      detail::read_preset<AlphaBeta>(config, {defaults.alpha(), defaults.beta()},
                                                     {{"mnist", {1.0, 10.0}},
                                                      {"cifar10", {1.0, 1.0}},
                                                      {"cifar100", {10.0, 0.1}},
                                                      {"webvision", {50.0, 0.1}}});
                  auto options =
                      NceRceOptions()
                          .alpha(config.get<double>("loss.alpha", preset.alpha))
                          .beta(config.get<double>("loss.beta", preset.beta))
                          .log_zero(config.get<double>("loss.log_zero", defaults.log_zero()));
                  return std::make_shared<NceRce>(options);
                });

}  // namespace
}  // namespace winnow
