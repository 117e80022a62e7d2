#pragma once
// Unsupervised domain adaptation by clustering: a network trained on the labelled source
// domain, then rounds of (cluster the target, train on the pseudo-labels). The pseudo-labels
// are noisy (a cluster can mix identities; DBSCAN leaves outliers), and the methods differ in
// how they learn from that noise:
//   cluster_baseline  Song et al. 2018 ("Unsupervised domain adaptive re-identification:
//                     theory and practice"): one network, inliers only, outliers dropped
//                     (method.outliers = "nearest_inlier" keeps them with their 1-NN label: the
//                     one-network ablation of ACT);
//   act               asymmetric co-teaching (Yang et al., AAAI 2020): two networks fed from
//                     data of different origin, exchanging small-loss samples (act.cpp).
// The engine (engine/adapt_run.h) owns the loop over source epochs and rounds, clustering,
// evaluation and checkpoints; a method owns its networks, optimizers and one round's training.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <torch/torch.h>

#include "winnow/adapt/domain.h"
#include "winnow/adapt/pseudo_labels.h"
#include "winnow/adapt/reid_network.h"
#include "winnow/core/config.h"
#include "winnow/core/registry.h"
#include "winnow/data/batcher.h"
#include "winnow/methods/method.h"

namespace winnow {

// The [method] keys both methods share, with the official code's defaults.
struct AdaptOptions {
  int64_t rounds = 10;         // clustering rounds ("iterations"); 0: the source model alone
  int64_t round_epochs = 30;   // epochs over the pseudo-labelled target per round
  int64_t instances = 4;       // K samples per identity in a batch (P = batch_size / K)
  double margin = 0.5;         // triplet margin
  double lr = 6e-5;            // Adam, adaptation rounds
  double source_lr = 3e-4;     // Adam, source training (Song et al.'s source_train.py)
  int64_t embedding_dim = 128; // width of the embedding after the pooled features
  ClusteringOptions clustering;

  static AdaptOptions from_config(Config& config);
};

struct AdaptContext {
  const DomainData* data = nullptr;
  torch::Device device = torch::kCPU;
  uint64_t seed = 0;
  int64_t batch_size = 64;
  int64_t eval_batch_size = 1024;
  AugmentOptions augment;  // image augmentation of training batches (data.augment)
  Execution execution;     // the backbone's train.precision / channels_last, resolved
};

// What one round trains on.
struct RoundInput {
  int64_t round = 0;             // 0-based
  const PseudoLabels* pseudo = nullptr;
  // Bool [N]: the pseudo-label names a cluster mostly of the sample's true identity; undefined
  // where the truth is unknown. Scoring only: no decision may read it.
  torch::Tensor label_correct;
};

class AdaptationMethod {
 public:
  virtual ~AdaptationMethod() = default;
  virtual std::string describe() const = 0;
  // One epoch of cross entropy + batch-hard triplet (pooled features) on the labelled source.
  EpochLog train_source_epoch(int64_t epoch);
  // Called once, after source training and before round 0 (ACT copies the source model into
  // its collaborator here).
  virtual void begin_rounds() {}
  virtual EpochLog train_round(const RoundInput& input) = 0;
  // The network used at test time and to cluster: the main network.
  ReIdNetwork& main_network() { return main_; }
  const AdaptOptions& options() const { return options_; }
  virtual void save(torch::serialize::OutputArchive& archive) const;
  virtual void load(torch::serialize::InputArchive& archive);

 protected:
  AdaptationMethod(const AdaptContext& context, const AdaptOptions& options, Config& config);
  // A new network of the configured backbone ([model]; weights from the global generator).
  ReIdNetwork make_network(Config& config) const;
  // The inputs at `index` (int64 [B]) of the target, augmented with `generator` when configured.
  torch::Tensor target_batch(const torch::Tensor& index, torch::Generator& generator) const;
  // A generator for one epoch of one round: reproducible, and the same after a resume.
  torch::Generator round_generator(int64_t round, int64_t epoch) const;

  AdaptContext context_;
  AdaptOptions options_;
  ReIdNetwork main_{nullptr};
  std::unique_ptr<torch::optim::Adam> source_optimizer_;
  std::unique_ptr<torch::optim::Adam> optimizer_;  // the main network's, in the rounds

 private:
  Augmenter augmenter_;
};

struct AdaptationTag {
  // Reads its options from the [method] section (and [model]).
  using Factory = std::function<std::unique_ptr<AdaptationMethod>(const AdaptContext&, Config&)>;
  static constexpr const char* kind = "domain-adaptation method";
};
using AdaptationRegistry = Registry<AdaptationTag>;

// True when `method.name` names a domain-adaptation method (act, cluster_baseline): `winnow
// train` then runs engine/adapt_run.h instead of the Trainer.
bool is_adaptation_method(const std::string& name);
std::unique_ptr<AdaptationMethod> make_adaptation(const AdaptContext& context, Config& config);

// ACT's remember rate: the share of each ranked batch kept, growing linearly from `start` to 1
// over the rounds (0.2 + 0.08 (round + 1) with 10 rounds, as the official schedule).
double remember_rate(double start, int64_t round, int64_t rounds);

}  // namespace winnow
