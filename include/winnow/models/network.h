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
#include "winnow/core/registry.h"

namespace winnow {

class Network : public torch::nn::Module {
 public:
  // Penultimate features, [N, F].
  virtual torch::Tensor features(const torch::Tensor& x) = 0;
  // Logits from features, [N, K].
  virtual torch::Tensor classify(const torch::Tensor& features) = 0;
  torch::Tensor forward(const torch::Tensor& x) { return classify(features(x)); }
  virtual std::string describe() const = 0;
};

struct ModelSpec {
  std::vector<int64_t> input_shape;  // one sample: {C, H, W} or {D}
  int64_t num_classes = 0;
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
