// Cluster quality against true classes: pairwise precision / recall / F, NMI and ARI, all from
// one contingency table. See include/winnow/eval/cluster_quality.h.
#include "winnow/eval/cluster_quality.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "winnow/core/error.h"

namespace winnow {
namespace {

std::vector<int64_t> checked_labels(const torch::Tensor& labels, const char* name) {
  require(labels.defined(), "cluster_quality: {} is undefined", name);
  require(labels.dim() == 1, "cluster_quality: {} must be 1-D [N], got {} dimensions", name, labels.dim());
  require(at::isIntegralType(labels.scalar_type(), /*includeBool=*/false),
          "cluster_quality: {} must be integers (int64), got {}", name,
          std::string(c10::toString(labels.scalar_type())));
  const torch::Tensor flat = labels.to(torch::kCPU, torch::kInt64).contiguous();
  const int64_t* p = flat.data_ptr<int64_t>();
  return std::vector<int64_t>(p, p + flat.numel());
}

// Replaces each label by its rank among the distinct labels (0..K-1); returns K.
int64_t compact(std::vector<int64_t>& labels) {
  std::vector<int64_t> distinct(labels);
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  for (int64_t& l : labels) l = std::lower_bound(distinct.begin(), distinct.end(), l) - distinct.begin();
  return static_cast<int64_t>(distinct.size());
}

// Unordered pairs among n items.
int64_t pairs(int64_t n) { return n * (n - 1) / 2; }

double ratio_or_zero(double num, double den) { return den > 0 ? num / den : 0.0; }

// sklearn's entropy(labels) from the class sizes: -sum p log p, written log(n_i) - log(N) as
// sklearn does for precision; 0 for a single class.
double entropy(const std::vector<int64_t>& sizes, int64_t n) {
  if (sizes.size() <= 1) return 0.0;
  const double log_n = std::log(static_cast<double>(n));
  double h = 0;
  for (int64_t s : sizes) {
    const double si = static_cast<double>(s);
    h -= (si / static_cast<double>(n)) * (std::log(si) - log_n);
  }
  return h;
}

}  // namespace

ClusterQuality cluster_quality(const torch::Tensor& predicted, const torch::Tensor& truth) {
  std::vector<int64_t> pred = checked_labels(predicted, "predicted");
  std::vector<int64_t> true_class = checked_labels(truth, "truth");
  require(pred.size() == true_class.size(), "cluster_quality: predicted has {} labels but truth has {}",
          pred.size(), true_class.size());
  const int64_t n = static_cast<int64_t>(pred.size());

  ClusterQuality q;
  // Unassigned samples (label < 0) become singletons: fresh ids after the real clusters.
  std::vector<int64_t> assigned;
  for (int64_t l : pred)
    if (l >= 0) assigned.push_back(l);
  q.unassigned = n - static_cast<int64_t>(assigned.size());
  q.clusters = compact(assigned);
  int64_t next_singleton = q.clusters;
  for (size_t i = 0, a = 0; i < pred.size(); ++i) pred[i] = pred[i] >= 0 ? assigned[a++] : next_singleton++;
  const int64_t k_pred = next_singleton;
  const int64_t k_true = compact(true_class);

  // Contingency table: the non-zero cells n_ij (true class i, predicted cluster j), with the row
  // sums a_i (class sizes) and column sums b_j (cluster sizes).
  std::vector<int64_t> keys(static_cast<size_t>(n));
  for (int64_t s = 0; s < n; ++s) keys[s] = true_class[s] * k_pred + pred[s];
  std::sort(keys.begin(), keys.end());
  struct Cell {
    int64_t i, j, count;
  };
  std::vector<Cell> cells;
  for (int64_t s = 0; s < n;) {
    int64_t e = s;
    while (e < n && keys[e] == keys[s]) ++e;
    cells.push_back({keys[s] / k_pred, keys[s] % k_pred, e - s});
    s = e;
  }
  std::vector<int64_t> class_size(static_cast<size_t>(k_true), 0), cluster_size(static_cast<size_t>(k_pred), 0);
  for (const Cell& c : cells) {
    class_size[c.i] += c.count;
    cluster_size[c.j] += c.count;
  }

  // Pair counts (ACT's calScores): TP = sum C(n_ij, 2), predicted pairs = sum C(b_j, 2), true
  // pairs = sum C(a_i, 2). Exact in int64 up to N ~ 4e9.
  int64_t tp_pairs = 0, pred_pairs = 0, true_pairs = 0;
  for (const Cell& c : cells) tp_pairs += pairs(c.count);
  for (int64_t b : cluster_size) pred_pairs += pairs(b);
  for (int64_t a : class_size) true_pairs += pairs(a);
  q.pairwise_precision = ratio_or_zero(static_cast<double>(tp_pairs), static_cast<double>(pred_pairs));
  q.pairwise_recall = ratio_or_zero(static_cast<double>(tp_pairs), static_cast<double>(true_pairs));
  q.pairwise_f =
      ratio_or_zero(2 * q.pairwise_precision * q.pairwise_recall, q.pairwise_precision + q.pairwise_recall);

  // ARI as sklearn's adjusted_rand_score: from the pair confusion matrix over ordered pairs
  // (sklearn's pair_confusion_matrix, twice the unordered counts); 1 when no pair is joined by
  // one labeling and split by the other. sklearn multiplies the counts as exact Python ints.
  // With T = N^2 - N ordered pairs, every product below is at most T^2/4 and the denominator at
  // most T^2/2, so x86's long double (64-bit mantissa) holds them exactly up to N ~ 75000 and
  // the result then rounds as sklearn's does; beyond, the absolute error stays within a few
  // float64 eps (the denominator exceeds both 2 tp tn and 2 fn fp).
  {
    const long double tp = 2.0L * tp_pairs, fp = 2.0L * (pred_pairs - tp_pairs);
    const long double fn = 2.0L * (true_pairs - tp_pairs);
    const long double tn = 2.0L * (pairs(n) - pred_pairs - true_pairs + tp_pairs);
    if (fn == 0 && fp == 0) {
      q.ari = 1.0;
    } else {
      const double num = static_cast<double>(tp * tn - fn * fp);
      const double den = static_cast<double>((tp + fn) * (fn + tn) + (tp + fp) * (fp + tn));
      q.ari = 2.0 * num / den;
    }
  }

  // NMI as sklearn's normalized_mutual_info_score(average_method="arithmetic"):
  //   both labelings with one label (or none) -> 1; MI = 0 when either has one label;
  //   MI = sum_ij (n_ij/N) (log n_ij - log N) + (n_ij/N) (log N + log N - log(a_i b_j)),
  //   each term under float64 eps set to 0, the sum clipped at 0; MI = 0 -> 0;
  //   else MI / ((H(truth) + H(predicted)) / 2).
  if ((k_true == 1 && k_pred == 1) || (k_true == 0 && k_pred == 0)) {
    q.nmi = 1.0;
  } else if (k_true == 1 || k_pred == 1) {
    q.nmi = 0.0;
  } else {
    const double total = static_cast<double>(n);
    const double log_total = std::log(total);
    const double eps = std::numeric_limits<double>::epsilon();
    double mi = 0;
    for (const Cell& c : cells) {
      const double nij = static_cast<double>(c.count);
      const double outer = static_cast<double>(class_size[c.i]) * static_cast<double>(cluster_size[c.j]);
      const double share = nij / total;
      const double term = share * (std::log(nij) - log_total) + share * (-std::log(outer) + log_total + log_total);
      if (std::abs(term) >= eps) mi += term;
    }
    mi = std::max(mi, 0.0);
    if (mi == 0) {
      q.nmi = 0.0;
    } else {
      const double normalizer = (entropy(class_size, n) + entropy(cluster_size, n)) / 2;
      q.nmi = mi / normalizer;
    }
  }
  return q;
}

}  // namespace winnow
