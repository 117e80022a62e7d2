// DBSCAN on a precomputed distance matrix with scikit-learn's semantics (sklearn.cluster.DBSCAN
// with metric="precomputed": radius_neighbors with `<=`, core when the neighbourhood count is
// >= min_samples, then the depth-first growth of _dbscan_inner.dbscan_inner), and ACT's rule
// for eps (Yang et al., AAAI 2020; official selftrainingACT.py).
#include "winnow/cluster/dbscan.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <string>
#include <vector>

#include <ATen/Parallel.h>

#include "winnow/core/error.h"

namespace winnow {
namespace {

// The square shape that metric="precomputed" implies, and a floating type.
void check_shape(const torch::Tensor& d, const char* who) {
  require(d.defined(), "{}: the distance matrix is undefined", who);
  require(d.dim() == 2 && d.size(0) == d.size(1),
          "{}: the distance matrix must be square [N, N], got shape {}", who,
          std::string(c10::str(d.sizes())));
  require(d.is_floating_point(), "{}: the distance matrix must be floating point, got {}", who,
          std::string(c10::toString(d.scalar_type())));
  require(d.size(0) >= 1, "{}: the distance matrix is empty (0 x 0)", who);
}

// float64 stays float64; other floating types are read as float32 (see the header).
torch::Tensor as_cpu_matrix(const torch::Tensor& d) {
  const auto type = d.scalar_type() == torch::kFloat64 ? torch::kFloat64 : torch::kFloat32;
  return d.detach().to(torch::kCPU, type).contiguous();
}

// sklearn's checks on a dense precomputed matrix (check_array: finite; check_non_negative), in
// one pass over the raw values: tensor-op checks would allocate N x N masks.
template <typename T>
void check_values(const T* d, int64_t count, const char* who) {
  std::atomic<bool> not_finite{false}, negative{false};
  at::parallel_for(0, count, int64_t{1} << 16, [&](int64_t begin, int64_t end) {
    bool bad_value = false, below_zero = false;
    for (int64_t k = begin; k < end; ++k) {
      bad_value |= !std::isfinite(d[k]);
      below_zero |= d[k] < 0;
    }
    if (bad_value) not_finite = true;
    if (below_zero) negative = true;
  });
  require(!not_finite, "{}: the distance matrix holds NaN or infinite values", who);
  if (negative) {
    const T lowest = *std::min_element(d, d + count);
    fail("{}: the distance matrix holds negative values (min {}); distances must be >= 0", who,
         static_cast<double>(lowest));
  }
}

template <typename T>
torch::Tensor dbscan_impl(const T* d, int64_t n, T eps, int64_t min_samples) {
  std::vector<int64_t> count(static_cast<size_t>(n));
  at::parallel_for(0, n, 64, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const T* row = d + i * n;
      int64_t c = 0;
      for (int64_t j = 0; j < n; ++j) c += row[j] <= eps;
      count[i] = c;
    }
  });

  auto labels_tensor = torch::full({n}, -1, torch::kInt64);
  int64_t* labels = labels_tensor.data_ptr<int64_t>();
  // Clusters start at each core sample not yet labelled, in index order, as in sklearn. The
  // set a cluster takes is every unlabelled sample reachable from its seed through core
  // samples, whatever the visiting order, so labelling a sample when it is pushed (instead of
  // when popped, as sklearn does) gives the same labels while keeping the stack at most N long.
  std::vector<int64_t> stack;
  int64_t next_label = 0;
  for (int64_t seed = 0; seed < n; ++seed) {
    if (labels[seed] != -1 || count[seed] < min_samples) continue;
    labels[seed] = next_label;
    stack.push_back(seed);
    while (!stack.empty()) {
      const int64_t p = stack.back();
      stack.pop_back();
      if (count[p] < min_samples) continue;  // a border sample joins but does not grow
      const T* row = d + p * n;
      for (int64_t j = 0; j < n; ++j) {
        if (row[j] <= eps && labels[j] == -1) {
          labels[j] = next_label;
          stack.push_back(j);
        }
      }
    }
    ++next_label;
  }
  return labels_tensor;
}

template <typename T>
double eps_from_rho_impl(const T* d, int64_t n, double rho) {
  // np.triu(d, 1) then np.nonzero: the strict upper triangle without its zero entries.
  std::vector<T> values;
  values.reserve(static_cast<size_t>(n * (n - 1) / 2));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j)
      if (d[i * n + j] != 0) values.push_back(d[i * n + j]);
  const int64_t total = static_cast<int64_t>(values.size());
  require(total > 0,
          "dbscan_eps_from_rho: the strict upper triangle of the {} x {} distance matrix has no "
          "non-zero entry, so rho = {} selects nothing",
          n, n, rho);
  // np.round rounds halves to even, as nearbyint does in the default rounding mode.
  const double wanted = std::nearbyint(rho * static_cast<double>(total));
  require(wanted >= 1,
          "dbscan_eps_from_rho: rho = {} selects round({} * {}) = 0 of the {} non-zero "
          "upper-triangle distances; rho must exceed 0.5 / {} = {} for this matrix",
          rho, rho, total, total, total, 0.5 / static_cast<double>(total));
  const auto k = static_cast<int64_t>(wanted);
  // Only the k smallest are needed: select them, then add them in ascending order.
  std::nth_element(values.begin(), values.begin() + (k - 1), values.end());
  std::sort(values.begin(), values.begin() + k);
  double sum = 0.0;
  for (int64_t t = 0; t < k; ++t) sum += static_cast<double>(values[t]);
  return sum / static_cast<double>(k);
}

}  // namespace

torch::Tensor dbscan_precomputed(const torch::Tensor& distance, double eps, int64_t min_samples) {
  const char* who = "dbscan_precomputed";
  check_shape(distance, who);
  require(eps > 0, "{}: eps = {} must be > 0", who, eps);
  require(min_samples >= 1, "{}: min_samples = {} must be >= 1", who, min_samples);
  auto d = as_cpu_matrix(distance);
  const int64_t n = d.size(0);
  if (d.scalar_type() == torch::kFloat64) {
    check_values(d.data_ptr<double>(), n * n, who);
    return dbscan_impl<double>(d.data_ptr<double>(), n, eps, min_samples);
  }
  check_values(d.data_ptr<float>(), n * n, who);
  return dbscan_impl<float>(d.data_ptr<float>(), n, static_cast<float>(eps), min_samples);
}

double dbscan_eps_from_rho(const torch::Tensor& distance, double rho) {
  const char* who = "dbscan_eps_from_rho";
  check_shape(distance, who);
  require(rho > 0 && rho <= 1, "{}: rho = {} must be in (0, 1]", who, rho);
  auto d = as_cpu_matrix(distance);
  const int64_t n = d.size(0);
  if (d.scalar_type() == torch::kFloat64) {
    check_values(d.data_ptr<double>(), n * n, who);
    return eps_from_rho_impl<double>(d.data_ptr<double>(), n, rho);
  }
  check_values(d.data_ptr<float>(), n * n, who);
  return eps_from_rho_impl<float>(d.data_ptr<float>(), n, rho);
}

}  // namespace winnow
