// The clustering baseline of unsupervised domain-adaptive re-ID (Song, Yang, Zhong et al.,
// "Unsupervised domain adaptive re-identification: theory and practice", Pattern Recognition
// 2020; code lsongx/DomainAdaptiveReID, selftraining.py): one network trained with the
// triplet loss on the pseudo-labels of each round. DBSCAN's outliers are dropped
// (method.outliers = "drop", the paper's rule) or kept with the label of their nearest inlier
// ("nearest_inlier": ACT's pseudo-labels on one network, the ablation that isolates what the
// second network's selection adds).
//
// Held equal to `act` for a fair comparison: the same source model, loss (batch-hard triplet on
// pooled + embedding), optimizer (Adam, method.lr) and clustering. The official baseline used
// SGD with momentum and a semi-hard triplet variant.
#include "winnow/adapt/adaptation.h"
#include "winnow/core/error.h"
#include "winnow/data/identity_sampler.h"

namespace winnow {
namespace {

class ClusterBaseline : public AdaptationMethod {
 public:
  ClusterBaseline(const AdaptContext& context, const AdaptOptions& options, Config& config)
      : AdaptationMethod(context, options, config) {
    outliers_ = config.get_choice("method.outliers", "drop", {"drop", "nearest_inlier"});
  }

  std::string describe() const override {
    return fmt::format("cluster_baseline (outliers: {}): {} | {} rounds x {} epochs", outliers_, main_->describe(),
                       options_.rounds, options_.round_epochs);
  }

  EpochLog train_round(const RoundInput& input) override {
    const auto& pseudo = *input.pseudo;
    auto labels = outliers_ == "drop" ? pseudo.dbscan_labels() : pseudo.labels;
    IdentitySampler sampler(labels, options_.instances);
    main_->train();
    double loss_sum = 0;
    int64_t steps = 0, samples = 0;
    for (int64_t epoch = 0; epoch < options_.round_epochs; ++epoch) {
      auto generator = round_generator(input.round, epoch);
      for (const auto& index : sampler.epoch_batches(context_.batch_size, generator)) {
        auto x = target_batch(index, generator);
        auto y = labels.index_select(0, index).to(context_.device);
        auto loss = reid_triplet_loss(main_->forward(x), y, options_.margin).loss.mean();
        optimizer_->zero_grad();
        loss.backward();
        optimizer_->step();
        loss_sum += loss.item<double>();
        ++steps;
        samples += index.numel();
      }
    }
    EpochLog log;
    log.add("train_loss", steps ? loss_sum / static_cast<double>(steps) : 0.0);
    log.add("main_steps", static_cast<double>(steps));
    log.add("trained_samples", static_cast<double>(samples));
    return log;
  }

 private:
  std::string outliers_;
};

}  // namespace

WINNOW_REGISTER(AdaptationRegistry, "cluster_baseline",
                "clustering baseline of domain-adaptive re-ID (Song et al.): one network on DBSCAN's inliers "
                "(method.outliers = drop | nearest_inlier)",
                [](const AdaptContext& context, Config& config) -> std::unique_ptr<AdaptationMethod> {
                  return std::make_unique<ClusterBaseline>(context, AdaptOptions::from_config(config), config);
                });

}  // namespace winnow
