// L_DMI (Xu, Cao, Kong & Wang, "L_DMI: A Novel Information-theoretic Loss Function for
// Training Deep Nets Robust to Label Noise", NeurIPS 2019).
//
// L_DMI = -log |det U|,  U = (1/N) Y^T O                                       (eq. 4)
// with O [N, K] the softmax outputs and Y [N, K] the one-hot noisy labels of a batch: U is
// the empirical joint distribution of (prediction, label), and |det U| is the determinant-
// based mutual information, which label noise (independent of the input) only scales by
// |det T| (Theorem 4.2), so its minimiser is noise-robust.
//
// It is a batch loss. forward() returns the batch value repeated N times, so that the mean
// of the vector is L_DMI (its sum is N * L_DMI); the entries are not individual losses and
// must not be used to rank samples.
//
// Numerical guard (so that training never produces NaN):
//  - U is formed and decomposed in float64.
//  - The value is -log(|det U| + epsilon / N^K), computed as -logaddexp(log|det U|,
//    log epsilon - K log N) from slogdet: epsilon = 1e-3 is the constant the official code
//    adds to det(Y^T O) (Newbeeer/L_DMI, CIFAR-10/DMI.py), i.e. to N^K det U. Negative
//    determinants are handled by the absolute value, as in the paper.
//  - When det U is 0 or negligible against that floor (a class absent from the batch gives
//    a zero row; N < K gives rank < K), the value is the floor -log(epsilon / N^K) with zero
//    gradient; slogdet is then evaluated on the identity instead of U, so no inf or NaN
//    reaches the backward pass. This needs no host-device synchronisation.
// Batch size: every class should appear in every batch, or that batch gives no gradient.
// With K balanced classes a batch of N misses some class with probability about
// K (1 - 1/K)^N, so N >= K ln(K / delta) keeps that below delta: K = 10 needs N >= 70 for
// delta = 1e-2 (the official CIFAR-10 code uses N = 256 and skips the incomplete last batch),
// K = 100 needs N >= 920.
//
// Recipe (Sec. 5 and the official code): train with CE first (CIFAR-10/CE.py, 120 epochs),
// then fine-tune with L_DMI (CIFAR-10/DMI.py, 100 epochs at learning rate 1e-6). Here the
// loss is CE for the first ce_epochs epochs and L_DMI after; the default keeps the official
// proportion, ce_epochs = epochs * 120 / 220. The learning-rate drop belongs to the optimiser
// schedule.
#include <cmath>

#include <fmt/format.h>

#include "common.h"
#include "winnow/losses/loss.h"
#include "winnow/losses/robust.h"

namespace winnow {

void DmiOptions::validate() const {
  require(epsilon_ > 0.0, "loss.epsilon = {} is out of range: the determinant guard must be > 0",
          epsilon_);
  require(ce_epochs_ >= 0, "loss.ce_epochs = {} is out of range: it must be >= 0", ce_epochs_);
}

namespace functional {

torch::Tensor dmi(const torch::Tensor& logits, const torch::Tensor& targets, int64_t num_classes,
                  double epsilon) {
  detail::check_loss_inputs(logits, targets, "dmi");
  require(logits.size(1) == num_classes, "dmi: logits have {} classes, expected {}", logits.size(1),
          num_classes);
  require(epsilon > 0.0, "dmi: epsilon = {} must be > 0", epsilon);
  const int64_t n = logits.size(0);
  const int64_t k = num_classes;
  auto options = logits.options().dtype(torch::kDouble);
  const double log_floor =
      std::log(epsilon) -
      static_cast<double>(k) * std::log(static_cast<double>(std::max<int64_t>(n, 1)));
  auto floor = torch::full({}, log_floor, options);

  auto outputs = torch::softmax(logits.to(torch::kDouble), 1);  // O
  auto labels = torch::one_hot(targets, k).to(torch::kDouble);  // Y
  if (n < k) {
    // rank(U) <= N < K: det U = 0 for any outputs. Keep the graph, give zero gradient.
    return (-floor + 0.0 * outputs.sum()).to(logits.scalar_type());
  }
  auto joint = labels.t().matmul(outputs) / static_cast<double>(n);  // U

  torch::Tensor usable;
  {
    torch::NoGradGuard no_grad;
    auto log_abs_det = std::get<1>(torch::linalg::slogdet(joint));
    usable = torch::isfinite(log_abs_det) & (log_abs_det > log_floor - 50.0);
  }
  auto safe = torch::where(usable, joint, torch::eye(k, options));
  auto log_abs_det = torch::where(usable, std::get<1>(torch::linalg::slogdet(safe)), floor - 100.0);
  return (-torch::logaddexp(log_abs_det, floor)).to(logits.scalar_type());
}

}  // namespace functional

namespace {

class DeterminantMutualInformation : public Loss {
 public:
  DeterminantMutualInformation(DmiOptions options, int64_t num_classes)
      : options_(options), num_classes_(num_classes) {
    options_.validate();
    require(num_classes >= 2, "dmi needs the number of classes (>= 2), got {}", num_classes);
    use_dmi_ = options_.ce_epochs() == 0;
  }
  torch::Tensor forward(const torch::Tensor& logits, const torch::Tensor& targets,
                        const torch::Tensor& /*indices*/) override {
    if (!use_dmi_) {
      detail::check_loss_inputs(logits, targets, "dmi (CE phase)");
      return -detail::target_log_probability(logits, targets);
    }
    auto value = functional::dmi(logits, targets, num_classes_, options_.epsilon());
    return value.expand({logits.size(0)}).contiguous();
  }
  void begin_epoch(int64_t epoch) override { use_dmi_ = epoch >= options_.ce_epochs(); }
  std::string describe() const override {
    return fmt::format("dmi epsilon={} ce_epochs={}", options_.epsilon(), options_.ce_epochs());
  }

 private:
  DmiOptions options_;
  int64_t num_classes_;
  bool use_dmi_ = false;
};

WINNOW_REGISTER(LossRegistry, "dmi",
                "L_DMI = -log|det(Y^T O / N)| after ce_epochs of CE (Xu et al. 2019); a batch "
                "loss, needs every class in each batch",
                [](const LossSpec& spec, Config& config) {
                  DmiOptions defaults;
                  auto options =
                      DmiOptions()
                          .epsilon(config.get<double>("loss.epsilon", defaults.epsilon()))
                          .ce_epochs(
                              config.get<int64_t>("loss.ce_epochs", spec.epochs * 120 / 220));
                  require(spec.epochs <= 0 || options.ce_epochs() < spec.epochs,
                          "loss.ce_epochs = {} is out of range: with train.epochs = {} it must "
                          "be in [0, {}) or L_DMI never trains",
                          options.ce_epochs(), spec.epochs, spec.epochs);
                  return std::make_shared<DeterminantMutualInformation>(options, spec.num_classes);
                });

}  // namespace
}  // namespace winnow
