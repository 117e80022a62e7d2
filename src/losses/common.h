#pragma once
// Helpers shared by the loss files: input checks and per-data-set presets.
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "winnow/core/config.h"
#include "winnow/core/error.h"

namespace winnow {
namespace detail {

// logits [N, K] floating point, targets int64 [N] with values in [0, K).
inline void check_loss_inputs(const torch::Tensor& logits, const torch::Tensor& targets,
                              const char* loss) {
  require(logits.defined() && logits.dim() == 2, "{}: logits must be [N, K], got {} dimensions",
          loss, logits.defined() ? logits.dim() : 0);
  require(logits.is_floating_point(), "{}: logits must be floating point, got {}", loss,
          std::string(c10::toString(logits.scalar_type())));
  require(targets.defined() && targets.dim() == 1 && targets.size(0) == logits.size(0),
          "{}: targets must be [N] with N = {} (the rows of logits)", loss, logits.size(0));
  require(targets.scalar_type() == torch::kLong, "{}: targets must be int64, got {}", loss,
          std::string(c10::toString(targets.scalar_type())));
}

// p_y: the softmax probability of each sample's target, [N].
inline torch::Tensor target_probability(const torch::Tensor& logits, const torch::Tensor& targets) {
  return torch::softmax(logits, 1).gather(1, targets.unsqueeze(1)).squeeze(1);
}

// log p_y, [N], from log_softmax (stable for large logits).
inline torch::Tensor target_log_probability(const torch::Tensor& logits,
                                            const torch::Tensor& targets) {
  return torch::log_softmax(logits, 1).gather(1, targets.unsqueeze(1)).squeeze(1);
}

// Reads `loss.preset` (one of "none" and the names in `presets`) and returns the chosen
// preset's values, or `defaults` for "none". Values are read by the caller as defaults of
// their own keys, so an explicit key still overrides the preset.
template <typename Values>
Values read_preset(Config& config, const Values& defaults,
                   const std::vector<std::pair<std::string, Values>>& presets) {
  std::vector<std::string> names{"none"};
  for (const auto& [name, values] : presets) names.push_back(name);
  std::string chosen = config.get_choice("loss.preset", "none", names);
  for (const auto& [name, values] : presets) {
    if (name == chosen) return values;
  }
  return defaults;
}

}  // namespace detail
}  // namespace winnow
