// Generalized cross entropy L_q and its truncated variant (Zhang & Sabuncu, "Generalized
// Cross Entropy Loss for Training Deep Neural Networks with Noisy Labels", NeurIPS 2018).
//
// L_q(f(x), y) = (1 - p_y^q) / q                                             (eq. 6)
// The negative Box-Cox transform of p_y: q -> 0 gives CE (-log p_y), q = 1 gives 1 - p_y,
// which is the MAE of Ghosh et al. up to its factor 2.
//
// Truncated L_q (eq. 9): L_trunc = L_q(k) when p_y <= k, else L_q(p_y). Alg. 1 keeps a 0/1
// weight per training sample and refreshes it from the whole training set at pruning epochs;
// a pruned sample contributes the constant L_q(k) and no gradient until the next pruning.
// Pruning epochs follow the reference implementation (AlanChou/Truncated-Loss, main.py: at
// the start of epoch e, 0-based, when e + 1 >= start_prune = 40 and (e + 1) % 10 == 0).
// That code returns w * (L_q(p_y) - L_q(k)), which differs from eq. 9 by the constant L_q(k)
// only; we return eq. 9's value, so the gradients are the same.
#include <fmt/format.h>

#include "common.h"
#include "winnow/losses/loss.h"
#include "winnow/losses/robust.h"

namespace winnow {

void GeneralizedCrossEntropyOptions::validate() const {
  require(q_ > 0.0 && q_ <= 1.0, "loss.q = {} is out of range: L_q needs q in (0, 1]", q_);
}

void TruncatedLqOptions::validate() const {
  require(q_ > 0.0 && q_ <= 1.0, "loss.q = {} is out of range: truncated L_q needs q in (0, 1]",
          q_);
  require(k_ > 0.0 && k_ < 1.0, "loss.k = {} is out of range: the threshold k must be in (0, 1)",
          k_);
  require(start_prune_ >= 1,
          "loss.start_prune = {} is out of range: it must be >= 1 (a 1-based epoch)", start_prune_);
  require(prune_every_ >= 1, "loss.prune_every = {} is out of range: it must be >= 1",
          prune_every_);
}

namespace {

// (1 - p^q) / q computed as -expm1(q log p) / q, so that p_y = 0 (float underflow) keeps a
// finite gradient and small q stays accurate.
torch::Tensor lq_of_log_probability(const torch::Tensor& log_p, double q) {
  return -torch::expm1(q * log_p) / q;
}

double lq_of_probability(double p, double q) { return -std::expm1(q * std::log(p)) / q; }

}  // namespace

namespace functional {

torch::Tensor generalized_cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets,
                                        const GeneralizedCrossEntropyOptions& options) {
  detail::check_loss_inputs(logits, targets, "gce");
  return lq_of_log_probability(detail::target_log_probability(logits, targets), options.q());
}

torch::Tensor truncated_lq(const torch::Tensor& logits, const torch::Tensor& targets,
                           const torch::Tensor& weights, const TruncatedLqOptions& options) {
  detail::check_loss_inputs(logits, targets, "truncated_gce");
  require(weights.dim() == 1 && weights.size(0) == logits.size(0),
          "truncated_gce: weights must be [N] with N = {}", logits.size(0));
  auto lq = lq_of_log_probability(detail::target_log_probability(logits, targets), options.q());
  auto w = weights.to(lq.options());
  return w * lq + (1.0 - w) * lq_of_probability(options.k(), options.q());
}

torch::Tensor truncated_lq_weights(const torch::Tensor& probabilities, const torch::Tensor& labels,
                                   double k) {
  require(probabilities.dim() == 2 && labels.dim() == 1 && labels.size(0) == probabilities.size(0),
          "truncated_gce: probabilities must be [N, K] and labels [N]");
  auto p_y = probabilities.gather(1, labels.to(torch::kLong).unsqueeze(1)).squeeze(1);
  // Alg. 1 keeps a sample when L_q(p_y) < L_q(k), i.e. p_y > k (L_q decreases in p_y).
  return (p_y > k).to(torch::kFloat);
}

}  // namespace functional

namespace {

class GeneralizedCrossEntropy : public Loss {
 public:
  explicit GeneralizedCrossEntropy(GeneralizedCrossEntropyOptions options) : options_(options) {
    options_.validate();
  }
  torch::Tensor forward(const torch::Tensor& logits, const torch::Tensor& targets,
                        const torch::Tensor& /*indices*/) override {
    return functional::generalized_cross_entropy(logits, targets, options_);
  }
  std::string describe() const override { return fmt::format("gce q={}", options_.q()); }

 private:
  GeneralizedCrossEntropyOptions options_;
};

class TruncatedLq : public Loss {
 public:
  TruncatedLq(TruncatedLqOptions options, int64_t train_size) : options_(options) {
    options_.validate();
    require(train_size > 0, "truncated_gce needs the training-set size (got {})", train_size);
    weights_ = torch::ones({train_size});
  }

  // Outside training (indices undefined) every sample counts: plain L_q.
  torch::Tensor forward(const torch::Tensor& logits, const torch::Tensor& targets,
                        const torch::Tensor& indices) override {
    if (!indices.defined()) {
      return functional::generalized_cross_entropy(
          logits, targets, GeneralizedCrossEntropyOptions().q(options_.q()));
    }
    require(indices.dim() == 1 && indices.size(0) == logits.size(0),
            "truncated_gce: indices must be [N] with N = {}", logits.size(0));
    if (weights_.device() != logits.device()) weights_ = weights_.to(logits.device());
    auto weights = weights_.index_select(0, indices.to(logits.device(), torch::kLong));
    return functional::truncated_lq(logits, targets, weights, options_);
  }

  bool needs_train_probabilities(int64_t epoch) const override {
    return epoch + 1 >= options_.start_prune() && (epoch + 1) % options_.prune_every() == 0;
  }

  void update_from_train_probabilities(const torch::Tensor& probabilities,
                                       const torch::Tensor& labels) override {
    require(probabilities.dim() == 2 && probabilities.size(0) == weights_.size(0),
            "truncated_gce: expected the probabilities of all {} training samples, got {} rows",
            weights_.size(0), probabilities.dim() == 2 ? probabilities.size(0) : 0);
    torch::NoGradGuard no_grad;
    weights_ =
        functional::truncated_lq_weights(probabilities, labels, options_.k()).to(weights_.device());
  }

  // The pruning weights are per-sample state: a resumed run must prune exactly as before.
  void save(torch::serialize::OutputArchive& archive) const override {
    archive.write("truncated_lq_weights", weights_.cpu());
  }
  void load(torch::serialize::InputArchive& archive) override {
    torch::Tensor weights;
    archive.read("truncated_lq_weights", weights);
    require(weights.sizes() == weights_.sizes(), "truncated_gce: checkpoint holds {} pruning weights, "
            "the training set has {} samples", weights.numel(), weights_.numel());
    weights_ = weights.to(weights_.device());
  }

  std::string describe() const override {
    return fmt::format("truncated_gce q={} k={} start_prune={} prune_every={}", options_.q(),
                       options_.k(), options_.start_prune(), options_.prune_every());
  }

 private:
  TruncatedLqOptions options_;
  torch::Tensor weights_;  // float [train_size], 1 = kept, 0 = pruned
};

WINNOW_REGISTER(LossRegistry, "gce",
                "generalized cross entropy L_q = (1 - p_y^q) / q (Zhang & Sabuncu 2018)",
                [](const LossSpec&, Config& config) {
                  GeneralizedCrossEntropyOptions defaults;
                  auto options = GeneralizedCrossEntropyOptions().q(
                      config.get<double>("loss.q", defaults.q()));
                  return std::make_shared<GeneralizedCrossEntropy>(options);
                });

WINNOW_REGISTER(LossRegistry, "truncated_gce",
                "truncated L_q: samples with p_y <= k pruned every 10 epochs after epoch 40 "
                "(Zhang & Sabuncu 2018)",
                [](const LossSpec& spec, Config& config) {
                  TruncatedLqOptions defaults;
                  auto options = TruncatedLqOptions()
                                     .q(config.get<double>("loss.q", defaults.q()))
                                     .k(config.get<double>("loss.k", defaults.k()))
                                     .start_prune(config.get<int64_t>("loss.start_prune",
                                                                      defaults.start_prune()))
                                     .prune_every(config.get<int64_t>("loss.prune_every",
                                                                      defaults.prune_every()));
                  return std::make_shared<TruncatedLq>(options, spec.train_size);
                });

}  // namespace
}  // namespace winnow
