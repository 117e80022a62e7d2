// SGD from LibTorch and Adam (LibTorch's rule, fused on CPU), by name.
#include "data_parallel_step.h"
#include "winnow/core/error.h"
#include "winnow/optim/fused_adam.h"
#include "winnow/optim/optimizer.h"

namespace winnow {
namespace {

std::unique_ptr<torch::optim::Optimizer> make_sgd(const OptimizerSpec& spec, Config& config) {
  double lr = config.get<double>("optim.lr", 0.01);
  double momentum = config.get<double>("optim.momentum", 0.9);
  double weight_decay = config.get<double>("optim.weight_decay", 0.0);
  bool nesterov = config.get<bool>("optim.nesterov", false);
  require(lr > 0, "optim.lr = {}: must be > 0", lr);
  require(momentum >= 0 && momentum < 1, "optim.momentum = {}: allowed [0, 1)", momentum);
  require(weight_decay >= 0, "optim.weight_decay = {}: must be >= 0", weight_decay);
  require(!nesterov || momentum > 0, "optim.nesterov = true needs optim.momentum > 0");
  return std::make_unique<detail::DataParallelStep<torch::optim::SGD>>(
      spec.parameters, torch::optim::SGDOptions(lr).momentum(momentum).weight_decay(weight_decay)
                           .nesterov(nesterov));
}

std::unique_ptr<torch::optim::Optimizer> make_adam(const OptimizerSpec& spec, Config& config) {
  double lr = config.get<double>("optim.lr", 0.001);
  double beta1 = config.get<double>("optim.beta1", 0.9);
  double beta2 = config.get<double>("optim.beta2", 0.999);
  double weight_decay = config.get<double>("optim.weight_decay", 0.0);
  require(lr > 0, "optim.lr = {}: must be > 0", lr);
  require(beta1 >= 0 && beta1 < 1, "optim.beta1 = {}: allowed [0, 1)", beta1);
  require(beta2 >= 0 && beta2 < 1, "optim.beta2 = {}: allowed [0, 1)", beta2);
  require(weight_decay >= 0, "optim.weight_decay = {}: must be >= 0", weight_decay);
  // torch::optim::Adam's rule, one pass per tensor on CPU (fused_adam.h).
  return std::make_unique<detail::DataParallelStep<FusedAdam>>(
      spec.parameters,
      torch::optim::AdamOptions(lr).betas({beta1, beta2}).weight_decay(weight_decay));
}

WINNOW_REGISTER(OptimizerRegistry, "sgd", "SGD with momentum (lr 0.01, momentum 0.9)", make_sgd);
WINNOW_REGISTER(OptimizerRegistry, "adam", "Adam (lr 0.001, betas 0.9/0.999)", make_adam);

}  // namespace

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const OptimizerSpec& spec, Config& config) {
  std::string name = config.get<std::string>("optim.name", "adam");
  return OptimizerRegistry::instance().get(name).factory(spec, config);
}

}  // namespace winnow
