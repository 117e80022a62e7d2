// Filter grafting (Meng et al., "Filter Grafting for Deep Neural Networks", CVPR 2020): N
// networks train in parallel, each with its own optimizer; after every epoch network i takes,
// layer by layer, alpha W_i + (1 - alpha) W_{i-1} (a ring), alpha from the layers' weight
// entropies (eq. 7 as the official code computes it; see collaborative.h). The official code
// runs one process per network with its own data order; here the networks share the batch
// order and differ by their initialisation.
//
// With `distil` this is DGD (grafting + distillation, Meng et al.'s follow-up): each network
// is a student of one frozen teacher, trained on the Hinton et al. (2015) loss instead of CE,
// and the students graft among themselves as above.
//
// [method] options: peers (2), graft_A (0.4), graft_c (500), entropy_bins (10), difflr (false:
// the official --difflr, below), test_network, parallel; for dgd also teacher, temperature (4),
// alpha (0.9).
#include <cmath>

#include "peer_group.h"
#include "winnow/core/error.h"

namespace winnow {
namespace {

class Grafting : public PeerGroup {
 public:
  Grafting(const TrainContext& context, Config& config, bool distil)
      : PeerGroup(context, config, distil ? "dgd" : "grafting", 0, distil), distil_(distil) {
    graft_.A = config.get<double>("method.graft_A", 0.4);
    graft_.c = config.get<double>("method.graft_c", 500.0);
    graft_.bins = config.get<int64_t>("method.entropy_bins", 10);
    require(graft_.A >= 0.0 && graft_.A <= 1.0, "method.graft_A = {}: must lie in [0, 1] (alpha stays in [0, 1])",
            graft_.A);
    require(graft_.c >= 0.0, "method.graft_c = {}: must be >= 0", graft_.c);
    require(graft_.bins >= 2, "method.entropy_bins = {}: must be >= 2", graft_.bins);
    // The official --difflr: network i (1-based) of N trains at lr (1 + cos(pi (N - i) / N)) / 2.
    // With two networks, a shared batch order and one lr, complementary alphas (alpha_1 +
    // alpha_2 = 1) make the two networks equal after the first graft; different rates keep
    // them apart.
    const bool difflr = config.get<bool>("method.difflr", false);
    const double n = static_cast<double>(size());
    for (size_t k = 0; k < size(); ++k) {
      lr_scale_.push_back(difflr ? (1.0 + std::cos(M_PI * (n - static_cast<double>(k + 1)) / n)) / 2.0 : 1.0);
    }
    if (distil_) {
      temperature_ = config.get<double>("method.temperature", 4.0);
      alpha_ = config.get<double>("method.alpha", 0.9);
      require(temperature_ > 0.0, "method.temperature = {}: must be > 0", temperature_);
      require(alpha_ >= 0.0 && alpha_ <= 1.0, "method.alpha = {}: must lie in [0, 1]", alpha_);
    }
    for (size_t k = 1; k < size(); ++k) {
      require(model_names_[k] == model_names_[0], "method.peer_models: grafting mixes weights layer by layer, so "
              "every network must be one architecture ('{}' vs '{}')", model_names_[k], model_names_[0]);
    }
  }

  EpochLog train_epoch(int64_t epoch, Batcher& batcher) override {
    auto sums = begin_epoch(epoch);
    for (size_t k = 0; k < size(); ++k) {
      for (auto& group : optimizers_[k]->param_groups()) group.options().set_lr(group.options().get_lr() * lr_scale_[k]);
    }
    Batch batch;
    while (batcher.next(batch)) {
      auto x = batch.inputs.to(context_.device);
      auto y = batch.labels.to(context_.device);
      torch::Tensor teacher = distil_ ? teacher_logits(x) : torch::Tensor();
      for_each_peer([&](size_t k) {
        auto logits = network(k).forward(x);
        auto loss = distil_ ? distillation_loss(logits, teacher, y, alpha_, temperature_).mean()
                            : torch::nn::functional::cross_entropy(logits, y);
        optimizers_[k]->zero_grad();
        loss.backward();
        optimizers_[k]->step();
        record(sums, k, loss, logits, batch, y);
      });
      sums.seen += batch.labels.size(0);
    }
    std::vector<torch::nn::Module*> modules;
    for (size_t k = 0; k < size(); ++k) modules.push_back(&network(k));
    const auto alphas = graft_ring(modules, graft_);
    EpochLog log = finish_epoch(sums);
    for (size_t k = 0; k < alphas.size(); ++k) {
      double mean = 0;
      for (double a : alphas[k]) mean += a / static_cast<double>(alphas[k].size());
      log.add(fmt::format("net{}_graft_alpha", k), mean);
    }
    return log;
  }

 private:
  bool distil_;
  GraftOptions graft_;
  std::vector<double> lr_scale_;  // per network: 1, or the official --difflr factor
  double temperature_ = 4.0;
  double alpha_ = 0.9;
};

WINNOW_REGISTER(MethodRegistry, "grafting",
                "filter grafting: N networks (peers 2) mix weights by entropy after each epoch (graft_A 0.4, "
                "graft_c 500)",
                [](const TrainContext& context, Config& config) { return make_grafting(context, config, false); });

}  // namespace

std::unique_ptr<Method> make_grafting(const TrainContext& context, Config& config, bool distil) {
  return std::make_unique<Grafting>(context, config, distil);
}

}  // namespace winnow
