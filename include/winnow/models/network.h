#pragma once
// Every model gives logits and its penultimate features (methods that cluster or
// distil use the features).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "winnow/core/config.h"
#include "winnow/core/execution.h"
#include "winnow/core/registry.h"

namespace winnow {

class Network : public torch::nn::Module {
 public:
  // Penultimate features, [N, F], in the network's own precision (see forward()).
  virtual torch::Tensor features(const torch::Tensor& x) = 0;
  // Logits from features, [N, K].
  virtual torch::Tensor classify(const torch::Tensor& features) = 0;
  virtual std::string describe() const = 0;
  // True for models whose work is convolutions (train.precision / channels_last "auto").
  virtual bool convolutional() const { return false; }
  // For a network that is exactly a chain of Linear layers with ReLU between them (input
  // flattened, logits out): those layers, first to last; empty for any other network.
  // Methods/fused_peers.h runs several such networks as one computation.
  virtual std::vector<torch::nn::Linear> relu_mlp_layers() const { return {}; }

  // Logits, [N, K], always fp32: the forward pass runs under the network's Execution
  // (autocast bf16, channels-last input) and its result is cast back, so losses and
  // per-sample scores are computed in fp32 (core/execution.h). Methods call this, not
  // classify(features()).
  torch::Tensor forward(const torch::Tensor& x);
  // Penultimate features as forward() computes them: under the Execution, returned in fp32.
  torch::Tensor embed(const torch::Tensor& x);

  void set_execution(const Execution& execution) { execution_ = execution; }
  const Execution& execution() const { return execution_; }

 protected:
  // The input batch in the layout the Execution asks for (channels-last for conv models).
  torch::Tensor prepare_input(const torch::Tensor& x) const;

 private:
  Execution execution_;
};

struct ModelSpec {
  std::vector<int64_t> input_shape;  // one sample: {C, H, W} or {D}
  int64_t num_classes = 0;
  // How every network built from this spec runs (make_model applies it).
  Execution execution;
};

struct ModelTag {
  // Reads its options from the [model] section of the config.
  using Factory = std::function<std::shared_ptr<Network>(const ModelSpec&, Config&)>;
  static constexpr const char* kind = "model";
};
using ModelRegistry = Registry<ModelTag>;

// The model named by `model.name`. Weights come from the global torch generator: seed it
// first (torch::manual_seed) for reproducible initialisation.
std::shared_ptr<Network> make_model(const ModelSpec& spec, Config& config);

}  // namespace winnow
