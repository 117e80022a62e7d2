#pragma once
// CDR: robust early-learning (Xia, Liu, Han, Gong, Wang, Ge, Chang, "Robust early-learning:
// Hindering the memorization of noisy labels", ICLR 2021, Sec. 3 and Algorithm 1).
//
// Each step splits the entries of the parameters into critical and non-critical ones by their
// criticality g_i = |dL/dw_i * w_i|; the top (1 - tau) fraction is critical. Only critical
// entries follow the gradient, and with a smaller step; every entry feels the regulariser:
//   critical:      w <- w - lr * ((1 - tau) * grad + lambda * sign(w))
//   non-critical:  w <- w - lr * lambda * sign(w)
// tau is the noise rate (the paper sets it to the true or estimated noise rate), lambda is
// `weight_decay`. Momentum is SGD's (dampening 0, no Nesterov) and acts on the masked
// direction d = mask * (1 - tau) * grad + regulariser:
//   buf <- momentum * buf + d,   w <- w - lr * buf
// so with momentum 0 the two rules above hold exactly. As in the official code (which masks
// `.grad` and then calls torch.optim.SGD), an entry that leaves the critical set keeps moving on
// its momentum buffer for a few steps.
//
// Two variants:
//  - CDRVariant::kPaper (CDROptions' default; configs default to kOfficial): the paper's rule. Every parameter tensor (weights, biases,
//    BatchNorm) is split on its own: exactly floor((1 - tau) * numel) entries of each tensor are
//    critical, chosen by a selection (topk, not a sort); the regulariser is L1, lambda * sign(w).
//  - CDRVariant::kOfficial: what github.com/xiaoboxia/CDR (main.py, train_one_step) does, for
//    comparisons against that code:
//      * only weight matrices and convolution kernels (2-D and 4-D tensors) are split; biases
//        and BatchNorm parameters follow plain SGD;
//      * the split is global, not per tensor: one threshold, the floor((1 - tau) * n)-th largest
//        criticality over all split tensors of the parameter group, and every entry at or above
//        it is critical (ties included, so the count can exceed floor((1 - tau) n));
//      * the regulariser is L2 weight decay, lambda * w, on every parameter (torch.optim.SGD's
//        weight_decay), and the (1 - tau) factor scales only the gradient.
//    The official code uses lambda = 1e-3 and tau = the noise rate.
//
// State per parameter is SGD's momentum buffer, so save()/load() checkpoint and resume as for
// torch::optim::SGD, and learning-rate schedules set `lr` on the parameter groups as usual.
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

namespace winnow {

enum class CDRVariant : int64_t { kPaper = 0, kOfficial = 1 };

// "paper" or "official".
std::string to_string(CDRVariant variant);

struct CDROptions : public torch::optim::OptimizerCloneableOptions<CDROptions> {
  // Single-argument constructor: LibTorch's optimizer deserialisation builds options as X(0).
  CDROptions(double lr = 0.01);  // NOLINT(google-explicit-constructor)
  TORCH_ARG(double, lr);
  TORCH_ARG(double, momentum) = 0.9;
  // Fraction of non-critical entries, in [0, 1): the noise rate. No default (NaN): the CDR
  // constructor refuses an unset tau.
  TORCH_ARG(double, tau) = std::numeric_limits<double>::quiet_NaN();
  // lambda: L1 strength (paper) or L2 weight decay (official). 1e-3 is the official code's
  // `--weight_decay` default.
  TORCH_ARG(double, weight_decay) = 1e-3;
  TORCH_ARG(CDRVariant, variant) = CDRVariant::kPaper;

 public:
  void serialize(torch::serialize::InputArchive& archive) override;
  void serialize(torch::serialize::OutputArchive& archive) const override;
  double get_lr() const override;
  void set_lr(const double lr) override;
  ~CDROptions() override = default;
};

struct CDRParamState : public torch::optim::OptimizerCloneableParamState<CDRParamState> {
  TORCH_ARG(torch::Tensor, momentum_buffer);

 public:
  void serialize(torch::serialize::InputArchive& archive) override;
  void serialize(torch::serialize::OutputArchive& archive) const override;
  ~CDRParamState() override = default;
};

class CDR : public torch::optim::Optimizer {
 public:
  // Checks every option (lr > 0, momentum in [0, 1), tau in [0, 1), weight_decay >= 0).
  CDR(std::vector<torch::optim::OptimizerParamGroup> param_groups, CDROptions defaults);
  CDR(std::vector<torch::Tensor> params, CDROptions defaults);

  torch::Tensor step(LossClosure closure = nullptr) override;

  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;

  // Whether a tensor is split under `variant` (kOfficial: only 2-D and 4-D tensors).
  static bool splits(const torch::Tensor& parameter, CDRVariant variant);
};

// Number of critical entries of a tensor of `numel` entries under the paper's rule:
// floor((1 - tau) * numel), as the official code's int(clip * num_params).
int64_t cdr_critical_count(int64_t numel, double tau);

// Mask (same shape and dtype as `criticality`, 1 = critical) of exactly `count` entries with
// the largest criticality; among ties at the boundary the first in memory order are taken, so
// the count is exact. A radix selection (winnow/optim/radix_select.h), never a sort.
torch::Tensor cdr_critical_mask(const torch::Tensor& criticality, int64_t count);

}  // namespace winnow
