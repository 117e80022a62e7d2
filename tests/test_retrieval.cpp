// Retrieval metrics (mAP, CMC) of include/winnow/eval/retrieval.h: small cases worked out by
// hand, conformance with scikit-learn's average_precision_score on fixtures
// (tests/data/eval_fixtures.json, written by tests/data/make_eval_fixtures.py; its "source"
// field says how), properties on random data, speed, and input errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fixture_helpers.h"
#include "winnow/core/error.h"
#include "winnow/eval/retrieval.h"

using nlohmann::json;
using winnow_test::error_of;
using winnow_test::load_fixture;
using winnow::Error;
using winnow::evaluate_retrieval;
using winnow::RetrievalScores;
using winnow::squared_euclidean;

namespace {

const json& fixtures() {
  static const json doc = load_fixture("eval_fixtures.json");
  return doc;
}

torch::Tensor ids(std::vector<int64_t> v) { return torch::tensor(v, torch::kInt64); }

torch::Tensor matrix(const std::vector<std::vector<double>>& rows, torch::ScalarType dtype = torch::kFloat32) {
  std::vector<double> flat;
  for (const auto& r : rows) flat.insert(flat.end(), r.begin(), r.end());
  return torch::tensor(flat, torch::kFloat64)
      .view({static_cast<int64_t>(rows.size()), static_cast<int64_t>(rows[0].size())})
      .to(dtype);
}


}  // namespace

// ---------------------------------------------------------------- worked by hand

// Gallery ids [7, 3, 3, 7].
// Query 0 (id 7), distances [0.5, 0.5, 0.2, 0.9]. Ascending: g2 (0.2, id 3) | g0, g1 tied at 0.5
// (ids 7, 3) | g3 (0.9, id 7). sklearn's AP steps once per distinct score: the tie run {g0, g1}
// holds 1 of the 2 relevant items at precision 1/3 (1 relevant in the first 3), then g3 at
// precision 2/4. AP = (1/3 + 1/2) / 2 = 5/12. (Counting g0 before g1 would give 1/2 instead.)
// Stable order puts g0 (relevant) at rank 2: first match at rank 2.
// Query 1 (id 3), distances [0.9, 0.1, 0.3, 0.3]. Ascending: g1 (id 3) | g2, g3 tied at 0.3
// (ids 3, 7) | g0. Steps: g1 at precision 1/1, the run {g2, g3} at precision 2/3.
// AP = (1 + 2/3) / 2 = 5/6. First match at rank 1.
// Query 2 (id 5): no gallery item has id 5, so it is skipped (open-reid skips it too).
// mAP = (5/12 + 5/6) / 2 = 15/24 = 0.625; Rank-1 = 1/2, Rank-k = 1 for k >= 2 (also beyond G).
TEST(RetrievalHand, TiesAndSkippedQuery) {
  const torch::Tensor distance = matrix({{0.5, 0.5, 0.2, 0.9}, {0.9, 0.1, 0.3, 0.3}, {0.1, 0.2, 0.3, 0.4}});
  const RetrievalScores s = evaluate_retrieval(distance, ids({7, 3, 5}), ids({7, 3, 3, 7}), 5);
  EXPECT_EQ(s.queries, 2);
  EXPECT_NEAR(s.mean_ap, 0.625, 1e-15);
  ASSERT_EQ(s.cmc.size(), 5u);
  EXPECT_DOUBLE_EQ(s.cmc[0], 0.5);
  for (size_t k = 1; k < 5; ++k) EXPECT_DOUBLE_EQ(s.cmc[k], 1.0) << "Rank-" << k + 1;
}

// One query (id 1), gallery ids [0, 1, 0, 1, 1] at distances 0.1..0.5, no ties: relevant at
// ranks 2, 4, 5 with precisions 1/2, 2/4, 3/5. AP = (0.5 + 0.5 + 0.6) / 3 = 1.6 / 3.
// First match at rank 2: Rank-1 = 0, Rank-2.. = 1.
TEST(RetrievalHand, NoTies) {
  const torch::Tensor distance = matrix({{0.1, 0.2, 0.3, 0.4, 0.5}});
  const RetrievalScores s = evaluate_retrieval(distance, ids({1}), ids({0, 1, 0, 1, 1}), 3);
  EXPECT_EQ(s.queries, 1);
  EXPECT_NEAR(s.mean_ap, 1.6 / 3.0, 1e-15);
  EXPECT_EQ(s.cmc, (std::vector<double>{0.0, 1.0, 1.0}));
}

// All four distances tied: one step holding both relevant items at precision 2/4, AP = 1/2,
// whatever the order. CMC follows the stable order: gallery [3, 7, 3, 7] puts the first
// relevant item (index 1) at rank 2; gallery [7, 3, 3, 7] at rank 1.
TEST(RetrievalHand, AllTiedRowUsesOneThresholdAndStableOrder) {
  const torch::Tensor distance = matrix({{1.0, 1.0, 1.0, 1.0}});
  const RetrievalScores a = evaluate_retrieval(distance, ids({7}), ids({3, 7, 3, 7}), 2);
  EXPECT_DOUBLE_EQ(a.mean_ap, 0.5);
  EXPECT_EQ(a.cmc, (std::vector<double>{0.0, 1.0}));
  const RetrievalScores b = evaluate_retrieval(distance, ids({7}), ids({7, 3, 3, 7}), 2);
  EXPECT_DOUBLE_EQ(b.mean_ap, 0.5);
  EXPECT_EQ(b.cmc, (std::vector<double>{1.0, 1.0}));
}

// Every gallery item relevant: precision 1 everywhere, AP = 1, Rank-1 = 1.
TEST(RetrievalHand, AllRelevant) {
  const RetrievalScores s = evaluate_retrieval(matrix({{0.3, 0.1, 0.3}}), ids({2}), ids({2, 2, 2}), 1);
  EXPECT_DOUBLE_EQ(s.mean_ap, 1.0);
  EXPECT_EQ(s.cmc, (std::vector<double>{1.0}));
}

// Relevant item last of G = 3 and max_rank = 1: Rank-1 = 0, AP = 1/3.
TEST(RetrievalHand, MatchBeyondMaxRank) {
  const RetrievalScores s = evaluate_retrieval(matrix({{0.1, 0.2, 0.3}}), ids({2}), ids({1, 1, 2}), 1);
  EXPECT_DOUBLE_EQ(s.mean_ap, 1.0 / 3.0);
  EXPECT_EQ(s.cmc, (std::vector<double>{0.0}));
}

// ---------------------------------------------------------------- conformance with scikit-learn

TEST(RetrievalConformance, FixturesArePresent) {
  const json& doc = fixtures();
  EXPECT_NE(doc.at("source").get<std::string>().find("scikit-learn"), std::string::npos);
  EXPECT_GE(doc.at("retrieval").size(), 3u);
}

// mAP against sklearn.metrics.average_precision_score per query, averaged; CMC against the
// generator's stable-sort loop. Distances are multiples of 1/8 (exact in float32), with ties.
TEST(RetrievalConformance, MatchesSklearnAveragePrecision) {
  for (const json& f : fixtures().at("retrieval")) {
    SCOPED_TRACE(f.at("name").get<std::string>());
    std::vector<std::vector<double>> rows = f.at("distance").get<std::vector<std::vector<double>>>();
    const torch::Tensor q = ids(f.at("query_ids").get<std::vector<int64_t>>());
    const torch::Tensor g = ids(f.at("gallery_ids").get<std::vector<int64_t>>());
    const auto expected_cmc = f.at("cmc").get<std::vector<double>>();
    for (torch::ScalarType dtype : {torch::kFloat32, torch::kFloat64}) {
      const RetrievalScores s = evaluate_retrieval(matrix(rows, dtype), q, g, f.at("max_rank").get<int64_t>());
      EXPECT_EQ(s.queries, f.at("queries").get<int64_t>());
      EXPECT_NEAR(s.mean_ap, f.at("mean_ap").get<double>(), 1e-12);
      ASSERT_EQ(s.cmc.size(), expected_cmc.size());
      for (size_t k = 0; k < expected_cmc.size(); ++k)
        EXPECT_NEAR(s.cmc[k], expected_cmc[k], 1e-12) << "Rank-" << k + 1;
    }
    // Per query: a one-row evaluation is that query's AP.
    const auto per_query = f.at("per_query_ap").get<std::vector<double>>();
    const auto qv = f.at("query_ids").get<std::vector<int64_t>>();
    const auto gv = f.at("gallery_ids").get<std::vector<int64_t>>();
    size_t valid = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      if (std::find(gv.begin(), gv.end(), qv[i]) == gv.end()) continue;
      const RetrievalScores one = evaluate_retrieval(matrix({rows[i]}), ids({qv[i]}), g, 1);
      EXPECT_NEAR(one.mean_ap, per_query.at(valid++), 1e-12) << "query " << i;
    }
    EXPECT_EQ(valid, per_query.size());
  }
}

// ---------------------------------------------------------------- properties

// Rank-k is non-decreasing in k, within [0, 1], and reaches 1 by k = G (every counted query has a
// match somewhere); mAP is in (0, 1].
TEST(RetrievalProperties, RankKMonotoneAndBounded) {
  torch::manual_seed(3);
  const int64_t q = 64, g = 40;
  const torch::Tensor distance = torch::rand({q, g});
  const RetrievalScores s = evaluate_retrieval(distance, torch::randint(0, 8, {q}), torch::randint(0, 8, {g}), g);
  ASSERT_EQ(static_cast<int64_t>(s.cmc.size()), g);
  EXPECT_GE(s.cmc[0], 0.0);
  for (int64_t k = 1; k < g; ++k) EXPECT_LE(s.cmc[k - 1], s.cmc[k]) << "Rank-" << k;
  EXPECT_DOUBLE_EQ(s.cmc.back(), 1.0);
  EXPECT_GT(s.mean_ap, 0.0);
  EXPECT_LE(s.mean_ap, 1.0);
}

// sklearn's AP treats a run of tied scores as one threshold, so reordering the gallery (ids with
// it) leaves mAP unchanged even with many ties; without ties CMC is unchanged too.
TEST(RetrievalProperties, GalleryOrderDoesNotMatter) {
  torch::manual_seed(5);
  const int64_t q = 30, g = 50;
  const torch::Tensor tied = torch::randint(0, 6, {q, g}).to(torch::kFloat32);
  const torch::Tensor distinct = torch::randperm(q * g).view({q, g}).to(torch::kFloat32);
  const torch::Tensor qid = torch::randint(0, 10, {q}), gid = torch::randint(0, 10, {g});
  const torch::Tensor perm = torch::randperm(g);
  const RetrievalScores a = evaluate_retrieval(tied, qid, gid);
  const RetrievalScores b = evaluate_retrieval(tied.index_select(1, perm), qid, gid.index_select(0, perm));
  EXPECT_NEAR(a.mean_ap, b.mean_ap, 1e-15);
  const RetrievalScores c = evaluate_retrieval(distinct, qid, gid);
  const RetrievalScores d = evaluate_retrieval(distinct.index_select(1, perm), qid, gid.index_select(0, perm));
  EXPECT_NEAR(c.mean_ap, d.mean_ap, 1e-15);
  EXPECT_EQ(c.cmc, d.cmc);
}

// The reference formulation, written independently here: stable-sort the row, walk it, and
// take one precision-recall step at the end of each run of tied distances.
static RetrievalScores sorted_reference(const torch::Tensor& distance, const torch::Tensor& query_ids,
                                        const torch::Tensor& gallery_ids, int64_t max_rank) {
  const auto d = distance.to(torch::kFloat64).contiguous();
  const auto qid = query_ids.contiguous(), gid = gallery_ids.contiguous();
  const int64_t* qp = qid.data_ptr<int64_t>();
  const int64_t* gp = gid.data_ptr<int64_t>();
  const int64_t q = d.size(0), g = d.size(1);
  RetrievalScores out;
  out.cmc.assign(max_rank, 0.0);
  for (int64_t i = 0; i < q; ++i) {
    const double* row = d.data_ptr<double>() + i * g;
    std::vector<int64_t> order(g);
    for (int64_t j = 0; j < g; ++j) order[j] = j;
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return row[a] < row[b]; });
    const int64_t id = qp[i];
    int64_t hits = 0, first = -1;
    std::vector<std::pair<int64_t, double>> steps;  // (hits in the run, precision at its end)
    int64_t hits_before = 0;
    for (int64_t j = 0; j < g; ++j) {
      if (gp[order[j]] == id) {
        if (first < 0) first = j;
        ++hits;
      }
      if (j + 1 == g || row[order[j + 1]] != row[order[j]]) {
        steps.emplace_back(hits - hits_before, static_cast<double>(hits) / (j + 1));
        hits_before = hits;
      }
    }
    if (hits == 0) continue;
    double ap = 0;
    for (const auto& [h, precision] : steps) ap += static_cast<double>(h) / hits * precision;
    out.mean_ap += ap;
    ++out.queries;
    for (int64_t k = first; k < max_rank; ++k) out.cmc[k] += 1;
  }
  out.mean_ap /= out.queries;
  for (double& c : out.cmc) c /= out.queries;
  return out;
}

// Against the sort-based reference on many random matrices: coarse distances (many ties, also
// among relevant items and at the nearest relevant distance), few ids (many relevant items per
// query), float32 and float64, run in parallel over rows.
TEST(RetrievalProperties, MatchesSortedReference) {
  for (int seed = 0; seed < 20; ++seed) {
    torch::manual_seed(seed);
    const int64_t q = 1 + seed * 7, g = 5 + seed * 13, levels = 2 + seed % 9, ids = 1 + seed % 6;
    const torch::Tensor distance =
        torch::randint(0, levels, {q, g}).to(seed % 2 ? torch::kFloat64 : torch::kFloat32);
    const torch::Tensor qid = torch::randint(0, ids + 1, {q}), gid = torch::randint(0, ids, {g});
    if (!torch::isin(qid, gid).any().item<bool>()) continue;
    const RetrievalScores expected = sorted_reference(distance, qid, gid, 12);
    const RetrievalScores actual = evaluate_retrieval(distance, qid, gid, 12);
    EXPECT_EQ(actual.queries, expected.queries) << "seed " << seed;
    EXPECT_NEAR(actual.mean_ap, expected.mean_ap, 1e-12) << "seed " << seed;
    for (size_t k = 0; k < 12; ++k)
      EXPECT_NEAR(actual.cmc[k], expected.cmc[k], 1e-12) << "seed " << seed << " Rank-" << k + 1;
  }
}

// Q = 1000, G = 4000 (a Market-1501-sized gallery is ~16000 x 3400): well under a second.
TEST(RetrievalProperties, Speed) {
  torch::manual_seed(11);
  const int64_t q = 1000, g = 4000;
  const torch::Tensor distance = torch::rand({q, g});
  const torch::Tensor qid = torch::randint(0, 700, {q}), gid = torch::randint(0, 700, {g});
  const auto start = std::chrono::steady_clock::now();
  const RetrievalScores s = evaluate_retrieval(distance, qid, gid);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  RecordProperty("seconds", std::to_string(seconds));
  std::cout << "evaluate_retrieval Q=1000 G=4000: " << seconds << " s\n";
  EXPECT_GT(s.queries, 0);
  EXPECT_LT(seconds, 2.0);
}

// squared_euclidean equals the direct sum of squared differences, and feeds evaluate_retrieval:
// each query's nearest gallery row is its own id.
TEST(RetrievalDistance, SquaredEuclidean) {
  torch::manual_seed(13);
  const torch::Tensor a = torch::randn({7, 5}, torch::kFloat64), b = torch::randn({9, 5}, torch::kFloat64);
  const torch::Tensor direct = (a.unsqueeze(1) - b.unsqueeze(0)).pow(2).sum(2);
  const torch::Tensor d = squared_euclidean(a, b);
  ASSERT_EQ(d.sizes(), (std::vector<int64_t>{7, 9}));
  EXPECT_EQ(d.scalar_type(), torch::kFloat64);
  EXPECT_TRUE(torch::allclose(d, direct, 1e-12, 1e-12));
  const torch::Tensor f = squared_euclidean(a.to(torch::kFloat32), b.to(torch::kFloat32));
  EXPECT_EQ(f.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::allclose(f.to(torch::kFloat64), direct, 1e-4, 1e-4));

  const torch::Tensor gallery = torch::eye(4, torch::kFloat32) * 10;
  const torch::Tensor query = gallery + 0.1 * torch::randn({4, 4});
  const RetrievalScores s =
      evaluate_retrieval(squared_euclidean(query, gallery), ids({0, 1, 2, 3}), ids({0, 1, 2, 3}), 1);
  EXPECT_DOUBLE_EQ(s.mean_ap, 1.0);
  EXPECT_EQ(s.cmc, (std::vector<double>{1.0}));
}

// ---------------------------------------------------------------- errors

TEST(RetrievalErrors, ShapeMismatchesNameTheSizes) {
  const torch::Tensor distance = torch::rand({3, 4});
  std::string m = error_of([&] { evaluate_retrieval(distance, ids({1, 2}), ids({1, 2, 3, 4})); });
  EXPECT_NE(m.find("3 rows"), std::string::npos) << m;
  EXPECT_NE(m.find("query_ids has 2 entries"), std::string::npos) << m;
  m = error_of([&] { evaluate_retrieval(distance, ids({1, 2, 3}), ids({1, 2, 3, 4, 5})); });
  EXPECT_NE(m.find("4 columns"), std::string::npos) << m;
  EXPECT_NE(m.find("gallery_ids has 5 entries"), std::string::npos) << m;
  m = error_of([&] { evaluate_retrieval(torch::rand({12}), ids({1}), ids({1})); });
  EXPECT_NE(m.find("2-D"), std::string::npos) << m;
  m = error_of([&] { evaluate_retrieval(distance, ids({1, 2, 3}).view({3, 1}), ids({1, 2, 3, 4})); });
  EXPECT_NE(m.find("query_ids must be 1-D"), std::string::npos) << m;
  m = error_of([&] { squared_euclidean(torch::rand({3, 4}), torch::rand({2, 5})); });
  EXPECT_NE(m.find("4 features"), std::string::npos) << m;
  EXPECT_NE(m.find("b has 5"), std::string::npos) << m;
  m = error_of([&] { squared_euclidean(torch::rand({3}), torch::rand({2, 3})); });
  EXPECT_NE(m.find("2-D"), std::string::npos) << m;
}

TEST(RetrievalErrors, BadValues) {
  const torch::Tensor distance = torch::rand({2, 3});
  std::string m = error_of([&] { evaluate_retrieval(distance, ids({1, 2}), ids({1, 2, 3}), 0); });
  EXPECT_NE(m.find("max_rank must be >= 1, got 0"), std::string::npos) << m;
  m = error_of([&] { evaluate_retrieval(distance, torch::tensor({1.0, 2.0}), ids({1, 2, 3})); });
  EXPECT_NE(m.find("query_ids must be integers"), std::string::npos) << m;
  m = error_of([&] { evaluate_retrieval(ids({1, 2, 3, 4, 5, 6}).view({2, 3}), ids({1, 2}), ids({1, 2, 3})); });
  EXPECT_NE(m.find("floating point"), std::string::npos) << m;
  torch::Tensor with_nan = distance.clone();
  with_nan[1][2] = std::numeric_limits<float>::quiet_NaN();
  m = error_of([&] { evaluate_retrieval(with_nan, ids({1, 2}), ids({1, 2, 3})); });
  EXPECT_NE(m.find("NaN at query 1, gallery item 2"), std::string::npos) << m;
  m = error_of([&] { evaluate_retrieval(distance, ids({8, 9}), ids({1, 2, 3})); });
  EXPECT_NE(m.find("none of the 2 queries"), std::string::npos) << m;
  m = error_of([&] { squared_euclidean(torch::rand({2, 3}), torch::rand({2, 3}, torch::kFloat64)); });
  EXPECT_NE(m.find("same floating dtype"), std::string::npos) << m;
}
