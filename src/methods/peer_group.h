#pragma once
// What the collaborative methods share: K networks (peers, students) each with its own
// optimizer under one schedule, an optional frozen teacher, the test-time choice of one
// network, per-network reports, checkpoints of everything, and running the peers of a step on
// threads. The maths is in winnow/methods/collaborative.h.
//
// [method] options read here:
//   peers        number of networks K (default 2; "distill" has one student and no option)
//   peer_models  model names, one per network (default: every network is model.name)
//   test_network index of the network predict() uses, or -1 (default): the one with the best
//                accuracy on the noisy validation split after the latest epoch (network 0
//                when there is no validation split)
//   parallel     run the peers' forward/backward of a step on one thread each (default false).
//                Measured (bench/RESULTS.md): with train.threads = 1 it saves ~17% for
//                two MLP peers, but train.threads = 2 without it is faster still, and with
//                both the threads oversubscribe the 2 cores (~20x slower). Results equal the
//                sequential ones for models that draw no random numbers in training; with
//                dropout (cnn9) the peers' draws interleave and a run is not reproducible.
//   teacher      (distill, dgd) a finished `standard` run folder, or a state-*.pt file inside
//                its checkpoint/ folder: its config.toml's [model] section builds the teacher
//                and the checkpoint's "network" archive gives its weights
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "winnow/methods/collaborative.h"
#include "winnow/methods/method.h"
#include "winnow/optim/optimizer.h"

namespace winnow {

// Loads the teacher network of a `standard` run (see `teacher` above).
std::shared_ptr<Network> load_teacher(const std::string& path, const ModelSpec& spec, torch::Device device);

class PeerGroup : public Method {
 public:
  std::string describe() const override;
  torch::Tensor predict(const torch::Tensor& inputs) override;
  void set_training(bool training) override;
  std::vector<std::shared_ptr<Network>> networks() const override { return networks_; }
  std::shared_ptr<Network> test_network() const override { return networks_.at(chosen_); }
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;
  // Clean score: the peers' agreement with the given label, the mean over networks of the
  // softmax probability of that label; predicted: argmax of the peers' mean probabilities;
  // suspect where that prediction differs from the given label.
  SampleScores score_samples(const Dataset& train) override;

  size_t size() const { return networks_.size(); }
  Network& network(size_t k) { return *networks_.at(k); }

 protected:
  // `fixed_peers` > 0 fixes the number of networks (no `peers` option); `with_teacher` reads
  // and loads `teacher`.
  PeerGroup(const TrainContext& context, Config& config, const std::string& name, int64_t fixed_peers,
            bool with_teacher);

  // Calls fn(k) for every network k: in order, or on one thread each when `parallel`.
  void for_each_peer(const std::function<void(size_t)>& fn);
  // Teacher logits for a batch (eval mode, no gradient).
  torch::Tensor teacher_logits(const torch::Tensor& inputs);

  // Per-network running sums of one epoch.
  struct EpochSums {
    std::vector<torch::Tensor> loss, correct, correct_true;
    int64_t seen = 0;
  };
  EpochSums begin_epoch(int64_t epoch);
  // Adds network k's batch loss (mean) and predictions; thread-safe across distinct k.
  void record(EpochSums& sums, size_t k, const torch::Tensor& loss, const torch::Tensor& logits,
              const Batch& batch, const torch::Tensor& labels);
  // Writes the epoch's log: each network's train loss/accuracy, noisy-val and test accuracy,
  // the means, and the network chosen for test time.
  EpochLog finish_epoch(const EpochSums& sums);

  std::string name_;
  std::vector<std::string> model_names_;
  std::vector<std::shared_ptr<Network>> networks_;
  std::vector<std::unique_ptr<torch::optim::Optimizer>> optimizers_;
  Schedule schedule_;
  std::shared_ptr<Network> teacher_;
  std::string teacher_path_;
  bool parallel_ = false;
  int64_t test_network_option_ = -1;
  int64_t chosen_ = 0;
};

// Filter grafting (Meng et al., CVPR 2020) over `peers` networks; with `distil`, DGD: every
// network is also a student of `teacher`. Defined in grafting.cpp, registered there and in
// dgd.cpp.
std::unique_ptr<Method> make_grafting(const TrainContext& context, Config& config, bool distil);

}  // namespace winnow
