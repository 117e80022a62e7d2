// Instance-dependent label noise, generated as in Xia et al., "Part-dependent Label Noise:
// Towards Instance-dependent Label Noise", NeurIPS 2020, Algorithm 2 ("instance-dependent
// label noise generation"), with the conventions of the authors' released generator
// (get_instance_noisy_label in xiaoboxia/Part-dependent-label-noise, tools.py):
//
//   1. per-sample flip rate q_i ~ N(r, rate_std^2) truncated to [0, 1] (a truncated normal,
//      drawn here by resampling the values that fall outside, never by clamping);
//   2. W_c ~ N(0, 1)^{D x K} for every class c (the K x D x K tensor W);
//   3. for sample (x_i, y_i), with x_i flattened to D values:
//        p = softmax(x_i W_{y_i}) after setting the true class's logit to -inf,
//        P(noisy = j | x_i) = q_i p_j for j != y_i,   P(noisy = y_i | x_i) = 1 - q_i;
//   4. the noisy label is drawn from that distribution.
//
// The expected flip rate is E[q_i], which is r up to the truncation (slightly above r for
// small r, where the left tail is cut off).
//
// Scale of x. The released generator multiplies W by raw pixel intensities in [0, 255]: its
// data sets load the uint8 image arrays and call it with torch.from_numpy(images).float(),
// without dividing by 255 or normalising (data.py in xiaoboxia/Part-dependent-label-noise;
// the same in dataset_split of xiaoboxia/CDR, tools.py). The scale matters because the
// logits x W_y grow with it: at 0..255 the softmax over the wrong classes is essentially
// one-hot, so almost all flips of a sample go to the single class argmax_j (x W_y)_j. Our
// Dataset inputs are floats in [0, 1] (before normalisation), so x is multiplied by
// `input_scale`, default 255, to reproduce the noise the published instance-dependent
// results were measured under. For inputs that are not 8-bit images (CSV features) set
// input_scale = 1.
//
// Vectorised: samples are grouped by true class, one [n_c, D] x [D, K] product per class.
#include <cmath>
#include <limits>

#include "common.h"
#include "winnow/core/error.h"
#include "winnow/noise/noise.h"

namespace winnow {
namespace {

struct InstanceOptions {
  double rate = 0.0;
  double rate_std = 0.1;       // Xia et al. 2020, Alg. 2: q_n ~ N(tau, 0.1^2) on [0, 1]
  double input_scale = 255.0;  // raw 8-bit intensities, as the released generator (see above)
};

// `count` draws of N(mean, sd^2) truncated to [0, 1], by resampling out-of-range draws. With
// mean in [0, 1) and sd in (0, 1] at least P(0 <= N(0, 1) <= 1) ~ 0.34 of draws are
// accepted, so the loop ends after a few rounds.
torch::Tensor truncated_normal(int64_t count, double mean, double sd, at::Generator& generator) {
  torch::Tensor values = torch::randn({count}, generator, torch::kFloat64) * sd + mean;
  constexpr int kMaxRounds = 1000;
  for (int round = 0; round < kMaxRounds; ++round) {
    torch::Tensor outside = values.lt(0.0).logical_or(values.gt(1.0));
    const int64_t rejected = outside.sum().item<int64_t>();
    if (rejected == 0) return values;
    torch::Tensor redrawn = torch::randn({rejected}, generator, torch::kFloat64) * sd + mean;
    values.masked_scatter_(outside, redrawn);
  }
  fail("instance noise: could not draw flip rates from N({}, {}^2) truncated to [0, 1]", mean, sd);
}

class InstanceNoise : public NoiseModel {
 public:
  explicit InstanceNoise(InstanceOptions options) : options_(options) {}

  std::string name() const override { return "instance"; }
  std::string describe() const override {
    return fmt::format("instance rate={} rate_std={} input_scale={}",
                       noise_detail::format_rate(options_.rate),
                       noise_detail::format_rate(options_.rate_std),
                       noise_detail::format_rate(options_.input_scale));
  }

  NoiseResult apply(const Dataset& data, uint64_t seed) const override {
    torch::Tensor labels = noise_detail::checked_labels(data, name());
    at::Generator generator = noise_detail::make_generator(seed);
    torch::Tensor rows = flip_distributions(data, labels, generator);
    // Step 4: one categorical draw per sample, from the same generator after q and W.
    torch::Tensor noisy =
        rows.numel() > 0 ? torch::multinomial(rows, 1, /*replacement=*/false, generator).view({-1})
                         : labels.clone();
    return summarize_noise(labels, noisy, data.num_classes);
  }

  torch::Tensor sample_transitions(const Dataset& data, uint64_t seed) const override {
    torch::Tensor labels = noise_detail::checked_labels(data, name());
    at::Generator generator = noise_detail::make_generator(seed);
    return flip_distributions(data, labels, generator);
  }

 private:
  // Steps 1-3: the rows P(noisy = j | x_i, y_i), float64 [N, K].
  torch::Tensor flip_distributions(const Dataset& data, const torch::Tensor& labels,
                                   at::Generator& generator) const {
    const int64_t n = labels.size(0);
    const int64_t k = data.num_classes;
    require(data.inputs.defined() && data.inputs.dim() >= 2 && data.inputs.size(0) == n,
            "noise 'instance' on data set '{}': needs inputs [N, ...] with one row per label "
            "({} labels)",
            data.name, n);
    if (n == 0) return torch::zeros({0, k}, torch::kFloat64);
    torch::Tensor x = data.inputs.to(torch::kCPU, torch::kFloat32).reshape({n, -1}).contiguous();
    if (options_.input_scale != 1.0) x = x * options_.input_scale;
    const int64_t d = x.size(1);

    torch::Tensor flip_rate = truncated_normal(n, options_.rate, options_.rate_std, generator);
    torch::Tensor rows = torch::zeros({n, k}, torch::kFloat64);
    // W_c is drawn for every class in order 0..K-1, present or not, so W depends on the seed
    // and the shapes only.
    for (int64_t c = 0; c < k; ++c) {
      torch::Tensor w = torch::randn({d, k}, generator, torch::kFloat32);
      torch::Tensor members = labels.eq(c).nonzero().view({-1});
      if (members.numel() == 0) continue;
      torch::Tensor logits = x.index_select(0, members).mm(w).to(torch::kFloat64);
      logits.select(1, c).fill_(-std::numeric_limits<double>::infinity());
      torch::Tensor q = flip_rate.index_select(0, members).unsqueeze(1);
      torch::Tensor p = torch::softmax(logits, 1) * q;
      p.select(1, c).add_(1.0 - q.squeeze(1));
      rows.index_copy_(0, members, p);
    }
    return rows;
  }

  InstanceOptions options_;
};

std::unique_ptr<NoiseModel> make_instance(Config& config) {
  InstanceOptions options;
  options.rate = noise_detail::read_rate(config, "instance", 0.0, 1.0);
  options.rate_std = config.get<double>("noise.rate_std", options.rate_std);
  require(options.rate_std > 0.0 && options.rate_std <= 1.0,
          "{}: noise.rate_std = {} is out of range for noise type 'instance' (allowed: 0 < "
          "rate_std <= 1)",
          config.source(), options.rate_std);
  options.input_scale = config.get<double>("noise.input_scale", options.input_scale);
  require(options.input_scale > 0.0 && std::isfinite(options.input_scale),
          "{}: noise.input_scale = {} is out of range for noise type 'instance' (allowed: a "
          "finite number > 0; 255 for images stored in [0, 1], 1 for other features)",
          config.source(), options.input_scale);
  return std::make_unique<InstanceNoise>(options);
}

WINNOW_REGISTER(NoiseRegistry, "instance",
                "instance-dependent noise of Xia et al. 2020 (PTD): per-sample flip rate ~ "
                "N(rate, rate_std) on [0, 1], targets from softmax(x W_y)",
                make_instance);

}  // namespace
}  // namespace winnow
