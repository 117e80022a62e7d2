#include "common.h"

#include "winnow/core/error.h"

namespace winnow::noise_detail {

double read_rate(Config& config, const std::string& type, double lo, double hi_exclusive) {
  std::optional<double> rate = config.get_optional<double>("noise.rate");
  require(rate.has_value(),
          "{}: noise.rate is required for noise type '{}' (allowed: {} <= rate < {})",
          config.source(), type, lo, hi_exclusive);
  // Written so that NaN fails too.
  require(*rate >= lo && *rate < hi_exclusive,
          "{}: noise.rate = {} is out of range for noise type '{}' (allowed: {} <= rate < {})",
          config.source(), *rate, type, lo, hi_exclusive);
  return *rate;
}

torch::Tensor checked_labels(const Dataset& data, const std::string& type) {
  require(
      data.labels.defined() && data.labels.dim() == 1 && data.labels.scalar_type() == torch::kInt64,
      "noise '{}' on data set '{}': labels must be int64 [N]", type, data.name);
  require(data.num_classes >= 2, "noise '{}' on data set '{}': needs at least 2 classes, has {}",
          type, data.name, data.num_classes);
  torch::Tensor labels = data.labels.to(torch::kCPU).contiguous();
  if (labels.numel() > 0) {
    int64_t lo = labels.min().item<int64_t>();
    int64_t hi = labels.max().item<int64_t>();
    require(lo >= 0 && hi < data.num_classes,
            "noise '{}' on data set '{}': labels range over [{}, {}], allowed [0, {}]", type,
            data.name, lo, hi, data.num_classes - 1);
  }
  return labels;
}

at::Generator make_generator(uint64_t seed) {
  return at::make_generator<at::CPUGeneratorImpl>(seed);
}

std::string format_rate(double rate) { return fmt::format("{}", rate); }

torch::Tensor rows_for_labels(const torch::Tensor& matrix, const torch::Tensor& labels) {
  return matrix.to(torch::kFloat64).index_select(0, labels.to(torch::kCPU));
}

}  // namespace winnow::noise_detail
