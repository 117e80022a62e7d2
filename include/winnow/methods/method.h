#pragma once
// A training strategy: what happens in one epoch (one network and a loss; two networks that
// exchange small-loss samples; a GMM co-divide and MixMatch; ...). The Trainer owns the loop
// over epochs, evaluation, checkpoints and outputs; a Method owns its networks, losses,
// optimizers and per-sample state.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "winnow/core/config.h"
#include "winnow/core/registry.h"
#include "winnow/data/batcher.h"
#include "winnow/data/dataset.h"
#include "winnow/models/network.h"

namespace winnow {

class NoiseSource;

struct TrainContext {
  const Dataset* train = nullptr;  // the (noisy) training split; true_labels where known
  // The noisy validation split (may be empty) and the test split (may be null). Methods with
  // several networks use val to pick their test-time network and report each network's
  // test accuracy; no method may train on or decide anything from the test split.
  const Dataset* val = nullptr;
  const Dataset* test = nullptr;
  ModelSpec model_spec;
  int64_t epochs = 0;
  uint64_t seed = 0;
  torch::Device device = torch::kCPU;
  // Noise rate of the simulation when there is one (forget rates, CDR's tau default to it).
  std::optional<double> noise_rate;
  // Answers the noise-dependent options ("auto", or unset on a user's own labels) from an
  // estimate made on the data (estimate/noise_source.h); null outside a run (tests): then
  // those options need a number or a simulated rate.
  std::shared_ptr<NoiseSource> noise_source;
  int64_t eval_batch_size = 1024;
  // The run folder, for methods that write their own plots (DivideMix's loss histograms);
  // empty when the method is built outside a run (tests): then they write nothing.
  std::string output_dir;
};

// Values a method reports for one epoch; they become fields of the epoch's metrics line.
class EpochLog {
 public:
  void add(const std::string& key, double value) { values_.emplace_back(key, value); }
  const std::vector<std::pair<std::string, double>>& values() const { return values_; }

 private:
  std::vector<std::pair<std::string, double>> values_;
};

// Per training sample: the method's belief that the given label is right.
struct SampleScores {
  torch::Tensor clean_score;  // float [N] in [0, 1]
  torch::Tensor predicted;    // int64 [N]: the method's predicted class
  torch::Tensor suspect;      // bool [N]: flagged as probably mislabelled
};

class Method {
 public:
  virtual ~Method() = default;
  virtual std::string describe() const = 0;
  // One epoch (0-based) over the batches of `batcher`, whose epoch has been begun.
  virtual EpochLog train_epoch(int64_t epoch, Batcher& batcher) = 0;
  // Logits for a batch of evaluation inputs; the method picks its test-time rule (one
  // network, the average of two, ...). Called in eval mode under NoGradGuard.
  virtual torch::Tensor predict(const torch::Tensor& inputs) = 0;
  // Further test-time rules worth reporting beside predict() (each of two networks, their
  // average, ...). The trainer adds test_accuracy_<name> to every metrics line for each.
  virtual std::vector<std::string> prediction_variants() const { return {}; }
  // Logits under the rule `variant` (one of prediction_variants()); same calling rules as
  // predict().
  virtual torch::Tensor predict_variant(const std::string& variant, const torch::Tensor& inputs) {
    return predict(inputs);
  }
  // predict() and then each of prediction_variants() on one batch, stacked: [1 + V, N, C];
  // same calling rules as predict(). The trainer tests every epoch under every rule, so a
  // method whose rules share networks overrides this to run each network once (Co-teaching:
  // 2 forwards instead of 5). The default calls the rules in turn.
  virtual torch::Tensor predict_all_rules(const torch::Tensor& inputs);
  // Switches every network between training and evaluation mode.
  virtual void set_training(bool training) = 0;
  // The networks the method trains (not frozen teachers). A multi-process run
  // (dist/data_parallel.h) starts them from rank 0's weights and averages their batch-norm
  // statistics after every epoch; a method that lists none cannot run in several processes.
  virtual std::vector<std::shared_ptr<Network>> networks() const { return {}; }
  // The network predict() applies, written as the run's model.pt (report/state_dict.h). A
  // rule that averages several networks names its first; null when the method lists none.
  virtual std::shared_ptr<Network> test_network() const {
    auto all = networks();
    return all.empty() ? nullptr : all.front();
  }
  // Everything a resumed run needs: weights, optimizer state, per-sample state.
  virtual void save(torch::serialize::OutputArchive& archive) const = 0;
  virtual void load(torch::serialize::InputArchive& archive) = 0;
  // Per-sample clean scores on the training split. The default: the softmax probability
  // of the given label under predict(), suspect where the prediction disagrees with it.
  virtual SampleScores score_samples(const Dataset& train);

 protected:
  explicit Method(const TrainContext& context) : context_(context) {}
  TrainContext context_;
};

struct MethodTag {
  // Reads its options from the [method] section (and [model], [loss], [optim]).
  using Factory = std::function<std::unique_ptr<Method>(const TrainContext&, Config&)>;
  static constexpr const char* kind = "method";
};
using MethodRegistry = Registry<MethodTag>;

// The method named by `method.name`.
std::unique_ptr<Method> make_method(const TrainContext& context, Config& config);

// Softmax of `network` over all of `data`, in eval mode without gradients, in batches.
torch::Tensor predict_probabilities(Network& network, const Dataset& data, torch::Device device,
                                    int64_t batch_size);
// Runs `fn` on consecutive slices of `inputs` of at most `batch_size` and concatenates. In a
// multi-process run each rank maps its shard of the rows and all get the whole result, so
// every rank must call it with the same inputs (dist::map_rows).
torch::Tensor map_batches(const torch::Tensor& inputs, int64_t batch_size, torch::Device device,
                          const std::function<torch::Tensor(const torch::Tensor&)>& fn);

}  // namespace winnow
