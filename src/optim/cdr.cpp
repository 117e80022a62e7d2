// CDR (Xia et al., ICLR 2021, "Robust early-learning"): the optimizer and its registry entry.
// The update rules, the variants and the choices taken from the official code are described
// in include/winnow/optim/cdr.h.
#include "winnow/optim/cdr.h"

#include <cmath>

#include "winnow/core/error.h"
#include "winnow/optim/optimizer.h"
#include "winnow/estimate/noise_source.h"
#include "winnow/optim/radix_select.h"
#include "data_parallel_step.h"
#include "closure.h"
#include "state_key.h"

namespace winnow {
namespace {

void check_options(const CDROptions& o) {
  TORCH_CHECK(o.lr() > 0, "CDR: lr = ", o.lr(), " must be > 0");
  TORCH_CHECK(o.momentum() >= 0 && o.momentum() < 1, "CDR: momentum = ", o.momentum(),
              " must be in [0, 1)");
  TORCH_CHECK(!std::isnan(o.tau()),
              "CDR: tau is not set; it is the noise rate (Xia et al. 2021), in [0, 1)");
  TORCH_CHECK(o.tau() >= 0 && o.tau() < 1, "CDR: tau = ", o.tau(), " must be in [0, 1)");
  TORCH_CHECK(o.weight_decay() >= 0, "CDR: weight_decay (lambda) = ", o.weight_decay(),
              " must be >= 0");
  TORCH_CHECK(o.variant() == CDRVariant::kPaper || o.variant() == CDRVariant::kOfficial,
              "CDR: unknown variant ", static_cast<int64_t>(o.variant()));
}

}  // namespace

std::string to_string(CDRVariant variant) {
  return variant == CDRVariant::kOfficial ? "official" : "paper";
}

// ---------------------------------------------------------------------------------------------
// Options and state, serialised field by field so that checkpoints resume exactly.

CDROptions::CDROptions(double lr) : lr_(lr) {}

void CDROptions::serialize(torch::serialize::OutputArchive& archive) const {
  archive.write("lr", c10::IValue(lr()));
  archive.write("momentum", c10::IValue(momentum()));
  archive.write("tau", c10::IValue(tau()));
  archive.write("weight_decay", c10::IValue(weight_decay()));
  archive.write("variant", c10::IValue(static_cast<int64_t>(variant())));
}

void CDROptions::serialize(torch::serialize::InputArchive& archive) {
  c10::IValue value;
  archive.read("lr", value);
  lr(value.toDouble());
  archive.read("momentum", value);
  momentum(value.toDouble());
  archive.read("tau", value);
  tau(value.toDouble());
  archive.read("weight_decay", value);
  weight_decay(value.toDouble());
  archive.read("variant", value);
  variant(static_cast<CDRVariant>(value.toInt()));
}

double CDROptions::get_lr() const { return lr(); }

void CDROptions::set_lr(const double lr) { this->lr(lr); }

void CDRParamState::serialize(torch::serialize::OutputArchive& archive) const {
  // An entry that never stepped with momentum has no buffer; write nothing for it, as SGD.
  if (momentum_buffer().defined()) archive.write("momentum_buffer", c10::IValue(momentum_buffer()));
}

void CDRParamState::serialize(torch::serialize::InputArchive& archive) {
  c10::IValue value;
  if (archive.try_read("momentum_buffer", value)) momentum_buffer(value.toTensor());
}

// ---------------------------------------------------------------------------------------------
// Selection of the critical entries.

int64_t cdr_critical_count(int64_t numel, double tau) {
  TORCH_CHECK(numel >= 0, "cdr_critical_count: numel = ", numel, " must be >= 0");
  TORCH_CHECK(tau >= 0 && tau < 1, "cdr_critical_count: tau = ", tau, " must be in [0, 1)");
  // floor((1 - tau) n), with a margin of 1e-6 so that a product that is an integer on paper
  // but lands just below it in binary, such as (1 - 0.9) * 10 = 0.99999999999999978, is not
  // rounded down a whole entry.
  const double kept = (1.0 - tau) * static_cast<double>(numel);
  return std::min<int64_t>(numel, static_cast<int64_t>(std::floor(kept + 1e-6)));
}

torch::Tensor cdr_critical_mask(const torch::Tensor& criticality, int64_t count) {
  TORCH_CHECK(count >= 0 && count <= criticality.numel(), "cdr_critical_mask: count = ", count,
              " must be in [0, ", criticality.numel(), "]");
  return top_count_mask(criticality, count);
}

// ---------------------------------------------------------------------------------------------
// The optimizer.

CDR::CDR(std::vector<torch::optim::OptimizerParamGroup> param_groups, CDROptions defaults)
    : Optimizer(std::move(param_groups), std::make_unique<CDROptions>(defaults)) {
  check_options(defaults);
  for (const auto& group : param_groups_) check_options(static_cast<const CDROptions&>(group.options()));
}

CDR::CDR(std::vector<torch::Tensor> params, CDROptions defaults)
    : CDR(std::vector<torch::optim::OptimizerParamGroup>{torch::optim::OptimizerParamGroup(std::move(params))},
          std::move(defaults)) {}

bool CDR::splits(const torch::Tensor& parameter, CDRVariant variant) {
  if (variant == CDRVariant::kPaper) return true;
  // The official code splits `param.dim() in [2, 4]`: linear weights and conv kernels.
  return parameter.dim() == 2 || parameter.dim() == 4;
}

torch::Tensor CDR::step(LossClosure closure) {
  torch::NoGradGuard no_grad;
  torch::Tensor loss = detail::evaluate_closure(closure);
  for (auto& group : param_groups_) {
    const auto& options = static_cast<const CDROptions&>(group.options());
    check_options(options);
    const bool official = options.variant() == CDRVariant::kOfficial;
    const double tau = options.tau();
    const double lambda = options.weight_decay();
    const double momentum = options.momentum();
    auto& params = group.params();

    // Criticality g = |grad * w| (Xia et al. 2021, Sec. 3) of every split tensor.
    std::vector<torch::Tensor> criticality(params.size());
    for (size_t i = 0; i < params.size(); ++i) {
      const auto& p = params[i];
      if (p.grad().defined() && splits(p, options.variant())) criticality[i] = (p.grad() * p).abs_();
    }
    // Official variant: one threshold over all split tensors of the group, the
    // floor((1 - tau) n)-th largest criticality (a selection, not a sort).
    torch::Tensor threshold;
    if (official) {
      std::vector<torch::Tensor> split;
      int64_t n = 0;
      for (const auto& g : criticality) {
        if (g.defined()) {
          split.push_back(g);
          n += g.numel();
        }
      }
      const int64_t k = cdr_critical_count(n, tau);
      if (k > 0) threshold = kth_largest(split, k);  // radix selection, no concatenation
    }

    for (size_t i = 0; i < params.size(); ++i) {
      auto& p = params[i];
      if (!p.grad().defined()) continue;
      const auto& grad = p.grad();
      torch::Tensor direction;
      if (criticality[i].defined()) {
        torch::Tensor mask;
        if (official) {
          mask = threshold.defined() ? criticality[i].ge(threshold).to(grad.scalar_type())
                                     : torch::zeros_like(grad);
        } else {
          mask = cdr_critical_mask(criticality[i], cdr_critical_count(p.numel(), tau));
        }
        // Critical entries follow (1 - tau) * grad; non-critical ones get no gradient.
        direction = mask.mul_(1.0 - tau).mul_(grad);
      } else {
        direction = grad.clone();  // official variant: biases and BatchNorm, plain SGD
      }
      if (lambda != 0) {
        // Paper: L1, lambda * sign(w), on every entry. Official: L2, lambda * w (SGD's weight_decay).
        direction.add_(official ? p : p.sign(), lambda);
      }
      if (momentum != 0) {
        const auto key = detail::state_key_of(p);
        auto it = state_.find(key);
        if (it == state_.end()) {
          auto state = std::make_unique<CDRParamState>();
          state->momentum_buffer(direction.clone());
          direction = state->momentum_buffer();
          state_[key] = std::move(state);
        } else {
          auto& buffer = static_cast<CDRParamState&>(*it->second).momentum_buffer();
          buffer.mul_(momentum).add_(direction);
          direction = buffer;
        }
      }
      p.add_(direction, -options.lr());
    }
  }
  return loss;
}

void CDR::save(torch::serialize::OutputArchive& archive) const {
  torch::optim::serialize<CDRParamState, CDROptions>(archive, *this);
}

void CDR::load(torch::serialize::InputArchive& archive) {
  torch::optim::serialize<CDRParamState, CDROptions>(archive, *this);
}

// ---------------------------------------------------------------------------------------------
// Registry entry: [optim] name = "cdr".

namespace {

std::unique_ptr<torch::optim::Optimizer> make_cdr(const OptimizerSpec& spec, Config& config) {
  const double lr = config.get<double>("optim.lr", 0.01);
  const double momentum = config.get<double>("optim.momentum", 0.9);
  const double weight_decay = config.get<double>("optim.weight_decay", 1e-3);
  // The config default is the official code's variant: it is what produced the paper's
  // published numbers, and the paper's L1 rule at lambda = 1e-3 (the official value, meant for
  // L2) trained about 11 points below CE on Fashion-MNIST (bench/RESULTS.md).
  const std::string variant = config.get_choice("optim.variant", "official", {"paper", "official"});
  // tau is the noise rate: the simulation's, a number, or (unset on a user's own labels, or
  // "auto") the estimated share of wrong labels (estimate/noise_source.h).
  const double tau = noise_rate_option(
      config, "optim.tau", "optim.tau is CDR's noise rate (optim.name = \"cdr\"), allowed [0, 1)",
      spec.noise_rate, spec.noise_source.get());
  require(lr > 0, "optim.lr = {}: must be > 0", lr);
  require(momentum >= 0 && momentum < 1, "optim.momentum = {}: allowed [0, 1)", momentum);
  require(tau >= 0 && tau < 1, "optim.tau = {}: allowed [0, 1) (CDR's tau is the noise rate)", tau);
  require(weight_decay >= 0, "optim.weight_decay = {}: must be >= 0 (CDR's lambda)", weight_decay);
  return std::make_unique<detail::DataParallelStep<CDR>>(
      spec.parameters, CDROptions(lr).momentum(momentum).tau(tau).weight_decay(weight_decay).variant(
                           variant == "official" ? CDRVariant::kOfficial : CDRVariant::kPaper));
}

WINNOW_REGISTER(OptimizerRegistry, "cdr",
                "CDR, robust early-learning (lr 0.01, momentum 0.9, tau = noise rate, lambda 1e-3, "
                "variant official|paper)",
                make_cdr);

}  // namespace
}  // namespace winnow
