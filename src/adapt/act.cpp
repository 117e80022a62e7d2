// Asymmetric co-teaching (Yang, Zhong, Zhang et al., "Asymmetric Co-Teaching for Unsupervised
// Cross-Domain Person Re-Identification", AAAI 2020), after its official code
// (FlyingRoastDuck/ACT_AAAI20, CoTrainerAsy). Two networks start from the source model. The
// main network learns from everything; the collaborator learns only from clean-looking inliers:
//   even steps: the main network ranks a P x K batch of inliers by its per-sample triplet loss,
//               and the collaborator trains on the small-loss share of it;
//   odd steps:  the collaborator ranks a P x K batch of outliers (labelled by their nearest
//               inlier), and the main network trains on the inlier batch plus the small-loss
//               share of the outliers.
// Two differences from Co-teaching make it asymmetric: the networks see data of different
// origin (inliers vs outliers), and the share kept ("remember rate") grows over the rounds,
// from method.remember_start to all samples in the last round. Only the main network is
// used at test time and to cluster.
#include <algorithm>
#include <limits>
#include <optional>

#include "winnow/adapt/adaptation.h"
#include "winnow/core/error.h"
#include "winnow/data/identity_sampler.h"

namespace winnow {
namespace {

// Positions of the int(rate * B) smallest losses, as the official code truncates the count.
torch::Tensor small_loss_positions(const torch::Tensor& loss, double rate) {
  const int64_t keep = static_cast<int64_t>(rate * static_cast<double>(loss.numel()));
  return std::get<1>(loss.sort(/*dim=*/0, /*descending=*/false)).slice(0, 0, keep);
}

class AsymmetricCoTeaching : public AdaptationMethod {
 public:
  AsymmetricCoTeaching(const AdaptContext& context, const AdaptOptions& options, Config& config)
      : AdaptationMethod(context, options, config) {
    remember_start_ = config.get<double>("method.remember_start", 0.2);
    require(remember_start_ > 0 && remember_start_ <= 1, "method.remember_start = {}: allowed (0, 1]",
            remember_start_);
    collaborator_ = make_network(config);
    collaborator_optimizer_ =
        std::make_unique<torch::optim::Adam>(collaborator_->parameters(), torch::optim::AdamOptions(options.lr));
  }

  std::string describe() const override {
    return fmt::format("act (asymmetric co-teaching): {} | {} rounds x {} epochs, remember {} -> 1", 
                       main_->describe(), options_.rounds, options_.round_epochs, remember_start_);
  }

  void begin_rounds() override {
    // Both networks start from the source model (the official code loads one checkpoint into both).
    torch::NoGradGuard no_grad;
    auto from = main_->named_parameters();
    for (auto& p : collaborator_->named_parameters()) p.value().copy_(from[p.key()]);
    auto from_buffers = main_->named_buffers();
    for (auto& b : collaborator_->named_buffers()) b.value().copy_(from_buffers[b.key()]);
  }

  EpochLog train_round(const RoundInput& input) override {
    const auto& pseudo = *input.pseudo;
    const double rate = remember_rate(remember_start_, input.round, options_.rounds);
    IdentitySampler inliers(pseudo.labels.masked_fill(pseudo.inlier.logical_not(), -1), options_.instances);
    const bool have_outliers = pseudo.outliers() > 0;
    std::optional<IdentitySampler> outliers;
    if (have_outliers) outliers.emplace(pseudo.labels.masked_fill(pseudo.inlier, -1), options_.instances);
    const bool scored = input.label_correct.defined();

    main_->train();
    collaborator_->train();
    double main_loss = 0, collaborator_loss = 0;
    int64_t main_steps = 0, collaborator_steps = 0;
    int64_t selected = 0, selected_correct = 0, rejected = 0, rejected_correct = 0;
    // Steps alternate over the whole round, not within each epoch: the official loop restarts
    // at an even step every epoch, which with an odd number of batches per epoch gives the
    // collaborator one step more, and with a single batch (fewer than P clusters) never trains
    // the main network at all.
    int64_t step = 0;
    for (int64_t epoch = 0; epoch < options_.round_epochs; ++epoch) {
      auto generator = round_generator(input.round, epoch);
      for (const auto& index : inliers.epoch_batches(context_.batch_size, generator)) {
        auto x = target_batch(index, generator);
        auto y = pseudo.labels.index_select(0, index).to(context_.device);
        if (step++ % 2 == 0) {
          // The main network picks the inliers the collaborator learns from.
          torch::Tensor keep;
          {
            torch::NoGradGuard no_grad;
            keep = small_loss_positions(reid_triplet_loss(main_->forward(x), y, options_.margin).loss, rate);
          }
          if (keep.numel() < 2) continue;
          auto loss = reid_triplet_loss(collaborator_->forward(x.index_select(0, keep)), y.index_select(0, keep),
                                        options_.margin).loss.mean();
          collaborator_optimizer_->zero_grad();
          loss.backward();
          collaborator_optimizer_->step();
          collaborator_loss += loss.item<double>();
          ++collaborator_steps;
        } else {
          // The collaborator picks the outliers the main network learns from, beside the inliers.
          auto mixed_x = x;
          auto mixed_y = y;
          if (have_outliers) {
            // A fresh P x K batch of outliers each odd step, as the official loop re-creates
            // its outlier loader's iterator and takes its first batch.
            auto outlier_index = outliers->epoch_batches(context_.batch_size, generator).front();
            auto xo = target_batch(outlier_index, generator);
            auto yo = pseudo.labels.index_select(0, outlier_index).to(context_.device);
            torch::Tensor keep;
            {
              torch::NoGradGuard no_grad;
              keep = small_loss_positions(reid_triplet_loss(collaborator_->forward(xo), yo, options_.margin).loss,
                                          rate);
            }
            if (scored) {
              auto correct = input.label_correct.index_select(0, outlier_index);
              auto kept = torch::zeros({outlier_index.numel()}, torch::kBool);
              kept.index_fill_(0, keep.to(torch::kCPU), true);
              selected += keep.numel();
              selected_correct += correct.logical_and(kept).sum().item<int64_t>();
              rejected += outlier_index.numel() - keep.numel();
              rejected_correct += correct.logical_and(kept.logical_not()).sum().item<int64_t>();
            }
            mixed_x = torch::cat({x, xo.index_select(0, keep)});
            mixed_y = torch::cat({y, yo.index_select(0, keep)});
          }
          auto loss = reid_triplet_loss(main_->forward(mixed_x), mixed_y, options_.margin).loss.mean();
          optimizer_->zero_grad();
          loss.backward();
          optimizer_->step();
          main_loss += loss.item<double>();
          ++main_steps;
        }
      }
    }
    EpochLog log;
    log.add("remember_rate", rate);
    log.add("train_loss", main_steps ? main_loss / static_cast<double>(main_steps) : 0.0);
    log.add("collaborator_loss", collaborator_steps ? collaborator_loss / static_cast<double>(collaborator_steps) : 0.0);
    log.add("main_steps", static_cast<double>(main_steps));
    log.add("collaborator_steps", static_cast<double>(collaborator_steps));
    log.add("selected_outliers", static_cast<double>(selected));
    if (scored) {
      // The label precision of the outliers the collaborator kept, and of those it rejected.
      const double nan = std::numeric_limits<double>::quiet_NaN();
      log.add("selected_outlier_precision", selected ? static_cast<double>(selected_correct) / selected : nan);
      log.add("rejected_outlier_precision", rejected ? static_cast<double>(rejected_correct) / rejected : nan);
    }
    return log;
  }

  void save(torch::serialize::OutputArchive& archive) const override {
    AdaptationMethod::save(archive);
    torch::serialize::OutputArchive net, opt;
    collaborator_->save(net);
    collaborator_optimizer_->save(opt);
    archive.write("collaborator", net);
    archive.write("collaborator_optimizer", opt);
  }

  void load(torch::serialize::InputArchive& archive) override {
    AdaptationMethod::load(archive);
    torch::serialize::InputArchive net, opt;
    archive.read("collaborator", net);
    archive.read("collaborator_optimizer", opt);
    collaborator_->load(net);
    collaborator_optimizer_->load(opt);
  }

 private:
  double remember_start_ = 0.2;
  ReIdNetwork collaborator_{nullptr};
  std::unique_ptr<torch::optim::Adam> collaborator_optimizer_;
};

}  // namespace

WINNOW_REGISTER(AdaptationRegistry, "act",
                "asymmetric co-teaching: domain adaptation by clustering, two networks fed from inliers and "
                "outliers (data.source_classes / data.target_classes or data.target)",
                [](const AdaptContext& context, Config& config) -> std::unique_ptr<AdaptationMethod> {
                  return std::make_unique<AsymmetricCoTeaching>(context, AdaptOptions::from_config(config), config);
                });

}  // namespace winnow
