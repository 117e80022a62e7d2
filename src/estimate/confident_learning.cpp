// Confident learning (Northcutt, Jiang & Chuang, JAIR 2021), matching cleanlab 2.x: counting
// (Sec. 3.1), calibration (Eq. 3) and the latent estimates. See
// include/winnow/estimate/confident_learning.h for where cleanlab and the paper differ.
#include "winnow/estimate/confident_learning.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "confident_learning_internal.h"
#include "winnow/core/error.h"

namespace winnow {
namespace cl_detail {

torch::Tensor checked_labels(const torch::Tensor& labels, int64_t k, const char* where) {
  require(labels.defined(), "{}: labels are undefined", where);
  require(labels.dim() == 1, "{}: labels must be 1-D [N], got {} dimensions", where, labels.dim());
  require(!at::isFloatingType(labels.scalar_type()) && !at::isComplexType(labels.scalar_type()) &&
              labels.scalar_type() != torch::kBool,
          "{}: labels must be integers (int64), got {}", where,
          std::string(c10::toString(labels.scalar_type())));
  torch::Tensor out = labels.to(torch::kCPU, torch::kInt64).contiguous();
  if (out.numel() > 0) {
    const int64_t lo = out.min().item<int64_t>();
    const int64_t hi = out.max().item<int64_t>();
    require(lo >= 0 && hi < k, "{}: labels must be in [0, {}), got values in [{}, {}]", where, k,
            lo, hi);
  }
  return out;
}

Inputs checked_inputs(const torch::Tensor& probs, const torch::Tensor& labels, const char* where) {
  require(probs.defined(), "{}: probs are undefined", where);
  require(probs.dim() == 2, "{}: probs must be 2-D [N, K], got {} dimensions", where, probs.dim());
  require(at::isFloatingType(probs.scalar_type()), "{}: probs must be float or double, got {}",
          where, std::string(c10::toString(probs.scalar_type())));
  Inputs in;
  in.n = probs.size(0);
  in.k = probs.size(1);
  require(in.k >= 2, "{}: needs at least 2 classes (columns of probs), got {}", where, in.k);
  require(in.n >= 1, "{}: needs at least one sample, probs has 0 rows", where);
  require(labels.defined() && labels.dim() == 1 && labels.size(0) == in.n,
          "{}: labels must be [N] with N = {} (rows of probs), got shape {}", where, in.n,
          labels.defined() ? c10::str(labels.sizes()) : std::string("undefined"));
  in.probs = probs.to(torch::kCPU, torch::kFloat64).contiguous();
  require(!in.probs.isnan().any().item<bool>(), "{}: probs contain NaN", where);
  const double lo = in.probs.min().item<double>();
  const double hi = in.probs.max().item<double>();
  // cleanlab's tolerance (internal/validation.py).
  require(lo >= -kFloatSlack && hi <= 1.0 + kFloatSlack,
          "{}: probs must be probabilities in [0, 1], got values in [{}, {}]", where, lo, hi);
  in.labels = checked_labels(labels, in.k, where);
  return in;
}

torch::Tensor label_counts(const torch::Tensor& labels, int64_t k) {
  return torch::bincount(labels, {}, k).to(torch::kInt64);
}

namespace {

// numpy's pairwise summation (np.add.reduce over a contiguous run): the calibration rounds
// sums to integers, so its totals must agree with numpy's to the last bit.
double numpy_sum(const double* a, int64_t n) {
  if (n < 8) {
    double sum = 0.0;
    for (int64_t i = 0; i < n; ++i) sum += a[i];
    return sum;
  }
  if (n <= 128) {
    double r[8];
    std::copy(a, a + 8, r);
    int64_t i = 8;
    for (; i < n - n % 8; i += 8) {
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    }
    double sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) sum += a[i];
    return sum;
  }
  int64_t half = n / 2;
  half -= half % 8;
  return numpy_sum(a, half) + numpy_sum(a + half, n - half);
}

// Rounds `row` to integers whose sum is the rounded sum of `row`: round half to even, then
// move the entries with the largest remainders up (or the smallest down) one at a time, as
// cleanlab's round_preserving_sum. Ties: a stable ascending sort, reversed when adding.
std::vector<double> round_preserving_sum(const std::vector<double>& row) {
  const int64_t k = static_cast<int64_t>(row.size());
  std::vector<double> ints(row.size());
  for (size_t i = 0; i < row.size(); ++i) ints[i] = std::nearbyint(row[i]);
  const double target = std::nearbyint(numpy_sum(row.data(), k));
  double total = std::nearbyint(numpy_sum(ints.data(), k));
  std::vector<int64_t> order(row.size());
  while (std::abs(total - target) > kFloatSlack) {
    const double diff = std::nearbyint(target - total);
    const double step = diff < 0.0 ? -1.0 : 1.0;
    const int64_t changes = std::min<int64_t>(static_cast<int64_t>(std::abs(diff)), k);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return row[a] - ints[a] < row[b] - ints[b];
    });
    if (step > 0.0) std::reverse(order.begin(), order.end());
    for (int64_t i = 0; i < changes; ++i) ints[order[i]] += step;
    total = std::nearbyint(numpy_sum(ints.data(), k));
  }
  return ints;
}

// Row-wise round_preserving_sum of a double [K, K] matrix, int64 result.
torch::Tensor round_preserving_row_totals(const torch::Tensor& matrix) {
  torch::Tensor m = matrix.contiguous();
  const int64_t rows = m.size(0), cols = m.size(1);
  torch::Tensor out = torch::empty({rows, cols}, torch::kInt64);
  const double* src = m.data_ptr<double>();
  int64_t* dst = out.data_ptr<int64_t>();
  for (int64_t i = 0; i < rows; ++i) {
    std::vector<double> rounded =
        round_preserving_sum(std::vector<double>(src + i * cols, src + (i + 1) * cols));
    for (int64_t j = 0; j < cols; ++j) dst[i * cols + j] = static_cast<int64_t>(rounded[j]);
  }
  return out;
}

}  // namespace

torch::Tensor thresholds_of(const Inputs& in) {
  torch::Tensor self = in.probs.gather(1, in.labels.unsqueeze(1)).squeeze(1);
  torch::Tensor sums = torch::zeros({in.k}, torch::kFloat64).index_add_(0, in.labels, self);
  torch::Tensor counts = label_counts(in.labels, in.k);
  torch::Tensor mean = sums / counts.clamp_min(1).to(torch::kFloat64);
  mean = torch::where(counts > 0, mean, torch::full_like(mean, kMissingThreshold));
  return mean.clamp_min(kThresholdFloor);
}

ConfidentGuess confident_guess(const Inputs& in) {
  torch::Tensor passing = in.probs >= (thresholds_of(in) - kFloatSlack).unsqueeze(0);
  torch::Tensor num_passing = passing.sum(1);
  // The only class that passes, or, when several pass, the overall argmax (cleanlab; the
  // paper's Eq. 1 takes the argmax among the passing classes).
  torch::Tensor first_passing = passing.to(torch::kUInt8).argmax(1);
  torch::Tensor guess = torch::where(num_passing > 1, in.probs.argmax(1), first_passing);
  return {num_passing > 0, guess};
}

torch::Tensor raw_confident_joint(const Inputs& in, const ConfidentGuess& g) {
  torch::Tensor cells = (in.labels * in.k + g.guess).masked_select(g.confident);
  torch::Tensor joint =
      torch::bincount(cells, {}, in.k * in.k).to(torch::kInt64).view({in.k, in.k});
  joint.diagonal().clamp_min_(1);
  return joint;
}

torch::Tensor calibrate(const torch::Tensor& joint, const torch::Tensor& counts) {
  torch::Tensor c = joint.to(torch::kFloat64);
  torch::Tensor n = counts.to(torch::kFloat64);
  torch::Tensor scaled = (c / c.sum(1).clamp_min(kTiny).unsqueeze(1) * n.unsqueeze(1)).contiguous();
  const double total = std::max(numpy_sum(scaled.data_ptr<double>(), scaled.numel()), kTiny);
  scaled = scaled / total * static_cast<double>(counts.sum().item<int64_t>());
  return round_preserving_row_totals(scaled);
}

torch::Tensor label_is_argmax(const Inputs& in) {
  torch::Tensor nudged =
      in.probs + kFloatSlack * torch::one_hot(in.labels, in.k).to(torch::kFloat64);
  return nudged.argmax(1) == in.labels;
}

}  // namespace cl_detail

using namespace cl_detail;

namespace {

// cleanlab's clip_noise_rates on a matrix whose columns are distributions.
torch::Tensor clip_noise_rates(const torch::Tensor& matrix) {
  torch::Tensor diagonal = matrix.diagonal().clone();
  torch::Tensor clipped = matrix.clamp(0.0, kMaxNoiseRate);
  clipped.diagonal().copy_(diagonal);
  return clipped / clipped.sum(0).clamp_min(kTiny);
}

}  // namespace

torch::Tensor confident_thresholds(const torch::Tensor& probs, const torch::Tensor& labels) {
  return thresholds_of(checked_inputs(probs, labels, "confident_thresholds"));
}

torch::Tensor confident_joint(const torch::Tensor& probs, const torch::Tensor& labels,
                             bool calibrate_counts) {
  Inputs in = checked_inputs(probs, labels, "confident_joint");
  torch::Tensor joint = raw_confident_joint(in, confident_guess(in));
  return calibrate_counts ? calibrate(joint, label_counts(in.labels, in.k)) : joint;
}

torch::Tensor calibrate_confident_joint(const torch::Tensor& joint, const torch::Tensor& labels) {
  require(joint.defined() && joint.dim() == 2 && joint.size(0) == joint.size(1) &&
              joint.size(0) >= 2,
          "calibrate_confident_joint: the confident joint must be a square [K, K] matrix with "
          "K >= 2, got shape {}",
          joint.defined() ? c10::str(joint.sizes()) : std::string("undefined"));
  torch::Tensor c = joint.to(torch::kCPU, torch::kFloat64);
  require(!c.isnan().any().item<bool>() && c.min().item<double>() >= 0.0,
          "calibrate_confident_joint: counts must be non-negative numbers");
  const int64_t k = joint.size(0);
  torch::Tensor l = checked_labels(labels, k, "calibrate_confident_joint");
  require(l.numel() > 0, "calibrate_confident_joint: needs at least one label");
  return calibrate(c, label_counts(l, k));
}

torch::Tensor estimate_joint(const torch::Tensor& probs, const torch::Tensor& labels) {
  torch::Tensor joint = confident_joint(probs, labels, true).to(torch::kFloat64);
  return joint / std::max(joint.sum().item<double>(), kTiny);
}

LatentEstimate estimate_latent(const torch::Tensor& probs, const torch::Tensor& labels) {
  Inputs in = checked_inputs(probs, labels, "estimate_latent");
  torch::Tensor counts = label_counts(in.labels, in.k);
  torch::Tensor joint = calibrate(raw_confident_joint(in, confident_guess(in)), counts);
  torch::Tensor c = joint.to(torch::kFloat64);
  torch::Tensor given_prior = counts.to(torch::kFloat64) / static_cast<double>(in.n);
  // cleanlab's orientation: noise[given][true] = P(given | true) (columns sum to 1),
  // inverse[true][given] = P(true | given).
  torch::Tensor noise = c / c.sum(0).clamp_min(kTiny).unsqueeze(0);
  torch::Tensor inverse = c.t() / c.sum(1).clamp_min(kTiny).unsqueeze(0);
  // py "cnt": p(y* = j) = P(y*=j | ỹ=j) / P(ỹ=j | y*=j) * p(ỹ=j), kept in [1e-6, 1], sum 1.
  torch::Tensor prior =
      (inverse.diagonal() / noise.diagonal().clamp_min(kTiny) * given_prior).clamp(kClipFloor, 1.0);
  prior = prior / prior.sum().clamp_min(kTiny);
  LatentEstimate out;
  out.confident_joint = joint;
  out.prior = prior;
  out.transition = clip_noise_rates(noise).t().contiguous();
  out.inverse = clip_noise_rates(inverse).t().contiguous();
  return out;
}

int64_t num_label_issues(const torch::Tensor& probs, const torch::Tensor& labels,
                         const std::string& method) {
  require(method == "off_diagonal" || method == "off_diagonal_calibrated",
          "num_label_issues: unknown method '{}' (allowed: off_diagonal, off_diagonal_calibrated)",
          method);
  Inputs in = checked_inputs(probs, labels, "num_label_issues");
  ConfidentGuess g = confident_guess(in);
  if (method == "off_diagonal") {
    return (g.confident & (g.guess != in.labels) & ~label_is_argmax(in)).sum().item<int64_t>();
  }
  // N (1 - trace Q) with Q the calibrated joint over its total.
  torch::Tensor c = calibrate(raw_confident_joint(in, g), label_counts(in.labels, in.k))
                        .to(torch::kFloat64);
  const double off = 1.0 - (c / std::max(c.sum().item<double>(), kTiny)).trace().item<double>();
  return static_cast<int64_t>(std::nearbyint(off * static_cast<double>(in.n)));
}

}  // namespace winnow
