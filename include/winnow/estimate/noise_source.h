#pragma once
// Where a method's noise-dependent options come from (the Co-teaching family's forget rate,
// CDR's tau, DivideMix's preset and asymmetric switch). The rule, for every such option:
//   - a number (or true/false) in the configuration wins;
//   - "auto" takes the estimate from the data (estimate/noise_estimate.h);
//   - unset: the simulation's configured rate where the labels are simulated (the papers'
//     protocol, so that tables stay comparable with them), the estimate otherwise: a user's
//     own labels never need a rate nobody knows.
// The estimate is computed once per run, on first use, and every option it set is recorded
// (printed in the run header and written to summary.json).
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "winnow/core/config.h"
#include "winnow/estimate/noise_estimate.h"

namespace winnow {

class NoiseSource {
 public:
  using Estimator = std::function<NoiseEstimate()>;
  // `simulated_rate` / `simulated_asymmetric`: what the simulation says, where there is one.
  NoiseSource(std::optional<double> simulated_rate, std::optional<bool> simulated_asymmetric, Estimator estimator);
  // A source that only resolves the configuration (`train --print-config`, `inspect`'s check
  // of the configured method): "auto" options stay "auto" in the resolved configuration and
  // the method being built gets a valid stand-in value (rate 0.25, symmetric), as nothing
  // trains on it. Nothing is estimated or recorded.
  static std::shared_ptr<NoiseSource> resolve_only(std::optional<double> simulated_rate,
                                                   std::optional<bool> simulated_asymmetric);

  bool simulated() const { return simulated_rate_.has_value(); }
  std::optional<double> simulated_rate() const { return simulated_rate_; }

  // The noise rate for the option `key`, under the rule above.
  double rate(Config& config, const std::string& key);
  // Whether the noise is asymmetric (class-dependent), for the switch `key`.
  bool asymmetric(Config& config, const std::string& key);

  // The estimate, computed on first call.
  const NoiseEstimate& estimate();
  bool has_estimate() const { return estimate_.has_value(); }
  // Whether the option `key` took the estimate.
  bool took_estimate(const std::string& key) const;
  // The options the estimate set: (key, value as text).
  const std::vector<std::pair<std::string, std::string>>& auto_settings() const { return auto_settings_; }

 private:
  // True where `key` should take the estimate: "auto", or unset without a simulation.
  bool wants_estimate(Config& config, const std::string& key, bool simulated_value_known);
  void record(const std::string& key, const std::string& value);

  std::optional<double> simulated_rate_;
  std::optional<bool> simulated_asymmetric_;
  Estimator estimator_;
  bool resolve_only_ = false;
  std::optional<NoiseEstimate> estimate_;
  std::vector<std::pair<std::string, std::string>> auto_settings_;
};

// A rate option read through `source` where there is one; without (a method built outside a
// run, in tests), a number in the configuration or the simulated rate, else an error.
double noise_rate_option(Config& config, const std::string& key, const std::string& what,
                         std::optional<double> simulated_rate, NoiseSource* source);

}  // namespace winnow
