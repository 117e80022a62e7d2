// Symmetric label noise with an exact count per class: of the n_c samples of class c,
// exactly round(r * n_c) (half away from zero) are flipped, each to a class drawn uniformly
// from the K - 1 others. It follows the same matrix as "symmetric" (Han et al., NeurIPS 2018,
// Sec. 4: T_ii = 1 - r, T_ij = r / (K - 1)) but without the binomial spread of the flip
// count, so small or rare classes get the rate that was asked for. expected_transition is that
// matrix; a class realises it up to the rounding of r * n_c.
#include <cmath>

#include "common.h"
#include "winnow/core/error.h"
#include "winnow/noise/noise.h"

namespace winnow {
namespace {

class SymmetricExactNoise : public NoiseModel {
 public:
  explicit SymmetricExactNoise(double rate) : rate_(rate) {}

  std::string name() const override { return "symmetric_exact"; }
  std::string describe() const override {
    return "symmetric_exact rate=" + noise_detail::format_rate(rate_);
  }

  NoiseResult apply(const Dataset& data, uint64_t seed) const override {
    torch::Tensor labels = noise_detail::checked_labels(data, name());
    const int64_t k = data.num_classes;
    at::Generator generator = noise_detail::make_generator(seed);
    torch::Tensor noisy = labels.clone();
    // Classes in order 0..K-1, so the draws depend on the seed and the class counts only.
    for (int64_t c = 0; c < k; ++c) {
      torch::Tensor members = labels.eq(c).nonzero().view({-1});
      const int64_t count = members.size(0);
      const auto flips = static_cast<int64_t>(std::llround(rate_ * static_cast<double>(count)));
      if (flips == 0) continue;
      torch::Tensor chosen = members.index_select(
          0, torch::randperm(count, generator, torch::kInt64).narrow(0, 0, flips));
      torch::Tensor offset = torch::randint(1, k, {flips}, generator, torch::kInt64);
      noisy.index_put_({chosen}, (offset + c).remainder(k));
    }
    return summarize_noise(labels, noisy, k);
  }

  torch::Tensor expected_transition(int64_t num_classes) const override {
    require(num_classes >= 2, "noise 'symmetric_exact': needs at least 2 classes, got {}",
            num_classes);
    torch::Tensor t = torch::full({num_classes, num_classes},
                                  rate_ / static_cast<double>(num_classes - 1), torch::kFloat64);
    t.fill_diagonal_(1.0 - rate_);
    return t;
  }

 private:
  double rate_;
};

WINNOW_REGISTER(
    NoiseRegistry, "symmetric_exact",
    "exactly round(rate * n_c) labels of each class c flip to uniformly drawn other classes",
    [](Config& config) -> std::unique_ptr<NoiseModel> {
      return std::make_unique<SymmetricExactNoise>(
          noise_detail::read_rate(config, "symmetric_exact", 0.0, 1.0));
    });

}  // namespace
}  // namespace winnow
