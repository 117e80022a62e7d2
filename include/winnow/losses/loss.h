#pragma once
// Losses return a per-sample vector [N]; the caller reduces (sample selection needs the
// individual values).
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <torch/torch.h>

#include "winnow/core/config.h"
#include "winnow/core/registry.h"

namespace winnow {

class Loss {
 public:
  virtual ~Loss() = default;
  // logits float [N, K], targets int64 [N], indices int64 [N] (the samples' positions in the
  // training set; may be undefined outside training). Returns [N].
  virtual torch::Tensor forward(const torch::Tensor& logits, const torch::Tensor& targets,
                                const torch::Tensor& indices = {}) = 0;
  // Called by the method at the start of every epoch (0-based): schedules live here.
  virtual void begin_epoch(int64_t epoch) {}
  // Losses with per-sample state (truncated L_q) ask for the network's softmax on the whole
  // training set (float [N_train, K], in training-set order) at the start of some epochs.
  virtual bool needs_train_probabilities(int64_t epoch) const { return false; }
  virtual void update_from_train_probabilities(const torch::Tensor& probabilities,
                                               const torch::Tensor& labels) {}
  // Per-sample state (pruning weights, schedules' counters) for checkpoints; a resumed run
  // must continue exactly where it stopped.
  virtual void save(torch::serialize::OutputArchive& archive) const {}
  virtual void load(torch::serialize::InputArchive& archive) {}
  // Hyper-parameters in one line, e.g. "gce q=0.7".
  virtual std::string describe() const = 0;
};

struct LossSpec {
  int64_t num_classes = 0;
  int64_t train_size = 0;  // for per-sample state
  int64_t epochs = 0;      // for schedules
};

struct LossTag {
  // Reads its options from the [loss] section of the config.
  using Factory = std::function<std::shared_ptr<Loss>(const LossSpec&, Config&)>;
  static constexpr const char* kind = "loss";
};
using LossRegistry = Registry<LossTag>;

// The loss named by `loss.name`.
std::shared_ptr<Loss> make_loss(const LossSpec& spec, Config& config);

}  // namespace winnow
