// Mean absolute error (Ghosh, Kumar & Sastry, "Robust loss functions under label noise for
// deep neural networks", AAAI 2017): the L1 distance between the softmax and the one-hot
// label, ||e_y - p||_1 = (1 - p_y) + sum_{k != y} p_k = 2 - 2 p_y. Symmetric (sum over the
// classes is constant), hence noise tolerant under symmetric noise (Theorem 1).
#include "common.h"
#include "winnow/losses/loss.h"
#include "winnow/losses/robust.h"

namespace winnow {
namespace functional {

torch::Tensor mean_absolute_error(const torch::Tensor& logits, const torch::Tensor& targets) {
  detail::check_loss_inputs(logits, targets, "mae");
  return 2.0 - 2.0 * detail::target_probability(logits, targets);
}

}  // namespace functional

namespace {

class MeanAbsoluteError : public Loss {
 public:
  torch::Tensor forward(const torch::Tensor& logits, const torch::Tensor& targets,
                        const torch::Tensor& /*indices*/) override {
    return functional::mean_absolute_error(logits, targets);
  }
  std::string describe() const override { return "mae"; }
};

WINNOW_REGISTER(LossRegistry, "mae", "mean absolute error ||e_y - p||_1 = 2 - 2 p_y (Ghosh 2017)",
                [](const LossSpec&, Config&) { return std::make_shared<MeanAbsoluteError>(); });

}  // namespace
}  // namespace winnow
