// Symmetric (uniform) label noise, the "symmetry flipping" of Han et al., "Co-teaching:
// Robust training of deep neural networks with extremely noisy labels", NeurIPS 2018, Sec. 4
// (after van Rooyen et al., NeurIPS 2015): with K classes and rate r,
//   T_ii = 1 - r,   T_ij = r / (K - 1) for j != i.
// Each label is drawn independently: flip with probability r, and a flipped label moves to
// a class drawn uniformly from the K - 1 others (true label plus an offset in 1..K-1, mod K).
#include "common.h"
#include "winnow/core/error.h"
#include "winnow/noise/noise.h"

namespace winnow {
namespace {

class SymmetricNoise : public NoiseModel {
 public:
  explicit SymmetricNoise(double rate) : rate_(rate) {}

  std::string name() const override { return "symmetric"; }
  std::string describe() const override {
    return "symmetric rate=" + noise_detail::format_rate(rate_);
  }

  NoiseResult apply(const Dataset& data, uint64_t seed) const override {
    torch::Tensor labels = noise_detail::checked_labels(data, name());
    const int64_t n = labels.size(0);
    const int64_t k = data.num_classes;
    at::Generator generator = noise_detail::make_generator(seed);
    // Both draws are made for every sample so sample i's outcome depends on the seed alone.
    torch::Tensor flip = torch::rand({n}, generator, torch::kFloat64).lt(rate_);
    torch::Tensor offset = torch::randint(1, k, {n}, generator, torch::kInt64);
    torch::Tensor noisy = torch::where(flip, (labels + offset).remainder(k), labels);
    return summarize_noise(labels, noisy, k);
  }

  torch::Tensor expected_transition(int64_t num_classes) const override {
    require(num_classes >= 2, "noise 'symmetric': needs at least 2 classes, got {}", num_classes);
    torch::Tensor t = torch::full({num_classes, num_classes},
                                  rate_ / static_cast<double>(num_classes - 1), torch::kFloat64);
    t.fill_diagonal_(1.0 - rate_);
    return t;
  }

 private:
  double rate_;
};

WINNOW_REGISTER(NoiseRegistry, "symmetric",
                "each label flips with probability rate to a uniformly drawn other class",
                [](Config& config) -> std::unique_ptr<NoiseModel> {
                  return std::make_unique<SymmetricNoise>(
                      noise_detail::read_rate(config, "symmetric", 0.0, 1.0));
                });

}  // namespace
}  // namespace winnow
