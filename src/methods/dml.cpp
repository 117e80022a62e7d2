// Deep mutual learning (Zhang, Xiang, Hospedales & Lu, CVPR 2018): K peers trained together,
// each on CE plus the mean KL from its peers' predictions to its own (eq. 10), or, in the
// ensemble-teacher variant (section 3.3), the KL from the mean of the other K-1 peers.
//
// All peers take their step from the same forward pass (the peers' probabilities of this
// batch, detached), rather than the paper's Algorithm 1 that recomputes the predictions after
// each peer's update; that keeps the peers' steps independent, so they can run concurrently.
//
// [method] options: peers (2), peer_models, variant ("pairwise" | "ensemble"),
// unlabelled_fraction (0): the semi-supervised setting of section 4.6, where this fraction of
// the training samples (drawn once from the seed) is treated as unlabelled: CE uses only the
// labelled samples and the peers' KL only the unlabelled ones. test_network, parallel: see
// peer_group.h.
#include <algorithm>
#include <numeric>
#include <random>

#include "peer_group.h"
#include "winnow/core/error.h"

namespace winnow {
namespace {

class MutualLearning : public PeerGroup {
 public:
  MutualLearning(const TrainContext& context, Config& config) : PeerGroup(context, config, "dml", 0, false) {
    variant_ = config.get_choice("method.variant", "pairwise", {"pairwise", "ensemble"});
    const double fraction = config.get<double>("method.unlabelled_fraction", 0.0);
    require(fraction >= 0.0 && fraction < 1.0, "method.unlabelled_fraction = {}: must lie in [0, 1)", fraction);
    const int64_t n = context.train->size();
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(derive_seed(context.seed, kUnlabelledStream));
    std::shuffle(order.begin(), order.end(), rng);
    unlabelled_ = torch::zeros({n}, torch::kBool);
    const auto count = static_cast<int64_t>(fraction * static_cast<double>(n));
    auto mask = unlabelled_.accessor<bool, 1>();
    for (int64_t i = 0; i < count; ++i) mask[order[static_cast<size_t>(i)]] = true;
    semi_supervised_ = count > 0;
  }

  EpochLog train_epoch(int64_t epoch, Batcher& batcher) override {
    auto sums = begin_epoch(epoch);
    const size_t k_peers = size();
    Batch batch;
    while (batcher.next(batch)) {
      auto x = batch.inputs.to(context_.device);
      auto y = batch.labels.to(context_.device);
      // Labelled / unlabelled weights of this batch's samples.
      torch::Tensor ce_weight, kl_weight;
      if (semi_supervised_) {
        auto unlabelled = unlabelled_.index_select(0, batch.indices).to(context_.device).to(torch::kFloat32);
        ce_weight = (1 - unlabelled) / (1 - unlabelled).sum().clamp_min(1);
        kl_weight = unlabelled / unlabelled.sum().clamp_min(1);
      }
      std::vector<torch::Tensor> logits(k_peers), probs(k_peers);
      for_each_peer([&](size_t k) {
        logits[k] = network(k).forward(x);
        probs[k] = torch::softmax(logits[k].detach(), 1);
      });
      for_each_peer([&](size_t k) {
        auto log_probs = torch::log_softmax(logits[k], 1);
        auto ce = torch::nll_loss(log_probs, y, {}, at::Reduction::None);
        auto kl = mutual_learning_term(probs, k, log_probs, variant_);
        auto loss = semi_supervised_ ? (ce * ce_weight).sum() + (kl * kl_weight).sum() : (ce + kl).mean();
        optimizers_[k]->zero_grad();
        loss.backward();
        optimizers_[k]->step();
        record(sums, k, loss, logits[k], batch, y);
      });
      sums.seen += batch.labels.size(0);
    }
    return finish_epoch(sums);
  }

 private:
  static constexpr uint64_t kUnlabelledStream = 61;
  std::string variant_;
  torch::Tensor unlabelled_;  // bool [N]: training samples whose labels DML ignores
  bool semi_supervised_ = false;
};

WINNOW_REGISTER(MethodRegistry, "dml",
                "deep mutual learning: K peers (peers 2), CE + KL to each peer (variant pairwise|ensemble)",
                [](const TrainContext& context, Config& config) {
                  return std::make_unique<MutualLearning>(context, config);
                });

}  // namespace
}  // namespace winnow
