#include "winnow/estimate/estimate_noise.h"

#include "winnow/core/error.h"
#include "winnow/estimate/anchor.h"
#include "winnow/estimate/confident_learning.h"
#include "winnow/estimate/noise_source.h"

namespace winnow {

EstimateOptions EstimateOptions::from_config(Config& config, const EstimateOptions& defaults) {
  EstimateOptions o;
  o.protocol = config.get_choice("estimate.protocol", defaults.protocol, {"crossfit", "single_run"});
  o.folds = config.get<int64_t>("estimate.folds", defaults.folds);
  require(o.folds >= 2, "estimate.folds = {}: must be >= 2", o.folds);
  o.epochs = config.get<int64_t>("estimate.epochs", defaults.epochs);
  require(o.epochs >= 1, "estimate.epochs = {}: must be >= 1", o.epochs);
  o.select_epoch = config.get_choice("estimate.select_epoch", defaults.select_epoch, {"best_val", "last", "average"});
  o.recipe = config.get_choice("estimate.recipe", defaults.recipe, {"ce", "config"});
  o.estimator = config.get_choice("estimate.estimator", defaults.estimator, {"confident_learning", "anchor"});
  o.lr = config.get<double>("estimate.lr", defaults.lr);
  require(o.lr > 0, "estimate.lr = {}: must be > 0", o.lr);
  return o;
}

std::string EstimateOptions::describe() const {
  return fmt::format("{} on {} probabilities ({}{} epochs{}, {} recipe)", estimator, protocol,
                     protocol == "crossfit" ? fmt::format("{} folds x ", folds) : std::string(), epochs,
                     select_epoch == "best_val" ? ", best noisy-val epoch" : "", recipe);
}

EstimationResult estimate_noise(const Dataset& train, const Dataset& val, Config& config,
                                const EstimateOptions& options, OutOfSampleOptions base,
                                std::shared_ptr<NoiseSource> noise) {
  base.protocol = options.protocol;
  base.folds = options.folds;
  base.epochs = options.epochs;
  base.select_epoch = options.select_epoch;
  // The estimation pass must not move the global generator: the run's own networks are
  // initialised the same whether the estimate was computed or read back from a file.
  at::Generator generator = at::detail::getDefaultCPUGenerator();  // a handle on the global one
  const auto saved = generator.get_state();

  EstimationResult result;
  if (options.recipe == "ce") {
    // The configured network, plain cross entropy, Adam: the early-learning behaviour the
    // estimate relies on, whatever robust method the run itself uses.
    Config recipe = config.sections({"model"});
    recipe.set("method.name", std::string("standard"));
    recipe.set("loss.name", std::string("ce"));
    recipe.set("optim.name", std::string("adam"));
    recipe.set("optim.lr", options.lr);
    result.probabilities = out_of_sample_probabilities(train, val, recipe, base, noise);
  } else {
    result.probabilities = out_of_sample_probabilities(train, val, config, base, noise);
  }
  generator.set_state(saved);

  const auto& probs = result.probabilities.probs;
  result.estimate = options.estimator == "anchor" ? anchor_point_estimate(probs, train.labels)
                                                  : confident_learning_estimate(probs, train.labels);
  result.estimate.method = fmt::format("{} on {}", result.estimate.method, result.probabilities.description);
  result.estimate.cost_epochs = result.probabilities.cost_epochs;
  return result;
}

}  // namespace winnow
