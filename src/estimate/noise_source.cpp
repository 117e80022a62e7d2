#include "winnow/estimate/noise_source.h"

#include "winnow/core/error.h"

namespace winnow {

NoiseSource::NoiseSource(std::optional<double> simulated_rate, std::optional<bool> simulated_asymmetric,
                         Estimator estimator)
    : simulated_rate_(simulated_rate),
      simulated_asymmetric_(simulated_asymmetric),
      estimator_(std::move(estimator)) {}

std::shared_ptr<NoiseSource> NoiseSource::resolve_only(std::optional<double> simulated_rate,
                                                       std::optional<bool> simulated_asymmetric) {
  auto source = std::make_shared<NoiseSource>(simulated_rate, simulated_asymmetric, nullptr);
  source->resolve_only_ = true;
  return source;
}

const NoiseEstimate& NoiseSource::estimate() {
  if (!estimate_) {
    require(static_cast<bool>(estimator_), "the noise estimate is needed but this run has no estimator");
    estimate_ = estimator_();
  }
  return *estimate_;
}

bool NoiseSource::wants_estimate(Config& config, const std::string& key, bool simulated_value_known) {
  bool wants = false;
  if (config.has(key)) {
    wants = config.is_auto(key);
  } else if (!simulated_value_known) {
    config.get<std::string>(key, "auto");  // the resolved configuration says "auto"
    wants = true;
  }
  require(!wants || resolve_only_ || static_cast<bool>(estimator_),
          "{} = \"auto\" needs an estimate of the noise, which is not available here; give a value", key);
  return wants;
}

void NoiseSource::record(const std::string& key, const std::string& value) {
  // Methods with several optimizers read the same key once per network.
  for (const auto& [known, _] : auto_settings_) {
    if (known == key) return;
  }
  auto_settings_.emplace_back(key, value);
}

bool NoiseSource::took_estimate(const std::string& key) const {
  for (const auto& [known, _] : auto_settings_) {
    if (known == key) return true;
  }
  return false;
}

double NoiseSource::rate(Config& config, const std::string& key) {
  if (!wants_estimate(config, key, simulated_rate_.has_value())) {
    try {
      return config.get<double>(key, simulated_rate_.value_or(0.0));
    } catch (const Error& error) {
      fail("{}, or \"auto\" (estimated from the data)", error.what());
    }
  }
  if (resolve_only_) return 0.25;
  const double value = estimate().noise_rate;
  record(key, fmt::format("{:.4f}", value));
  return value;
}

bool NoiseSource::asymmetric(Config& config, const std::string& key) {
  if (!wants_estimate(config, key, simulated_asymmetric_.has_value())) {
    try {
      return config.get<bool>(key, simulated_asymmetric_.value_or(false));
    } catch (const Error& error) {
      fail("{}, or \"auto\" (decided from the estimated transition matrix)", error.what());
    }
  }
  if (resolve_only_) return false;
  const bool value = estimate().asymmetric;
  record(key, value ? "true" : "false");
  return value;
}

double noise_rate_option(Config& config, const std::string& key, const std::string& what,
                         std::optional<double> simulated_rate, NoiseSource* source) {
  if (source) return source->rate(config, key);
  const bool given = config.has(key) && !config.is_auto(key);
  require(given || simulated_rate.has_value(),
          "{} is not set and cannot be estimated here: {} (a number, or \"auto\" inside a run)", key, what);
  return config.get<double>(key, simulated_rate.value_or(0.0));
}

}  // namespace winnow
