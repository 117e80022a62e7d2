// k-reciprocal re-ranking (Zhong et al., CVPR 2017) as asymmetric co-teaching's official code
// computes it (Yang et al., AAAI 2020; reid/rerank.py): the same steps and constants, but with
// sparse rows where the official code fills dense N x N matrices, so N in the thousands takes
// seconds and memory stays at one N x N float matrix (the distances, then the result).
#include "winnow/cluster/rerank.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include <ATen/Parallel.h>

#include "winnow/core/error.h"

namespace winnow {

void RerankOptions::validate() const {
  require(k1 >= 1, "rerank k1 = {}: must be >= 1", k1);
  require(k2 >= 1, "rerank k2 = {}: must be >= 1 (1 turns query expansion off)", k2);
  require(lambda >= 0.0 && lambda <= 1.0, "rerank lambda = {}: must be in [0, 1]", lambda);
}

namespace {

constexpr int64_t kGrain = 16;  // rows per parallel task

// One row of the sparse matrix V (the paper's k-reciprocal feature, Eq. 7): column indices in
// ascending order with their weights. The official code stores V densely in float16; float32
// here keeps the weights (about 1 / |R*|) to 7 digits instead of 3.
struct SparseRow {
  std::vector<int64_t> index;
  std::vector<float> value;
};

void check_features(const torch::Tensor& x, const char* name) {
  require(x.defined(), "k_reciprocal_distance: {} features are undefined", name);
  require(x.dim() == 2, "k_reciprocal_distance: {} features must be 2-D [samples, dims], got {}-D",
          name, x.dim());
  require(x.is_floating_point(), "k_reciprocal_distance: {} features must be floating point, got {}",
          name, std::string(c10::toString(x.scalar_type())));
  require(x.size(1) >= 1, "k_reciprocal_distance: {} features have 0 dimensions", name);
  require(torch::isfinite(x).all().item<bool>(),
          "k_reciprocal_distance: {} features hold NaN or infinite values", name);
}

// Rows scaled to unit L2 norm (F.normalize: x / max(||x||, 1e-12)), float32 on the CPU.
torch::Tensor normalised_rows(const torch::Tensor& x) {
  namespace F = torch::nn::functional;
  auto f = x.detach().to(torch::kCPU, torch::kFloat32);
  return F::normalize(f, F::NormalizeFuncOptions().p(2).dim(1).eps(1e-12)).contiguous();
}

// Squared euclidean distances between the rows of a [n, D] and b [m, D] as
// (||a||^2 + ||b||^2) - 2 a.b, clamped below at 1e-5 as the official pairwiseDis does (the
// clamp also removes the small negatives that rounding leaves on the diagonal).
torch::Tensor squared_distance(const torch::Tensor& a, const torch::Tensor& b) {
  auto norms = a.pow(2).sum(1, true) + b.pow(2).sum(1, true).t();
  return torch::addmm(norms, a, b.t(), /*beta=*/1, /*alpha=*/-2).clamp_min_(1e-5);
}

// The official code's transpose(original_dist / max(original_dist, axis=0)): row i is column i
// of the clamped squared distance matrix divided by its largest entry, one scale per row, so
// the ranking is unchanged and the exp(-d) weights see distances in [0, 1]. Built in a single
// N x N buffer (the GEMM's output), with the division and the transpose done in place: at
// N = 5000 each fresh N x N tensor costs more in first-touch page faults than the arithmetic.
torch::Tensor relative_distance(const torch::Tensor& x) {
  const int64_t n = x.size(0);
  auto squares = x.pow(2).sum(1).contiguous();
  auto d = torch::mm(x, x.t());
  float* p = d.data_ptr<float>();
  const float* sq = squares.data_ptr<float>();
  at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
      for (int64_t j = 0; j < n; ++j)
        p[i * n + j] = std::max((sq[i] + sq[j]) - 2.0f * p[i * n + j], 1e-5f);
  });
  auto column_max = d.amax(0).contiguous();
  const float* scale = column_max.data_ptr<float>();
  // rel[i][j] = d[j][i] / max_i, swapping the blocks (bi, bj) and (bj, bi) for bj >= bi; each
  // task owns one block row bi, so no two tasks touch the same entry.
  constexpr int64_t kBlock = 64;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  at::parallel_for(0, blocks, 1, [&](int64_t begin, int64_t end) {
    for (int64_t bi = begin; bi < end; ++bi) {
      const int64_t i0 = bi * kBlock, i1 = std::min(n, i0 + kBlock);
      for (int64_t i = i0; i < i1; ++i) p[i * n + i] /= scale[i];
      for (int64_t bj = bi; bj < blocks; ++bj) {
        const int64_t j0 = bj * kBlock, j1 = std::min(n, j0 + kBlock);
        for (int64_t i = i0; i < i1; ++i) {
          for (int64_t j = std::max(j0, i + 1); j < j1; ++j) {
            const float upper = p[i * n + j], lower = p[j * n + i];
            p[i * n + j] = lower / scale[i];
            p[j * n + i] = upper / scale[j];
          }
        }
      }
    }
  });
  return d;
}

// The first `width` entries of argsort(row) for every row of the row-major [n, n] `dist`,
// ties going to the smaller index (a stable argsort; the official np.argsort is not stable, so
// exact ties, e.g. duplicate features clamped to 1e-5, may be ordered differently there). A
// bounded max-heap per row: one comparison rejects most entries, so no row is fully sorted.
std::vector<int64_t> leading_ranks(const float* dist, int64_t n, int64_t width) {
  std::vector<int64_t> rank(static_cast<size_t>(n * width));
  at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
    std::vector<std::pair<float, int64_t>> heap;
    heap.reserve(static_cast<size_t>(width));
    for (int64_t i = begin; i < end; ++i) {
      const float* row = dist + i * n;
      heap.clear();
      for (int64_t j = 0; j < width; ++j) heap.emplace_back(row[j], j);
      std::make_heap(heap.begin(), heap.end());
      for (int64_t j = width; j < n; ++j) {
        // (value, index) pairs order lexicographically: equal values keep the smaller index.
        if (row[j] < heap.front().first) {
          std::pop_heap(heap.begin(), heap.end());
          heap.back() = {row[j], j};
          std::push_heap(heap.begin(), heap.end());
        }
      }
      std::sort_heap(heap.begin(), heap.end());
      for (int64_t j = 0; j < width; ++j) rank[i * width + j] = heap[j].second;
    }
  });
  return rank;
}

// R(i, k), the paper's Eq. 4: those of i's k + 1 nearest (k + 1 because i itself ranks first)
// that also hold i among their own k + 1 nearest, in i's ranking order.
void reciprocal_set(const std::vector<int64_t>& rank, int64_t width, int64_t i, int64_t k,
                    std::vector<int64_t>& out) {
  out.clear();
  const int64_t* forward = rank.data() + i * width;
  for (int64_t a = 0; a <= k; ++a) {
    const int64_t candidate = forward[a];
    const int64_t* backward = rank.data() + candidate * width;
    for (int64_t b = 0; b <= k; ++b) {
      if (backward[b] == i) {
        out.push_back(candidate);
        break;
      }
    }
  }
}

// numpy's round(k1 / 2), which rounds halves to even: 20 -> 10, 5 -> 2, 3 -> 2, 1 -> 0.
int64_t half_of(int64_t k1) {
  int64_t h = k1 / 2;
  if (k1 % 2 == 1 && h % 2 == 1) ++h;
  return h;
}

// V's rows (Eq. 7 over the expanded set R*, Eq. 5): R(i, k1) grown by every R(c, round(k1/2))
// of its members c that shares more than 2/3 of its members with R(i, k1) (the paper writes
// >= 2/3; the official code, followed here, uses >), weighted by exp(-distance) and
// normalised to sum 1.
std::vector<SparseRow> reciprocal_rows(const float* rel, const std::vector<int64_t>& rank,
                                       int64_t n, int64_t width, int64_t k1) {
  const int64_t h = half_of(k1);
  std::vector<std::vector<int64_t>> half_sets(static_cast<size_t>(n));
  at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t c = begin; c < end; ++c) reciprocal_set(rank, width, c, h, half_sets[c]);
  });

  std::vector<SparseRow> rows(static_cast<size_t>(n));
  at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> in_set(static_cast<size_t>(n), -1), in_expansion(static_cast<size_t>(n), -1);
    std::vector<int64_t> set, expansion;
    for (int64_t i = begin; i < end; ++i) {
      reciprocal_set(rank, width, i, k1, set);
      expansion.clear();
      for (int64_t c : set) {
        in_set[c] = i;
        in_expansion[c] = i;
        expansion.push_back(c);
      }
      for (int64_t c : set) {
        const auto& candidate = half_sets[c];
        int64_t shared = 0;
        for (int64_t x : candidate) shared += in_set[x] == i;
        if (static_cast<double>(shared) > 2.0 / 3.0 * static_cast<double>(candidate.size())) {
          for (int64_t x : candidate) {
            if (in_expansion[x] != i) {
              in_expansion[x] = i;
              expansion.push_back(x);
            }
          }
        }
      }
      std::sort(expansion.begin(), expansion.end());
      SparseRow& row = rows[i];
      row.index = expansion;
      row.value.resize(expansion.size());
      double total = 0.0;
      for (size_t t = 0; t < expansion.size(); ++t) {
        row.value[t] = std::exp(-rel[i * n + expansion[t]]);
        total += row.value[t];
      }
      for (float& w : row.value) w = static_cast<float>(w / total);
    }
  });
  return rows;
}

// Local query expansion (Sec. 4.2): each row becomes the mean of the rows of its k2 nearest
// (itself included, as initial_rank[i, :k2] in the official code).
std::vector<SparseRow> expand_queries(const std::vector<SparseRow>& rows,
                                      const std::vector<int64_t>& rank, int64_t n, int64_t width,
                                      int64_t k2) {
  std::vector<SparseRow> expanded(static_cast<size_t>(n));
  at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
    std::vector<double> sum(static_cast<size_t>(n), 0.0);
    std::vector<int64_t> stamp(static_cast<size_t>(n), -1), touched;
    for (int64_t i = begin; i < end; ++i) {
      touched.clear();
      for (int64_t a = 0; a < k2; ++a) {
        const SparseRow& neighbour = rows[rank[i * width + a]];
        for (size_t t = 0; t < neighbour.index.size(); ++t) {
          const int64_t col = neighbour.index[t];
          if (stamp[col] != i) {
            stamp[col] = i;
            sum[col] = 0.0;
            touched.push_back(col);
          }
          sum[col] += neighbour.value[t];
        }
      }
      std::sort(touched.begin(), touched.end());
      SparseRow& row = expanded[i];
      row.index = touched;
      row.value.resize(touched.size());
      for (size_t t = 0; t < touched.size(); ++t)
        row.value[t] = static_cast<float>(sum[touched[t]] / static_cast<double>(k2));
    }
  });
  return expanded;
}

// s_t for every target t: 1 - exp(-d) to its nearest source sample (d the clamped squared
// distance of normalised features), divided by (the largest such value + 1e-3), as the
// official code's source_dist_vec. 1 - exp(-d) grows with d, so it is taken of the smallest d
// rather than of every d. Chunked over targets so [chunk, M] stays small.
std::vector<double> source_term(const torch::Tensor& target, const torch::Tensor& source) {
  const int64_t n = target.size(0);
  const int64_t m = source.size(0);
  auto nearest = torch::empty({n}, torch::kFloat32);
  const int64_t chunk = std::max<int64_t>(1, (int64_t{1} << 22) / m);
  for (int64_t start = 0; start < n; start += chunk) {
    const int64_t len = std::min(chunk, n - start);
    auto d = squared_distance(target.narrow(0, start, len), source).amin(1);
    nearest.narrow(0, start, len).copy_(1 - (-d).exp());
  }
  const double scale = nearest.max().item<double>() + 1e-3;
  auto values = nearest.to(torch::kFloat64).contiguous();
  const double* p = values.data_ptr<double>();
  std::vector<double> out(p, p + n);
  for (double& v : out) v /= scale;
  return out;
}

}  // namespace

torch::Tensor k_reciprocal_distance(const torch::Tensor& target_in, const torch::Tensor& source_in,
                                    const RerankOptions& options) {
  options.validate();
  check_features(target_in, "target");
  const int64_t n = target_in.size(0);
  require(n >= 2, "k_reciprocal_distance: needs at least 2 target samples, got {}", n);
  require(options.k1 < n,
          "rerank k1 = {}: must be < the number of target samples ({}), since R(i, k1) reads "
          "the k1 + 1 nearest",
          options.k1, n);
  require(options.k2 <= n, "rerank k2 = {}: must be <= the number of target samples ({})",
          options.k2, n);
  if (options.lambda > 0) {
    check_features(source_in, "source");
    require(source_in.size(0) >= 1,
            "k_reciprocal_distance: lambda = {} > 0 needs source features, got 0 samples",
            options.lambda);
    require(source_in.size(1) == target_in.size(1),
            "k_reciprocal_distance: source features have {} dimensions, target features {}; "
            "they must match",
            source_in.size(1), target_in.size(1));
  }

  auto target = normalised_rows(target_in);
  torch::Tensor buffer = relative_distance(target);
  const float* rel_data = buffer.data_ptr<float>();

  const int64_t width = std::max(options.k1 + 1, options.k2);
  const auto rank = leading_ranks(rel_data, n, width);
  auto rows = reciprocal_rows(rel_data, rank, n, width, options.k1);
  if (options.k2 != 1) rows = expand_queries(rows, rank, n, width, options.k2);

  // Inverted index (Sec. 4.1): for each column, the rows holding a non-zero there, ascending.
  std::vector<int64_t> start(static_cast<size_t>(n + 1), 0);
  for (const auto& row : rows)
    for (int64_t col : row.index) ++start[col + 1];
  for (int64_t c = 0; c < n; ++c) start[c + 1] += start[c];
  std::vector<int64_t> owner(static_cast<size_t>(start[n]));
  std::vector<float> weight(static_cast<size_t>(start[n]));
  {
    std::vector<int64_t> cursor(start.begin(), start.end() - 1);
    for (int64_t i = 0; i < n; ++i) {
      for (size_t t = 0; t < rows[i].index.size(); ++t) {
        const int64_t slot = cursor[rows[i].index[t]]++;
        owner[slot] = i;
        weight[slot] = rows[i].value[t];
      }
    }
  }

  const double lambda = options.lambda;
  const std::vector<double> s = lambda > 0 ? source_term(target, normalised_rows(source_in))
                                           : std::vector<double>(static_cast<size_t>(n), 0.0);

  // Jaccard distance (Eq. 10 with min for the intersection and the weights summing to ~1, so
  // the union is 2 - m): 1 - m / (2 - m), m = sum_k min(V[i,k], V[j,k]), negatives set to 0;
  // pairs sharing no column get 1. The terms of m are added in increasing k for both (i, j) and
  // (j, i), so the result is exactly symmetric.
  // The result overwrites the relative distances, which nothing reads any more.
  float* out_data = buffer.data_ptr<float>();
  at::parallel_for(0, n, kGrain, [&](int64_t begin, int64_t end) {
    std::vector<double> shared(static_cast<size_t>(n), 0.0);
    std::vector<int64_t> stamp(static_cast<size_t>(n), -1), touched;
    for (int64_t i = begin; i < end; ++i) {
      touched.clear();
      const SparseRow& row = rows[i];
      for (size_t t = 0; t < row.index.size(); ++t) {
        const int64_t col = row.index[t];
        const float v = row.value[t];
        for (int64_t p = start[col]; p < start[col + 1]; ++p) {
          const int64_t j = owner[p];
          if (stamp[j] != i) {
            stamp[j] = i;
            shared[j] = 0.0;
            touched.push_back(j);
          }
          shared[j] += std::min(v, weight[p]);
        }
      }
      float* out_row = out_data + i * n;
      for (int64_t j = 0; j < n; ++j)
        out_row[j] = static_cast<float>((1 - lambda) + lambda * (s[i] + s[j]));
      for (int64_t j : touched) {
        const double m = shared[j];
        const double jaccard = std::max(0.0, 1.0 - m / (2.0 - m));
        out_row[j] = static_cast<float>((1 - lambda) * jaccard + lambda * (s[i] + s[j]));
      }
    }
  });
  return buffer;
}

}  // namespace winnow
