// Bootstrapping (Reed, Lee, Anguelov, Szegedy, Erhan & Rabinovich, "Training Deep Neural
// Networks on Noisy Labels with Bootstrapping", ICLR workshop 2015): cross entropy against a
// convex combination of the noisy label and the model's own prediction.
//   soft (eq. 6): -sum_k (beta t_k + (1 - beta) q_k) log q_k,  beta = 0.95
//   hard (eq. 7): -sum_k (beta t_k + (1 - beta) z_k) log q_k,  beta = 0.8
// with q = softmax and z the one-hot argmax of q. Soft bootstrapping is CE plus a minimum-
// entropy term, so the gradient flows through q in the target as well, as in the paper's
// reading and in the Keras baseline of YisenWang/symmetric_cross_entropy_for_noisy_labels
// (loss.py, boot_soft/boot_hard, whose betas are the defaults here). The argmax of the hard
// variant is piecewise constant and carries no gradient.
#include <fmt/format.h>

#include "common.h"
#include "winnow/losses/loss.h"
#include "winnow/losses/robust.h"

namespace winnow {

void BootstrapOptions::validate() const {
  require(beta_ > 0.0 && beta_ <= 1.0,
          "loss.beta = {} is out of range: bootstrapping needs beta in (0, 1]", beta_);
}

namespace functional {

torch::Tensor bootstrap_soft(const torch::Tensor& logits, const torch::Tensor& targets,
                             const BootstrapOptions& options) {
  detail::check_loss_inputs(logits, targets, "bootstrap_soft");
  auto log_q = torch::log_softmax(logits, 1);
  auto nll = -log_q.gather(1, targets.unsqueeze(1)).squeeze(1);
  auto entropy = -(log_q.exp() * log_q).sum(1);
  return options.beta() * nll + (1.0 - options.beta()) * entropy;
}

torch::Tensor bootstrap_hard(const torch::Tensor& logits, const torch::Tensor& targets,
                             const BootstrapOptions& options) {
  detail::check_loss_inputs(logits, targets, "bootstrap_hard");
  auto log_q = torch::log_softmax(logits, 1);
  auto nll = -log_q.gather(1, targets.unsqueeze(1)).squeeze(1);
  auto predicted = logits.detach().argmax(1, /*keepdim=*/true);
  auto nll_predicted = -log_q.gather(1, predicted).squeeze(1);
  return options.beta() * nll + (1.0 - options.beta()) * nll_predicted;
}

}  // namespace functional

namespace {

class Bootstrap : public Loss {
 public:
  Bootstrap(BootstrapOptions options, bool hard) : options_(options), hard_(hard) {
    options_.validate();
  }
  torch::Tensor forward(const torch::Tensor& logits, const torch::Tensor& targets,
                        const torch::Tensor& /*indices*/) override {
    return hard_ ? functional::bootstrap_hard(logits, targets, options_)
                 : functional::bootstrap_soft(logits, targets, options_);
  }
  std::string describe() const override {
    return fmt::format("{} beta={}", hard_ ? "bootstrap_hard" : "bootstrap_soft", options_.beta());
  }

 private:
  BootstrapOptions options_;
  bool hard_;
};

WINNOW_REGISTER(LossRegistry, "bootstrap_soft",
                "soft bootstrapping, CE against beta e_y + (1 - beta) p (Reed et al. 2015)",
                [](const LossSpec&, Config& config) {
                  auto options = BootstrapOptions().beta(config.get<double>("loss.beta", 0.95));
                  return std::make_shared<Bootstrap>(options, /*hard=*/false);
                });

WINNOW_REGISTER(LossRegistry, "bootstrap_hard",
                "hard bootstrapping, CE against beta e_y + (1 - beta) onehot(argmax p) (Reed "
                "et al. 2015)",
                [](const LossSpec&, Config& config) {
                  auto options = BootstrapOptions().beta(config.get<double>("loss.beta", 0.8));
                  return std::make_shared<Bootstrap>(options, /*hard=*/true);
                });

}  // namespace
}  // namespace winnow
