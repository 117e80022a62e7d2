// Peer loss (Liu & Guo, "Peer Loss Functions: Learning from Noisy Labels without Knowing
// Noise Rates", ICML 2020).
//
// l_peer(f(x_i), y_i) = l(f(x_i), y_i) - alpha * l(f(x_{n1}), y_{n2})   (eq. 5; alpha-weighted
// form of Sec. 5), where the peer sample n1 and the peer label n2 are drawn independently
// from the training set. The second term penalises agreeing with a random label, which
// cancels the effect of label noise in expectation (Theorem 2) without knowing the noise rate.
//
// Choices taken from the official multi-class code (weijiaheng/Multi-class-Peer-Loss-functions,
// */runner.py):
//  - l is the "stable" cross entropy -log(softmax + 1e-5), for both terms: with the exact CE
//    the peer term is unbounded below and training diverges.
//  - alpha follows f_alpha(epoch), a concatenation of numpy.linspace segments: 0 for a
//    warm-up, then linear ramps. The presets below copy those schedules; the runners choose
//    "sparse" for their noise files r = 0.1 and 0.2 and the other schedule otherwise. The
//    CIFAR-10 schedules hold 340 values for 300-epoch runs; we copy them as they are. (The
//    runners also divide the learning rate by 1 + alpha: that is the optimiser's business.)
//  - The official runner draws the peer samples and the peer labels from two further batches
//    of a separately shuffled loader. A loss sees only its batch, so we draw n1 and n2 from
//    the batch (uniformly, independently, with replacement): the batch is itself a uniform
//    sample of the training set. functional::peer_loss takes explicit peers for methods that
//    want the loader version.
// Randomness comes from the default torch generator of the logits' device (or the one
// passed in), so torch::manual_seed makes the peers reproducible.
#include <cmath>

#include <fmt/format.h>

#include "common.h"
#include "winnow/losses/loss.h"
#include "winnow/losses/robust.h"

namespace winnow {

void PeerLossOptions::validate() const {
  require(alpha_ >= 0.0, "loss.alpha = {} is out of range: the peer weight must be >= 0", alpha_);
  require(epsilon_ >= 0.0 && epsilon_ < 1.0,
          "loss.epsilon = {} is out of range: the stable-CE epsilon must be in [0, 1)", epsilon_);
  require(alpha_schedule_.size() % 3 == 0,
          "loss.alpha_schedule has {} numbers: it must be segments of three "
          "(length, start, end)",
          alpha_schedule_.size());
  for (size_t i = 0; i < alpha_schedule_.size(); i += 3) {
    double length = alpha_schedule_[i];
    require(length >= 1.0 && std::floor(length) == length,
            "loss.alpha_schedule segment {}: length = {} must be a whole number of epochs >= 1",
            i / 3, length);
    require(alpha_schedule_[i + 1] >= 0.0 && alpha_schedule_[i + 2] >= 0.0,
            "loss.alpha_schedule segment {}: alpha values ({}, {}) must be >= 0", i / 3,
            alpha_schedule_[i + 1], alpha_schedule_[i + 2]);
  }
}

double PeerLossOptions::alpha_at(int64_t epoch) const {
  if (alpha_schedule_.empty()) return alpha_;
  int64_t first = 0;
  for (size_t i = 0; i < alpha_schedule_.size(); i += 3) {
    auto length = static_cast<int64_t>(alpha_schedule_[i]);
    double start = alpha_schedule_[i + 1];
    double end = alpha_schedule_[i + 2];
    if (epoch < first + length) {
      if (length == 1) return start;
      // numpy.linspace(start, end, num=length)[epoch - first]
      return start +
             (end - start) * static_cast<double>(epoch - first) / static_cast<double>(length - 1);
    }
    first += length;
  }
  return alpha_schedule_.back();
}

namespace {

// -log(softmax(z)_y + epsilon), [N]; epsilon = 0 gives the exact CE from log_softmax.
torch::Tensor stable_cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets,
                                   double epsilon) {
  if (epsilon == 0.0) return -detail::target_log_probability(logits, targets);
  return -torch::log(detail::target_probability(logits, targets) + epsilon);
}

}  // namespace

namespace functional {

torch::Tensor peer_loss(const torch::Tensor& logits, const torch::Tensor& targets,
                        const torch::Tensor& peer_logits, const torch::Tensor& peer_targets,
                        double alpha, double epsilon) {
  detail::check_loss_inputs(logits, targets, "peer");
  detail::check_loss_inputs(peer_logits, peer_targets, "peer (peer samples)");
  require(peer_logits.size(0) == logits.size(0), "peer: {} peer samples for {} samples",
          peer_logits.size(0), logits.size(0));
  return stable_cross_entropy(logits, targets, epsilon) -
         alpha * stable_cross_entropy(peer_logits, peer_targets, epsilon);
}

torch::Tensor peer_loss_in_batch(const torch::Tensor& logits, const torch::Tensor& targets,
                                 double alpha, double epsilon,
                                 c10::optional<at::Generator> generator) {
  detail::check_loss_inputs(logits, targets, "peer");
  const int64_t n = logits.size(0);
  auto index_options = torch::TensorOptions().dtype(torch::kLong).device(logits.device());
  auto peer_samples = torch::randint(n, {n}, generator, index_options);  // n1
  auto peer_labels = torch::randint(n, {n}, generator, index_options);   // n2, independent
  return peer_loss(logits, targets, logits.index_select(0, peer_samples),
                   targets.index_select(0, peer_labels), alpha, epsilon);
}

}  // namespace functional

namespace {

class PeerLoss : public Loss {
 public:
  explicit PeerLoss(PeerLossOptions options) : options_(std::move(options)) {
    options_.validate();
    alpha_ = options_.alpha_at(0);
  }
  torch::Tensor forward(const torch::Tensor& logits, const torch::Tensor& targets,
                        const torch::Tensor& /*indices*/) override {
    return functional::peer_loss_in_batch(logits, targets, alpha_, options_.epsilon());
  }
  void begin_epoch(int64_t epoch) override { alpha_ = options_.alpha_at(epoch); }
  std::string describe() const override {
    if (options_.alpha_schedule().empty()) {
      return fmt::format("peer alpha={} epsilon={}", options_.alpha(), options_.epsilon());
    }
    return fmt::format("peer alpha_schedule=[{}] epsilon={} (alpha now {})",
                       fmt::join(options_.alpha_schedule(), ", "), options_.epsilon(), alpha_);
  }

 private:
  PeerLossOptions options_;
  double alpha_ = 0.0;  // the weight in force for the current epoch
};

// The factory is a named function: the presets' braced lists would split macro arguments.
std::shared_ptr<Loss> make_peer_loss(const LossSpec&, Config& config) {
  PeerLossOptions defaults;
  // (length, start, end) segments of f_alpha in the official runners.
  const std::vector<double> mnist{120, 0, 0, 180, 0, 1};
  auto schedule = detail::read_preset<std::vector<double>>(
      config, defaults.alpha_schedule(),
      {{"mnist", mnist},
       {"fashion-mnist", mnist},
       {"cifar10", {20, 0, 0, 20, 0, 0.1, 50, 1, 2, 50, 2, 2.5, 100, 2.5, 3.3, 100, 3.3, 5}},
       {"cifar10-sparse", {20, 0, 0, 20, 0, 1, 50, 1, 2, 50, 2, 5, 100, 5, 10, 100, 10, 20}},
       {"cifar100", {100, 0, 0, 150, 0.95, 0.95}},
       {"cifar100-sparse", {110, 0, 0, 20, 0, 2, 70, 2, 10, 50, 10, 20}}});
  bool alpha_given = config.has("loss.alpha");
  auto options =
      PeerLossOptions()
          .alpha(config.get<double>("loss.alpha", defaults.alpha()))
          .alpha_schedule(config.get<std::vector<double>>("loss.alpha_schedule", schedule))
          .epsilon(config.get<double>("loss.epsilon", defaults.epsilon()));
  require(!(alpha_given && !options.alpha_schedule().empty()),
          "loss.alpha = {} would be ignored: loss.alpha_schedule (or the preset) sets alpha "
          "per epoch; give one of them",
          options.alpha());
  return std::make_shared<PeerLoss>(options);
}

WINNOW_REGISTER(
    LossRegistry, "peer",
    "peer loss CE(x_i, y_i) - alpha * CE(x_n1, y_n2) (Liu & Guo 2020); presets with the "
    "official alpha schedules: mnist, fashion-mnist, cifar10, cifar10-sparse, cifar100, "
    "cifar100-sparse",
    make_peer_loss);

}  // namespace
}  // namespace winnow
