// Retrieval metrics (mAP, CMC) with open-reid's semantics; see include/winnow/eval/retrieval.h.
#include "winnow/eval/retrieval.h"

#include <algorithm>
#include <string>

#include "winnow/core/error.h"

namespace winnow {
namespace {

std::string dtype_name(const torch::Tensor& t) { return std::string(c10::toString(t.scalar_type())); }

torch::Tensor checked_ids(const torch::Tensor& ids, const char* name) {
  require(ids.defined(), "evaluate_retrieval: {} is undefined", name);
  require(ids.dim() == 1, "evaluate_retrieval: {} must be 1-D, got {} dimensions", name, ids.dim());
  require(at::isIntegralType(ids.scalar_type(), /*includeBool=*/false),
          "evaluate_retrieval: {} must be integers (int64), got {}", name, dtype_name(ids));
  return ids.to(torch::kCPU, torch::kInt64).contiguous();
}

// Per query (row): its average precision, and the 0-based rank of its first relevant item in
// a stable ascending sort of the row, or -1 when no gallery item is relevant.
//
// average_precision_score integrates precision over recall with one step per distinct score
// (sklearn's _binary_clf_curve keeps only the last index of each run of equal scores). So with
// u_1 < ... < u_m the distinct distances of the relevant items, r_k of them at u_k:
//   AP = sum_k (r_k / R) * (relevant items <= u_k) / (all items <= u_k).
// Only counts are needed, not the order: one pass bins every gallery item by the first u_k at
// or above its distance (binary search among the few relevant distances), which is O(G log R)
// per row instead of a sort's O(G log G), and needs no [Q, G] index tensor. The stable-sort
// rank of the first relevant item is the number of items strictly nearer, plus those at the
// same distance that come earlier in the gallery.
template <typename T>
void score_rows(const T* distance, int64_t rows, int64_t g, const int64_t* query_id, const int64_t* gallery_id,
                double* ap, int64_t* first) {
  const int64_t grain = std::max<int64_t>(1, 32768 / std::max<int64_t>(g, 1));
  at::parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
    std::vector<T> relevant;           // distances of the relevant items, then their distinct values u_k
    std::vector<int64_t> hits, items;  // r_k, and the items binned at u_k
    for (int64_t r = begin; r < end; ++r) {
      const T* v = distance + r * g;
      const int64_t q = query_id[r];
      relevant.clear();
      int64_t nearest_index = -1;  // the first (lowest-index) relevant item at the nearest distance
      for (int64_t j = 0; j < g; ++j) {
        if (gallery_id[j] != q) continue;
        relevant.push_back(v[j]);
        if (nearest_index < 0 || v[j] < v[nearest_index]) nearest_index = j;
      }
      if (relevant.empty()) {
        ap[r] = 0;
        first[r] = -1;
        continue;
      }
      const int64_t total_hits = static_cast<int64_t>(relevant.size());
      std::sort(relevant.begin(), relevant.end());
      hits.clear();
      size_t m = 0;
      for (size_t i = 0; i < relevant.size(); ++i) {
        if (i > 0 && relevant[i] == relevant[m - 1]) {
          ++hits[m - 1];
        } else {
          relevant[m++] = relevant[i];
          hits.push_back(1);
        }
      }
      relevant.resize(m);
      items.assign(m, 0);
      const T nearest = v[nearest_index], farthest = relevant.back();
      int64_t nearer = 0;
      for (int64_t j = 0; j < g; ++j) {
        const T x = v[j];
        if (x < nearest || (x == nearest && j < nearest_index)) ++nearer;
        if (x <= farthest) ++items[std::lower_bound(relevant.begin(), relevant.end(), x) - relevant.begin()];
      }
      double area = 0;
      int64_t hits_so_far = 0, items_so_far = 0;
      for (size_t k = 0; k < m; ++k) {
        hits_so_far += hits[k];
        items_so_far += items[k];
        area +=
            static_cast<double>(hits[k]) * static_cast<double>(hits_so_far) / static_cast<double>(items_so_far);
      }
      ap[r] = area / static_cast<double>(total_hits);
      first[r] = nearer;
    }
  });
}

}  // namespace

RetrievalScores evaluate_retrieval(const torch::Tensor& distance, const torch::Tensor& query_ids,
                                   const torch::Tensor& gallery_ids, int64_t max_rank) {
  require(distance.defined(), "evaluate_retrieval: distance is undefined");
  require(distance.dim() == 2,
          "evaluate_retrieval: distance must be 2-D [queries, gallery], got {} dimensions", distance.dim());
  require(at::isFloatingType(distance.scalar_type()),
          "evaluate_retrieval: distance must be floating point, got {}", dtype_name(distance));
  require(max_rank >= 1, "evaluate_retrieval: max_rank must be >= 1, got {}", max_rank);
  const torch::Tensor qid = checked_ids(query_ids, "query_ids");
  const torch::Tensor gid = checked_ids(gallery_ids, "gallery_ids");
  const int64_t q = distance.size(0), g = distance.size(1);
  require(qid.size(0) == q,
          "evaluate_retrieval: distance has {} rows (queries) but query_ids has {} entries", q, qid.size(0));
  require(gid.size(0) == g,
          "evaluate_retrieval: distance has {} columns (gallery items) but gallery_ids has {} entries", g,
          gid.size(0));

  // Half and bfloat16 widen to float exactly, so the order and the ties stay the same.
  torch::Tensor dist = distance;
  if (dist.scalar_type() != torch::kFloat64 && dist.scalar_type() != torch::kFloat32)
    dist = dist.to(torch::kFloat32);
  const torch::Tensor nan = torch::isnan(dist);
  if (nan.any().item<bool>()) {
    const torch::Tensor at = nan.nonzero()[0].cpu();
    fail("evaluate_retrieval: distance is NaN at query {}, gallery item {}; distances must be numbers",
         at[0].item<int64_t>(), at[1].item<int64_t>());
  }

  const torch::Tensor rows = dist.to(torch::kCPU).contiguous();
  std::vector<double> ap(static_cast<size_t>(q));
  std::vector<int64_t> first(static_cast<size_t>(q));
  if (rows.scalar_type() == torch::kFloat64) {
    score_rows(rows.data_ptr<double>(), q, g, qid.data_ptr<int64_t>(), gid.data_ptr<int64_t>(), ap.data(),
               first.data());
  } else {
    score_rows(rows.data_ptr<float>(), q, g, qid.data_ptr<int64_t>(), gid.data_ptr<int64_t>(), ap.data(),
               first.data());
  }

  RetrievalScores scores;
  scores.cmc.assign(static_cast<size_t>(max_rank), 0.0);
  double ap_sum = 0;
  for (int64_t i = 0; i < q; ++i) {
    if (first[i] < 0) continue;  // no relevant gallery item: skipped, as open-reid does
    ++scores.queries;
    ap_sum += ap[i];
    if (first[i] < max_rank) scores.cmc[first[i]] += 1;
  }
  require(scores.queries > 0,
          "evaluate_retrieval: none of the {} queries has a relevant gallery item (same id among {} gallery "
          "items); mAP and CMC are undefined",
          q, g);
  // open-reid's cmc: histogram of first-match ranks, cumulated, over the valid queries.
  double cumulative = 0;
  for (double& c : scores.cmc) {
    cumulative += c;
    c = cumulative / static_cast<double>(scores.queries);
  }
  scores.mean_ap = ap_sum / static_cast<double>(scores.queries);
  return scores;
}

torch::Tensor squared_euclidean(const torch::Tensor& a, const torch::Tensor& b) {
  require(a.defined() && b.defined(), "squared_euclidean: a and b must be defined");
  require(a.dim() == 2 && b.dim() == 2,
          "squared_euclidean: a and b must be 2-D [rows, features], got {} and {} dimensions", a.dim(), b.dim());
  require(a.size(1) == b.size(1), "squared_euclidean: a has {} features per row but b has {}", a.size(1),
          b.size(1));
  require(at::isFloatingType(a.scalar_type()) && a.scalar_type() == b.scalar_type(),
          "squared_euclidean: a and b must have the same floating dtype, got {} and {}", dtype_name(a),
          dtype_name(b));
  require(a.device() == b.device(), "squared_euclidean: a is on {} but b on {}", a.device().str(),
          b.device().str());
  // open-reid (reid/evaluators.py, pairwise_distance): |x|^2 + |y|^2, then addmm with beta 1, alpha -2.
  const torch::Tensor norms = a.pow(2).sum(1, /*keepdim=*/true) + b.pow(2).sum(1).unsqueeze(0);
  return torch::addmm(norms, a, b.t(), /*beta=*/1, /*alpha=*/-2);
}

}  // namespace winnow
