#pragma once
// Label-noise simulators. Each takes a clean labelled data set and draws noisy labels, and
// records what it did (which labels flipped, the realised rate, the empirical transition
// matrix) so every method can be measured against known truth.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <torch/torch.h>

#include "winnow/core/config.h"
#include "winnow/core/registry.h"
#include "winnow/data/dataset.h"

namespace winnow {

struct NoiseResult {
  torch::Tensor noisy_labels;  // int64 [N]
  torch::Tensor flip_mask;     // bool [N]: noisy_labels != true labels
  torch::Tensor transition;    // float64 [K, K]: empirical P(noisy = j | true = i); rows sum to 1
  double actual_rate = 0.0;    // fraction of flipped labels
};

// Builds the record of a draw from the true and the noisy labels.
NoiseResult summarize_noise(const torch::Tensor& true_labels, const torch::Tensor& noisy_labels,
                            int64_t num_classes);

class NoiseModel {
 public:
  virtual ~NoiseModel() = default;
  virtual std::string name() const = 0;
  // Hyper-parameters in one line, e.g. "symmetric rate=0.4".
  virtual std::string describe() const = 0;
  // Draws noisy labels for `data` (its `labels` are taken as the truth). Deterministic for
  // a given seed.
  virtual NoiseResult apply(const Dataset& data, uint64_t seed) const = 0;
  // The matrix the draw follows in expectation, float64 [K, K]; undefined where it depends
  // on the sample (instance-dependent noise).
  virtual torch::Tensor expected_transition(int64_t num_classes) const { return {}; }
  // The per-sample distributions apply(data, seed) draws from, float64 [N, K]: row i is
  // P(noisy = j | x_i, true = labels[i]) and sums to 1. Class-conditional models return the
  // rows of expected_transition; instance-dependent noise returns the rows built from the same
  // seed as apply(), so evaluation can score transition estimates per sample.
  virtual torch::Tensor sample_transitions(const Dataset& data, uint64_t seed) const;
};

struct NoiseTag {
  // Reads its options from the [noise] section of the config.
  using Factory = std::function<std::unique_ptr<NoiseModel>(Config&)>;
  static constexpr const char* kind = "noise type";
};
using NoiseRegistry = Registry<NoiseTag>;

// The model named by `noise.type` ("none" gives nullptr).
std::unique_ptr<NoiseModel> make_noise(Config& config);

// Whether the noise type `type` flips labels class-dependently, to one other class per class
// (pairflip, classmap): what DivideMix's asymmetric settings are for.
bool is_class_dependent_noise(const std::string& type);

// Replaces data.labels by the noisy ones, keeping the clean ones in data.true_labels.
void apply_noise(Dataset& data, const NoiseResult& result);

}  // namespace winnow
