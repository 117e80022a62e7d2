#include "winnow/eval/metrics.h"

#include <cmath>
#include <limits>

namespace winnow {

double accuracy_percent(const torch::Tensor& logits, const torch::Tensor& labels) {
  if (labels.numel() == 0) return std::numeric_limits<double>::quiet_NaN();
  auto correct = logits.argmax(1).eq(labels).sum().item<int64_t>();
  return 100.0 * static_cast<double>(correct) / static_cast<double>(labels.numel());
}

double auroc(const torch::Tensor& score, const torch::Tensor& positive) {
  auto s = score.to(torch::kFloat64).contiguous().cpu();
  auto p = positive.to(torch::kBool).contiguous().cpu();
  const int64_t n = s.numel();
  const int64_t n_pos = p.sum().item<int64_t>();
  const int64_t n_neg = n - n_pos;
  if (n_pos == 0 || n_neg == 0) return std::numeric_limits<double>::quiet_NaN();
  auto order = s.argsort();
  auto sorted = s.index_select(0, order);
  auto pos_sorted = p.index_select(0, order);
  const double* sv = sorted.data_ptr<double>();
  const bool* pv = pos_sorted.data_ptr<bool>();
  // Sum of the (tie-averaged, 1-based) ranks of the positives.
  double rank_sum = 0;
  for (int64_t i = 0; i < n;) {
    int64_t j = i;
    int64_t pos_in_group = 0;
    while (j < n && sv[j] == sv[i]) pos_in_group += pv[j++];
    const double mean_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2.0;
    rank_sum += mean_rank * static_cast<double>(pos_in_group);
    i = j;
  }
  const double u = rank_sum - static_cast<double>(n_pos) * static_cast<double>(n_pos + 1) / 2.0;
  return u / (static_cast<double>(n_pos) * static_cast<double>(n_neg));
}

DetectionMetrics detection_metrics(const torch::Tensor& clean_score, const torch::Tensor& suspect,
                                   const torch::Tensor& flip_mask) {
  DetectionMetrics m;
  auto flagged = suspect.to(torch::kBool).cpu();
  auto noisy = flip_mask.to(torch::kBool).cpu();
  m.flagged = flagged.sum().item<int64_t>();
  m.noisy = noisy.sum().item<int64_t>();
  const int64_t hits = flagged.logical_and(noisy).sum().item<int64_t>();
  m.precision = m.flagged ? static_cast<double>(hits) / m.flagged : 0.0;
  m.recall = m.noisy ? static_cast<double>(hits) / m.noisy : 0.0;
  m.f1 = (m.precision + m.recall) > 0 ? 2 * m.precision * m.recall / (m.precision + m.recall) : 0.0;
  m.auroc = auroc(1.0 - clean_score.to(torch::kFloat64).cpu(), noisy);
  return m;
}

nlohmann::ordered_json to_json(const DetectionMetrics& metrics) {
  auto number = [](double v) { return std::isfinite(v) ? nlohmann::ordered_json(v) : nlohmann::ordered_json(nullptr); };
  return {{"precision", number(metrics.precision)}, {"recall", number(metrics.recall)},
          {"f1", number(metrics.f1)},               {"auroc", number(metrics.auroc)},
          {"flagged", metrics.flagged},             {"noisy", metrics.noisy}};
}

}  // namespace winnow
