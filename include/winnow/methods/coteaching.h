#pragma once
// Two networks and small-loss sample selection:
//  - "coteaching" (Han et al., NeurIPS 2018): on every mini-batch each network keeps the
//    R(T) fraction of samples with its smallest loss, and each network is updated on the
//    samples its peer kept;
//  - "coteaching_plus" (Yu et al., ICML 2019): the same exchange, restricted to the samples
//    on which the two networks' predictions disagree, after `init_epoch` warm-up epochs of
//    plain co-teaching;
//  - "jocor" (Wei et al., CVPR 2020): one joint per-sample loss (supervised + symmetric KL
//    co-regularisation), one small-loss selection on it, one optimizer for both networks.
// The pure pieces (schedule, selection, exchange, joint loss) live in selection.h.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "winnow/losses/loss.h"
#include "winnow/methods/fused_peers.h"
#include "winnow/methods/method.h"
#include "winnow/optim/optimizer.h"

namespace winnow {

enum class CoTeachingVariant { kCoTeaching, kCoTeachingPlus, kJoCoR };

// Read from [method]; every default is the paper's (or its official code's, where the paper
// leaves it open).
struct CoTeachingOptions {
  CoTeachingVariant variant = CoTeachingVariant::kCoTeaching;
  // tau: the fraction of each mini-batch forgotten once the schedule has ramped up.
  // Default: the simulated noise rate (all three papers assume it known).
  double forget_rate = 0.0;
  int64_t num_gradual = 10;  // T_k
  double exponent = 1.0;     // c
  // Co-teaching+ only: epochs of plain co-teaching before the disagreement restriction.
  int64_t init_epoch = 0;
  // JoCoR only: weight of the co-regularisation.
  double co_lambda = 0.9;
  // Test-time rule: "first", "second" or "average" (of the two softmax outputs).
  std::string test_network = "first";
  // Run the two networks' forward (and, but for JoCoR, backward and step) on two threads.
  bool parallel = false;
  // Run the two networks as one batched computation (methods/fused_peers.h; two ReLU mlps of
  // one shape, parallel off): "on" requires it, "off" never, "auto" on CUDA only. On this
  // project's CPUs a two-mlp step is bound by its matrix products, not by dispatch, and the
  // fused step measured 5% slower in fp32 and equal in bf16 (bench/RESULTS.md, issue 17); on
  // a GPU an mlp step is kernel launches, which fusion halves. Same maths as separate passes;
  // the bits differ by float summation order, so a run keeps one setting.
  std::string fused = "auto";

  static CoTeachingOptions from_config(CoTeachingVariant variant, const TrainContext& context, Config& config);
  std::string describe() const;
};

std::string variant_name(CoTeachingVariant variant);

class CoTeaching : public Method {
 public:
  CoTeaching(const TrainContext& context, Config& config, CoTeachingVariant variant);
  ~CoTeaching() override;

  std::string describe() const override;
  EpochLog train_epoch(int64_t epoch, Batcher& batcher) override;
  torch::Tensor predict(const torch::Tensor& inputs) override;
  std::vector<std::string> prediction_variants() const override;
  torch::Tensor predict_variant(const std::string& variant, const torch::Tensor& inputs) override;
  torch::Tensor predict_all_rules(const torch::Tensor& inputs) override;
  void set_training(bool training) override;
  std::vector<std::shared_ptr<Network>> networks() const override { return {first_, second_}; }
  std::shared_ptr<Network> test_network() const override {
    return options_.test_network == "second" ? second_ : first_;
  }
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;
  // clean_score: the mean over the two networks of p(given label), a continuous belief.
  // suspect: the samples the final forget rate would drop (see the definition).
  SampleScores score_samples(const Dataset& train) override;

  // The forget rate of a 0-based epoch.
  double forget_rate(int64_t epoch) const;
  const CoTeachingOptions& options() const { return options_; }
  Network& first() { return *first_; }
  Network& second() { return *second_; }

 private:
  class PeerThread;
  // The per-sample selection criterion on all of `data` in eval mode: each network's loss
  // (co-teaching, co-teaching+) or the joint loss (JoCoR), plus both networks' logits.
  struct Criterion {
    torch::Tensor logits_first, logits_second, loss;
  };
  Criterion criterion(const Dataset& data);
  torch::Tensor predict_with(const std::string& rule, const torch::Tensor& inputs);
  // The rule `rule` from the two networks' logits on the same batch.
  static torch::Tensor combine(const std::string& rule, const torch::Tensor& first, const torch::Tensor& second);

  CoTeachingOptions options_;
  std::shared_ptr<Network> first_, second_;
  std::shared_ptr<Loss> loss_first_, loss_second_;
  // Co-teaching(+): one optimizer per network. JoCoR: optimizer_first_ holds both networks'
  // parameters (one joint loss, one step) and optimizer_second_ is null.
  std::unique_ptr<torch::optim::Optimizer> optimizer_first_, optimizer_second_;
  Schedule schedule_;
  std::unique_ptr<FusedPeers> fused_;  // null: separate passes
};

}  // namespace winnow
