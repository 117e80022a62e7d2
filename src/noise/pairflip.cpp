// Pair flipping, Han et al., "Co-teaching: Robust training of deep neural networks with
// extremely noisy labels", NeurIPS 2018, Sec. 4: each class i is mistaken only for its
// neighbour i + 1 (mod K),
//   T_ii = 1 - r,   T_i,(i+1 mod K) = r,
// the harder, structured case where a fine class is confused with one similar class.
#include "common.h"
#include "winnow/core/error.h"
#include "winnow/noise/noise.h"

namespace winnow {
namespace {

class PairFlipNoise : public NoiseModel {
 public:
  explicit PairFlipNoise(double rate) : rate_(rate) {}

  std::string name() const override { return "pairflip"; }
  std::string describe() const override {
    return "pairflip rate=" + noise_detail::format_rate(rate_);
  }

  NoiseResult apply(const Dataset& data, uint64_t seed) const override {
    torch::Tensor labels = noise_detail::checked_labels(data, name());
    const int64_t k = data.num_classes;
    at::Generator generator = noise_detail::make_generator(seed);
    torch::Tensor flip = torch::rand({labels.size(0)}, generator, torch::kFloat64).lt(rate_);
    torch::Tensor noisy = torch::where(flip, (labels + 1).remainder(k), labels);
    return summarize_noise(labels, noisy, k);
  }

  torch::Tensor expected_transition(int64_t num_classes) const override {
    require(num_classes >= 2, "noise 'pairflip': needs at least 2 classes, got {}", num_classes);
    torch::Tensor t = torch::eye(num_classes, torch::kFloat64) * (1.0 - rate_);
    for (int64_t i = 0; i < num_classes; ++i) {
      t[i][(i + 1) % num_classes] += rate_;
    }
    return t;
  }

 private:
  double rate_;
};

WINNOW_REGISTER(NoiseRegistry, "pairflip",
                "each label of class i flips with probability rate to class i+1 (mod K)",
                [](Config& config) -> std::unique_ptr<NoiseModel> {
                  return std::make_unique<PairFlipNoise>(
                      noise_detail::read_rate(config, "pairflip", 0.0, 1.0));
                });

}  // namespace
}  // namespace winnow
