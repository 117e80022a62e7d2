// The record of a noise draw (summarize_noise), its application to a data set (apply_noise),
// construction by name (make_noise) and the "none" entry of the registry.
#include "winnow/noise/noise.h"

#include "common.h"
#include "winnow/core/error.h"

namespace winnow {

NoiseResult summarize_noise(const torch::Tensor& true_labels, const torch::Tensor& noisy_labels,
                            int64_t num_classes) {
  require(num_classes >= 1, "summarize_noise: num_classes must be >= 1, got {}", num_classes);
  require(true_labels.defined() && noisy_labels.defined() && true_labels.dim() == 1 &&
              noisy_labels.dim() == 1 && true_labels.size(0) == noisy_labels.size(0),
          "summarize_noise: true and noisy labels must both be [N] of the same N");
  torch::Tensor truth = true_labels.to(torch::kCPU, torch::kInt64);
  torch::Tensor noisy = noisy_labels.to(torch::kCPU, torch::kInt64);
  const int64_t n = truth.size(0);
  if (n > 0) {
    int64_t lo = std::min(truth.min().item<int64_t>(), noisy.min().item<int64_t>());
    int64_t hi = std::max(truth.max().item<int64_t>(), noisy.max().item<int64_t>());
    require(lo >= 0 && hi < num_classes,
            "summarize_noise: labels range over [{}, {}], allowed [0, {}]", lo, hi,
            num_classes - 1);
  }

  NoiseResult result;
  result.noisy_labels = noisy;
  result.flip_mask = noisy.ne(truth);
  // Counts of (true, noisy) pairs in one pass: pair index true * K + noisy.
  torch::Tensor counts = torch::bincount(truth * num_classes + noisy, /*weights=*/{},
                                         /*minlength=*/num_classes * num_classes)
                             .to(torch::kFloat64)
                             .view({num_classes, num_classes});
  torch::Tensor row_sums = counts.sum(1, /*keepdim=*/true);
  // A class with no samples has no evidence; its row is the identity row so every row still
  // sums to 1 (nothing observed to flip).
  torch::Tensor identity = torch::eye(num_classes, torch::kFloat64);
  torch::Tensor empty = row_sums.eq(0);
  result.transition = torch::where(
      empty, identity, counts / torch::where(empty, torch::ones_like(row_sums), row_sums));
  result.actual_rate = n > 0 ? result.flip_mask.to(torch::kFloat64).mean().item<double>() : 0.0;
  return result;
}

void apply_noise(Dataset& data, const NoiseResult& result) {
  require(data.labels.defined() && result.noisy_labels.defined() &&
              result.noisy_labels.sizes() == data.labels.sizes(),
          "apply_noise: data set '{}' has {} labels but the noise record has {}", data.name,
          data.labels.defined() ? data.labels.numel() : 0,
          result.noisy_labels.defined() ? result.noisy_labels.numel() : 0);
  // Clean labels already known (a benchmark that ships them) stay the truth; otherwise the
  // labels the simulator took as the truth become it.
  if (!data.true_labels.defined()) data.true_labels = data.labels;
  data.labels = result.noisy_labels.to(data.labels.device(), torch::kInt64);
}

std::unique_ptr<NoiseModel> make_noise(Config& config) {
  std::string type = config.get<std::string>("noise.type", "none");
  return NoiseRegistry::instance().get(type).factory(config);
}

torch::Tensor NoiseModel::sample_transitions(const Dataset& data, uint64_t seed) const {
  torch::Tensor labels = noise_detail::checked_labels(data, name());
  torch::Tensor matrix = expected_transition(data.num_classes);
  require(matrix.defined(), "noise '{}' has no class-conditional transition matrix", name());
  return noise_detail::rows_for_labels(matrix, labels);
}

WINNOW_REGISTER(NoiseRegistry, "none", "no simulated noise: the labels are used as given",
                [](Config&) { return std::unique_ptr<NoiseModel>(); });

bool is_class_dependent_noise(const std::string& type) { return type == "pairflip" || type == "classmap"; }

}  // namespace winnow
