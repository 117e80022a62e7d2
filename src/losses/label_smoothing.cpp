// Label smoothing (Szegedy, Vanhoucke, Ioffe, Shlens & Wojna, "Rethinking the Inception
// Architecture for Computer Vision", CVPR 2016, Sec. 7): cross entropy against the smoothed
// label q' = (1 - epsilon) e_y + epsilon / K,
//   l = (1 - epsilon) (-log p_y) + epsilon * (1/K) sum_k (-log p_k).
// The same target as torch's CrossEntropyLoss(label_smoothing=epsilon) and as the "lsr"
// baseline of the SCE code (YisenWang/symmetric_cross_entropy_for_noisy_labels, loss.py),
// whose epsilon = 0.1 is the default here.
#include <fmt/format.h>

#include "common.h"
#include "winnow/losses/loss.h"
#include "winnow/losses/robust.h"

namespace winnow {

void LabelSmoothingOptions::validate() const {
  require(epsilon_ >= 0.0 && epsilon_ < 1.0,
          "loss.epsilon = {} is out of range: label smoothing needs epsilon in [0, 1)", epsilon_);
}

namespace functional {

torch::Tensor label_smoothing_cross_entropy(const torch::Tensor& logits,
                                            const torch::Tensor& targets,
                                            const LabelSmoothingOptions& options) {
  detail::check_loss_inputs(logits, targets, "label_smoothing");
  auto log_p = torch::log_softmax(logits, 1);
  auto nll = -log_p.gather(1, targets.unsqueeze(1)).squeeze(1);
  auto uniform = -log_p.mean(1);
  return (1.0 - options.epsilon()) * nll + options.epsilon() * uniform;
}

}  // namespace functional

namespace {

class LabelSmoothing : public Loss {
 public:
  explicit LabelSmoothing(LabelSmoothingOptions options) : options_(options) {
    options_.validate();
  }
  torch::Tensor forward(const torch::Tensor& logits, const torch::Tensor& targets,
                        const torch::Tensor& /*indices*/) override {
    return functional::label_smoothing_cross_entropy(logits, targets, options_);
  }
  std::string describe() const override {
    return fmt::format("label_smoothing epsilon={}", options_.epsilon());
  }

 private:
  LabelSmoothingOptions options_;
};

WINNOW_REGISTER(LossRegistry, "label_smoothing",
                "cross entropy against (1 - epsilon) e_y + epsilon / K (Szegedy et al. 2016)",
                [](const LossSpec&, Config& config) {
                  LabelSmoothingOptions defaults;
                  auto options = LabelSmoothingOptions().epsilon(
                      config.get<double>("loss.epsilon", defaults.epsilon()));
                  return std::make_shared<LabelSmoothing>(options);
                });

}  // namespace
}  // namespace winnow
