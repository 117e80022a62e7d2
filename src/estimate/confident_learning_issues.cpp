// Finding the wrong labels and scoring label quality (Northcutt, Jiang & Chuang, JAIR 2021,
// Sec. 3.2), as cleanlab 2.x's filter.find_label_issues and rank.get_label_quality_scores.
#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <fmt/ranges.h>

#include "confident_learning_internal.h"
#include "winnow/core/error.h"
#include "winnow/estimate/confident_learning.h"

namespace winnow {

using namespace cl_detail;

namespace {

// filter._keep_at_least_n_per_class followed by _reduce_prune_counts, on the transposed
// calibrated joint P[true][given]. Per-column loops over K x K numbers, in cleanlab's order of
// operations (the result is truncated to integers, so each step must match).
torch::Tensor prune_counts(const torch::Tensor& joint, int64_t keep, double frac_noise) {
  const int64_t k = joint.size(0);
  torch::Tensor p = joint.t().to(torch::kFloat64).contiguous();
  auto a = p.accessor<double, 2>();
  std::vector<double> diag(k), raised(k);
  for (int64_t j = 0; j < k; ++j) {
    diag[j] = a[j][j];
    raised[j] = std::max(diag[j], static_cast<double>(keep));
  }
  // Raise each diagonal to `keep`, taking the amount evenly from the column's non-zero entries.
  for (int64_t j = 0; j < k; ++j) {
    int64_t nonzero = 0;
    for (int64_t i = 0; i < k; ++i) nonzero += a[i][j] != 0.0;
    const double share = (raised[j] - diag[j]) / std::max(nonzero - 1.0, 1.0);
    for (int64_t i = 0; i < k; ++i) a[i][j] = std::max(a[i][j] - share, 0.0);
    a[j][j] = raised[j];
  }
  // Keep frac_noise of each off-diagonal count; the diagonal takes the rest of the column.
  torch::Tensor out = torch::empty({k, k}, torch::kInt64);
  auto o = out.accessor<int64_t, 2>();
  for (int64_t j = 0; j < k; ++j) {
    double moved = 0.0;
    for (int64_t i = 0; i < k; ++i) {
      const double kept = i == j ? a[i][j] : a[i][j] * frac_noise;
      moved += a[i][j] - kept;
      o[i][j] = static_cast<int64_t>(kept);  // truncation, as numpy's astype(int)
    }
    o[j][j] = static_cast<int64_t>(a[j][j] + moved);
  }
  return out;
}

// Sample indices given class `given`, ordered by `key` ascending (stable), int64.
torch::Tensor order_by(const torch::Tensor& key) {
  return std::get<1>(key.sort(/*stable=*/true, /*dim=*/0, /*descending=*/false));
}

// Rule "prune_by_class": per given class i, the N_i - P[i][i] lowest p̂_i.
torch::Tensor prune_by_class(const Inputs& in, const torch::Tensor& prune,
                             const torch::Tensor& counts, int64_t keep) {
  torch::Tensor mask = torch::zeros({in.n}, torch::kBool);
  for (int64_t i = 0; i < in.k; ++i) {
    const int64_t count = counts[i].item<int64_t>();
    // cleanlab writes a class's mask back only when the class has more than one sample.
    if (count <= keep || count <= 1) continue;
    const int64_t issues = count - prune[i][i].item<int64_t>();
    if (issues < 1) continue;
    torch::Tensor members = (in.labels == i).nonzero().squeeze(1);
    torch::Tensor order = order_by(in.probs.index_select(0, members).select(1, i));
    mask.index_fill_(0, members.index_select(0, order.narrow(0, 0, std::min(issues, count))), true);
  }
  return mask;
}

// Rule "prune_by_noise_rate": per given class i and true class j != i, the P[j][i] samples
// given i with the largest margin p̂_j - p̂_i.
torch::Tensor prune_by_noise_rate(const Inputs& in, const torch::Tensor& prune,
                                  const torch::Tensor& counts, int64_t keep) {
  torch::Tensor mask = torch::zeros({in.n}, torch::kBool);
  for (int64_t i = 0; i < in.k; ++i) {
    const int64_t count = counts[i].item<int64_t>();
    if (count <= keep || count <= 1) continue;
    torch::Tensor members = (in.labels == i).nonzero().squeeze(1);
    torch::Tensor rows = in.probs.index_select(0, members);
    for (int64_t j = 0; j < in.k; ++j) {
      const int64_t take = std::min(prune[j][i].item<int64_t>(), count);
      if (j == i || take <= 0) continue;
      torch::Tensor order = order_by(rows.select(1, i) - rows.select(1, j));
      mask.index_fill_(0, members.index_select(0, order.narrow(0, 0, take)), true);
    }
  }
  return mask;
}

const std::vector<std::string>& filter_names() {
  static const std::vector<std::string> names = {"prune_by_noise_rate", "prune_by_class", "both",
                                                 "confident_learning", "predicted_neq_given"};
  return names;
}

}  // namespace

torch::Tensor find_label_issues(const torch::Tensor& probs, const torch::Tensor& labels,
                                const std::string& filter_by) {
  LabelIssueOptions options;
  options.filter_by = filter_by;
  return find_label_issues(probs, labels, options);
}

torch::Tensor find_label_issues(const torch::Tensor& probs, const torch::Tensor& labels,
                                const LabelIssueOptions& options) {
  const auto& names = filter_names();
  require(std::find(names.begin(), names.end(), options.filter_by) != names.end(),
          "find_label_issues: unknown filter_by '{}' (allowed: {})", options.filter_by,
          fmt::join(names, ", "));
  require(options.frac_noise > 0.0 && options.frac_noise <= 1.0,
          "find_label_issues: frac_noise must be in (0, 1], got {}", options.frac_noise);
  require(options.min_examples_per_class >= 0,
          "find_label_issues: min_examples_per_class must be >= 0, got {}",
          options.min_examples_per_class);
  Inputs in = checked_inputs(probs, labels, "find_label_issues");
  const std::string& rule = options.filter_by;
  torch::Tensor mask;
  if (rule == "predicted_neq_given") {
    mask = in.probs.argmax(1) != in.labels;
  } else {
    ConfidentGuess g = confident_guess(in);
    if (rule == "confident_learning") {
      mask = g.confident & (g.guess != in.labels);
    } else {
      torch::Tensor counts = label_counts(in.labels, in.k);
      torch::Tensor joint = calibrate(raw_confident_joint(in, g), counts);
      torch::Tensor prune = prune_counts(joint, options.min_examples_per_class, options.frac_noise);
      const int64_t keep = options.min_examples_per_class;
      if (rule == "prune_by_class") {
        mask = prune_by_class(in, prune, counts, keep);
      } else if (rule == "prune_by_noise_rate") {
        mask = prune_by_noise_rate(in, prune, counts, keep);
      } else {
        mask = prune_by_class(in, prune, counts, keep) &
               prune_by_noise_rate(in, prune, counts, keep);
      }
    }
  }
  return mask & ~label_is_argmax(in);
}

torch::Tensor label_quality_scores(const torch::Tensor& probs, const torch::Tensor& labels,
                                   const std::string& method) {
  require(method == "self_confidence" || method == "normalized_margin" ||
              method == "confidence_weighted_entropy",
          "label_quality_scores: unknown method '{}' (allowed: self_confidence, "
          "normalized_margin, confidence_weighted_entropy)",
          method);
  Inputs in = checked_inputs(probs, labels, "label_quality_scores");
  torch::Tensor self = in.probs.gather(1, in.labels.unsqueeze(1)).squeeze(1);
  if (method == "self_confidence") return self;
  if (method == "normalized_margin") {
    torch::Tensor others = in.probs.masked_fill(torch::one_hot(in.labels, in.k).to(torch::kBool),
                                                -std::numeric_limits<double>::infinity());
    return (self - std::get<0>(others.max(1)) + 1.0) / 2.0;
  }
  require(in.probs.min().item<double>() >= 0.0 && in.probs.max().item<double>() <= 1.0,
          "label_quality_scores: 'confidence_weighted_entropy' needs probs in [0, 1] exactly");
  // Entropy in units of log K, so in [0, 1].
  torch::Tensor entropy =
      -torch::xlogy(in.probs, in.probs).sum(1) / std::log(static_cast<double>(in.k));
  torch::Tensor ratio = entropy / self.clamp_min(kClipFloor);
  return torch::log(ratio + 1.0) / ratio.clamp_min(kClipFloor);
}

}  // namespace winnow
