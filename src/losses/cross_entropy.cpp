// Cross entropy, the baseline every robust loss is compared against:
// l(x, y) = -log softmax(f(x))_y.
#include "winnow/losses/loss.h"

namespace winnow {
namespace {

class CrossEntropy : public Loss {
 public:
  torch::Tensor forward(const torch::Tensor& logits, const torch::Tensor& targets,
                        const torch::Tensor& /*indices*/) override {
    return torch::nn::functional::cross_entropy(
        logits, targets, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  }
  std::string describe() const override { return "ce"; }
};

WINNOW_REGISTER(LossRegistry, "ce", "cross entropy, -log p_y (the baseline)",
                [](const LossSpec&, Config&) { return std::make_shared<CrossEntropy>(); });

}  // namespace
}  // namespace winnow
