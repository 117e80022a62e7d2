#pragma once
// DivideMix (Li, Socher & Hoi, ICLR 2020): two networks; after `warm_up` epochs of cross
// entropy, every epoch each network's per-sample losses on the whole training set are fit
// by a two-component GMM (co-divide); each network then trains with MixMatch on the split
// made from its PEER's clean probabilities: labelled samples with co-refined labels,
// unlabelled ones with co-guessed labels, MixUp over both. The pure maths is in
// mixmatch.h and gmm.h.
//
// [method] options (defaults: the preset's, which defaults by data set name):
//   preset         cifar10 | cifar100 | fashion_mnist | none
//   noise_rate     the rate the preset reads (the simulation's; on a user's own labels, or
//                  "auto", the estimated one: estimate/noise_source.h)
//   asymmetric     whether the noise is class-dependent (the simulation's type: pairflip and
//                  classmap; on a user's own labels, or "auto", decided from the shape of the
//                  estimated T); switches the preset's lambda_u, the GMM settings and the
//                  confidence penalty
//   warm_up        epochs of plain CE (cifar10 10, cifar100 30)
//   p_threshold    tau: labelled where the peer's clean probability > tau (0.5)
//   temperature    T of sharpening (0.5)
//   alpha          MixUp Beta(alpha, alpha) (4; the fashion_mnist preset 0.5)
//   lambda_u       weight of the unlabelled loss (paper Table/appendix, by noise level)
//   rampup         epochs over which lambda_u ramps up linearly after warm-up (16)
//   confidence_penalty  negative-entropy penalty in warm-up (default: asymmetric, as the
//                       paper does for asymmetric noise)
//   gmm_max_iter, gmm_tol, gmm_reg_covar   the GMM fit: the CIFAR presets keep the official
//                  code's sklearn call (10, 1e-2, 5e-4); fashion_mnist and none fit to
//                  convergence (500, 1e-7, 5e-4) except under asymmetric noise, see
//                  apply_preset for why
//   loss_average   epochs of normalised losses averaged before the GMM (1: none; the
//                  official code uses 5 at 90% noise)
//   histograms     write loss_histogram_warmup.svg / loss_histogram_final.svg (true)
//   divide_by      auto | gmm | rate: the labelled set is where the peer's GMM clean
//                  probability exceeds p_threshold (the paper), or the (1 - noise_rate) share
//                  of samples with the highest one. auto (default): rate where the noise is
//                  asymmetric and its rate is an estimate (a user's own labels, or "auto"),
//                  gmm otherwise. Under
//                  heavy class-dependent noise the wrong labels' losses overlap the clean ones
//                  and the GMM labels nearly every sample (pair-flip 40% given as a file,
//                  mlp: 51k of 54k labelled at precision 0.61, detection F1 0.11); an
//                  estimated rate is the share of wrong labels, so the split follows it. A
//                  simulation's configured rate is not always that share (class-map 40%
//                  flips 16% of Fashion-MNIST), hence gmm there.
//
// Augmentation: the two views of a sample come from the trainer's batch augmentation
// (data.augment: random crop + flip) applied twice. Without augmentation (vector inputs,
// or images with none configured) both views are the unaugmented input: they then differ
// only where the network itself is random in training (dropout).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "winnow/methods/gmm.h"
#include "winnow/methods/method.h"
#include "winnow/methods/mixmatch.h"
#include "winnow/optim/optimizer.h"

namespace winnow {

struct DivideMixOptions {
  std::string preset = "none";
  int64_t warm_up = 10;
  double p_threshold = 0.5;
  double temperature = 0.5;
  double alpha = 4.0;
  double lambda_u = 25.0;
  double rampup = 16.0;
  bool confidence_penalty = false;
  GmmOptions gmm;
  int64_t loss_average = 1;
  bool histograms = true;
  // "gmm": labelled where the peer's clean probability > p_threshold (the paper); "rate": the
  // (1 - noise_rate) share of samples with the highest peer clean probability ("auto" in the
  // configuration resolves to one of them).
  std::string divide_by = "gmm";
  double noise_rate = 0.0;  // the rate the preset and divide_by = "rate" use

  static DivideMixOptions from_config(const TrainContext& context, Config& config);
  std::string describe() const;
};

class DivideMix : public Method {
 public:
  DivideMix(const TrainContext& context, Config& config);

  std::string describe() const override;
  EpochLog train_epoch(int64_t epoch, Batcher& batcher) override;
  torch::Tensor predict(const torch::Tensor& inputs) override;
  std::vector<std::string> prediction_variants() const override;
  torch::Tensor predict_variant(const std::string& variant, const torch::Tensor& inputs) override;
  torch::Tensor predict_all_rules(const torch::Tensor& inputs) override;
  void set_training(bool training) override;
  std::vector<std::shared_ptr<Network>> networks() const override { return networks_; }
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;
  // clean_score: the mean of the two networks' GMM clean probabilities under the final
  // networks; suspect: clean_score <= p_threshold; predicted: argmax of the mean softmax.
  SampleScores score_samples(const Dataset& train) override;

  // eval_train for network k: per-sample CE on all of `data` in eval mode, no augmentation.
  torch::Tensor per_sample_losses(size_t k, const Dataset& data);
  // Co-divide on the current networks: each network's clean probabilities (from its losses
  // averaged over `loss_average` epochs; every call is one epoch of that history), then the
  // split each trains on (network k's from network 1-k's probabilities).
  // The division of the two networks' clean probabilities as options_.divide_by says.
  CoDivision make_division(const torch::Tensor& p_first, const torch::Tensor& p_second) const;
  CoDivision divide(GmmFit* fit_first = nullptr, GmmFit* fit_second = nullptr,
                    torch::Tensor* normalised_first = nullptr);
  // The division the latest non-warm-up epoch trained on (undefined tensors before).
  const CoDivision& last_division() const { return division_; }
  const DivideMixOptions& options() const { return options_; }
  Network& network(size_t k) { return *networks_.at(k); }

 private:
  void warm_up_epoch(Batcher& batcher, EpochLog& log);
  // MixMatch over one network's division (Alg. 1 lines 5-21); returns the mean loss.
  double train_network(size_t k, const Division& division, int64_t epoch, Batcher& batcher, double& lambda_u_last);
  void write_histogram(const std::string& name, const torch::Tensor& normalised, const std::string& title);

  DivideMixOptions options_;
  std::vector<std::shared_ptr<Network>> networks_;
  std::vector<std::unique_ptr<torch::optim::Optimizer>> optimizers_;
  Schedule schedule_;
  CoDivision division_;
  LossHistory history_[2];
};

}  // namespace winnow
