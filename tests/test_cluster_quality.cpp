// Cluster quality (pairwise precision / recall / F, NMI, ARI) of
// include/winnow/eval/cluster_quality.h: a case worked out by hand, conformance with
// scikit-learn and a brute-force pair loop on fixtures (tests/data/eval_fixtures.json, written by
// tests/data/make_eval_fixtures.py; its "source" field says how), invariances, speed at
// N = 60000, and input errors.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fixture_helpers.h"
#include "winnow/core/error.h"
#include "winnow/eval/cluster_quality.h"

using nlohmann::json;
using winnow_test::error_of;
using winnow_test::load_fixture;
using winnow::cluster_quality;
using winnow::ClusterQuality;
using winnow::Error;

namespace {

const json& fixtures() {
  static const json doc = load_fixture("eval_fixtures.json");
  return doc;
}

torch::Tensor labels(std::vector<int64_t> v) { return torch::tensor(v, torch::kInt64); }

void expect_same(const ClusterQuality& a, const ClusterQuality& b, double tol) {
  EXPECT_NEAR(a.pairwise_precision, b.pairwise_precision, tol);
  EXPECT_NEAR(a.pairwise_recall, b.pairwise_recall, tol);
  EXPECT_NEAR(a.pairwise_f, b.pairwise_f, tol);
  EXPECT_NEAR(a.nmi, b.nmi, tol);
  EXPECT_NEAR(a.ari, b.ari, tol);
}


}  // namespace

// predicted [0, 0, 0, 1, 1, -1], truth [0, 0, 1, 1, 1, 1]. The -1 is a singleton cluster {5}.
// Contingency (class x cluster): c0 = {0,1 | 2}, c1 = {3,4}, {5}: n = [[2, 0, 0], [1, 2, 1]],
// class sizes a = [2, 4], cluster sizes b = [3, 2, 1].
// Pairs: TP = C(2,2) + C(2,2) = 2; predicted pairs = C(3,2) + C(2,2) = 4; true pairs =
// C(2,2) + C(4,2) = 7. precision = 2/4, recall = 2/7, F = 2 (1/2)(2/7) / (1/2 + 2/7) = 4/11.
// ARI (Hubert & Arabie): (2 - 4*7/15) / ((4 + 7)/2 - 4*7/15) = (2/15) / (109/30) = 4/109.
// NMI: MI = sum n_ij/N log(N n_ij / (a_i b_j)) = (1/3) ln 2 - (1/6) ln 2 + (1/3) ln(3/2)
// + (1/6) ln(3/2) = (1/6) ln 2 + (1/2) ln(3/2); H(truth) = ln 3 - (2/3) ln 2; H(pred) =
// (2/3) ln 2 + (1/2) ln 3; NMI = MI / ((H_t + H_p)/2) = ((1/3) ln 2 + ln(3/2)) / ((3/2) ln 3)
// = 0.38625... (sklearn 1.2.1 gives 0.3862534428571302 and ARI 0.03669724770642202).
TEST(ClusterQualityHand, SmallCaseWithUnassigned) {
  const ClusterQuality q = cluster_quality(labels({0, 0, 0, 1, 1, -1}), labels({0, 0, 1, 1, 1, 1}));
  EXPECT_DOUBLE_EQ(q.pairwise_precision, 0.5);
  EXPECT_DOUBLE_EQ(q.pairwise_recall, 2.0 / 7.0);
  EXPECT_NEAR(q.pairwise_f, 4.0 / 11.0, 1e-15);
  EXPECT_NEAR(q.ari, 4.0 / 109.0, 1e-15);
  EXPECT_NEAR(q.nmi, (std::log(2.0) / 3 + std::log(1.5)) / (1.5 * std::log(3.0)), 1e-15);
  EXPECT_EQ(q.clusters, 2);
  EXPECT_EQ(q.unassigned, 1);
}

// Unassigned samples are singletons, not one cluster "-1": two unassigned samples of the same
// class form no predicted pair (precision 0/0 := 0, recall 0/1 = 0), while labelling them one
// cluster is perfect.
TEST(ClusterQualityHand, UnassignedAreSingletons) {
  const ClusterQuality un = cluster_quality(labels({-1, -1}), labels({4, 4}));
  EXPECT_EQ(un.pairwise_precision, 0.0);
  EXPECT_EQ(un.pairwise_recall, 0.0);
  EXPECT_EQ(un.pairwise_f, 0.0);
  EXPECT_EQ(un.nmi, 0.0);  // one class, two clusters: sklearn's MI = 0 -> NMI 0
  EXPECT_EQ(un.ari, 0.0);  // ordered pairs tp 0, fp 0, fn 2, tn 0: 2 (0 - 0) / 4
  EXPECT_EQ(un.clusters, 0);
  EXPECT_EQ(un.unassigned, 2);
  const ClusterQuality one = cluster_quality(labels({9, 9}), labels({4, 4}));
  EXPECT_EQ(one.pairwise_precision, 1.0);
  EXPECT_EQ(one.pairwise_recall, 1.0);
  EXPECT_EQ(one.nmi, 1.0);
  EXPECT_EQ(one.ari, 1.0);
}

// sklearn's special cases at the edges: no samples and one sample are "perfect" for NMI and ARI;
// all pairwise ratios are 0/0 := 0.
TEST(ClusterQualityHand, EmptyAndSingleSample) {
  for (int64_t n : {0, 1}) {
    const ClusterQuality q = cluster_quality(torch::zeros({n}, torch::kInt64), torch::zeros({n}, torch::kInt64));
    EXPECT_EQ(q.nmi, 1.0) << n;
    EXPECT_EQ(q.ari, 1.0) << n;
    EXPECT_EQ(q.pairwise_precision, 0.0) << n;
    EXPECT_EQ(q.pairwise_f, 0.0) << n;
    EXPECT_EQ(q.clusters, n);
  }
}

// ---------------------------------------------------------------- conformance with scikit-learn

TEST(ClusterQualityConformance, FixturesArePresent) {
  const json& doc = fixtures();
  EXPECT_NE(doc.at("source").get<std::string>().find("scikit-learn"), std::string::npos);
  EXPECT_GE(doc.at("cluster").size(), 8u);
}

// NMI and ARI from sklearn (normalized_mutual_info_score with average_method="arithmetic",
// adjusted_rand_score), pairwise scores from the generator's brute-force pair loop, with -1
// expanded to fresh singleton labels there. Includes a single cluster, all singletons, all
// unassigned, both single-cluster, identical and independent labelings.
TEST(ClusterQualityConformance, MatchesSklearnAndBruteForcePairs) {
  for (const json& f : fixtures().at("cluster")) {
    SCOPED_TRACE(f.at("name").get<std::string>());
    const ClusterQuality q = cluster_quality(labels(f.at("predicted").get<std::vector<int64_t>>()),
                                             labels(f.at("truth").get<std::vector<int64_t>>()));
    EXPECT_NEAR(q.pairwise_precision, f.at("pairwise_precision").get<double>(), 1e-12);
    EXPECT_NEAR(q.pairwise_recall, f.at("pairwise_recall").get<double>(), 1e-12);
    EXPECT_NEAR(q.pairwise_f, f.at("pairwise_f").get<double>(), 1e-12);
    EXPECT_NEAR(q.nmi, f.at("nmi").get<double>(), 1e-12);
    EXPECT_NEAR(q.ari, f.at("ari").get<double>(), 1e-12);
    EXPECT_EQ(q.clusters, f.at("clusters").get<int64_t>());
    EXPECT_EQ(q.unassigned, f.at("unassigned").get<int64_t>());
  }
}

// N = 60000 from the fixture's formula (labels not stored, to keep the JSON small): NMI and ARI
// from sklearn, pairwise scores from the generator's blockwise comparison of all pairs. Ordered
// pair counts here exceed 2^32.
TEST(ClusterQualityConformance, LargeFormulaMatchesSklearn) {
  const json& f = fixtures().at("cluster_large");
  const int64_t n = f.at("n").get<int64_t>();
  const torch::Tensor i = torch::arange(n, torch::kInt64);
  const torch::Tensor truth = (i * 7919).remainder(37);
  const torch::Tensor kept = (i * static_cast<int64_t>(2654435761)).remainder(97) < 68;
  const torch::Tensor predicted = torch::where(kept, (truth * 5).remainder(37), (i * 31337).remainder(47) - 1);
  const ClusterQuality q = cluster_quality(predicted, truth);
  EXPECT_NEAR(q.pairwise_precision, f.at("pairwise_precision").get<double>(), 1e-12);
  EXPECT_NEAR(q.pairwise_recall, f.at("pairwise_recall").get<double>(), 1e-12);
  EXPECT_NEAR(q.pairwise_f, f.at("pairwise_f").get<double>(), 1e-12);
  EXPECT_NEAR(q.nmi, f.at("nmi").get<double>(), 1e-12);
  EXPECT_NEAR(q.ari, f.at("ari").get<double>(), 1e-12);
  EXPECT_EQ(q.clusters, f.at("clusters").get<int64_t>());
  EXPECT_EQ(q.unassigned, f.at("unassigned").get<int64_t>());
}

// ---------------------------------------------------------------- properties

// Renaming clusters or classes and reordering samples change nothing; NMI and ARI are symmetric
// in their two labelings, and swapping them swaps precision and recall.
TEST(ClusterQualityProperties, InvariantToRenamingAndOrder) {
  torch::manual_seed(17);
  const int64_t n = 2000;
  const torch::Tensor truth = torch::randint(0, 50, {n});
  torch::Tensor pred = (truth * 7 + 3) % 61;
  const torch::Tensor moved = torch::rand({n}) < 0.3;
  pred = torch::where(moved, torch::randint(0, 61, {n}), pred);
  const ClusterQuality base = cluster_quality(pred, truth);
  const torch::Tensor perm = torch::randperm(n);
  expect_same(cluster_quality((pred * 13 + 1000).index_select(0, perm), (truth - 500).index_select(0, perm)), base,
              1e-12);
  const ClusterQuality swapped = cluster_quality(truth, pred);
  EXPECT_NEAR(swapped.nmi, base.nmi, 1e-12);
  EXPECT_NEAR(swapped.ari, base.ari, 1e-12);
  EXPECT_NEAR(swapped.pairwise_precision, base.pairwise_recall, 1e-12);
  EXPECT_NEAR(swapped.pairwise_recall, base.pairwise_precision, 1e-12);
  EXPECT_GT(base.nmi, 0.0);
  EXPECT_LT(base.nmi, 1.0);
}

// N = 60000 (a re-ID training set) stays far below a second: O(N log N), no pair loop. Its
// ordered pair counts exceed 2^32 (their products ~2^61).
TEST(ClusterQualityProperties, LargeInputIsFast) {
  torch::manual_seed(19);
  const int64_t n = 60000;
  const torch::Tensor truth = torch::randint(0, 3, {n});
  torch::Tensor pred = torch::where(torch::rand({n}) < 0.2, torch::randint(-1, 4, {n}), truth);
  const auto start = std::chrono::steady_clock::now();
  const ClusterQuality q = cluster_quality(pred, truth);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 1.0);
  for (double v : {q.pairwise_precision, q.pairwise_recall, q.pairwise_f, q.nmi}) {
    EXPECT_GT(v, 0.0);
    EXPECT_LE(v, 1.0);
  }
  EXPECT_GT(q.ari, 0.0);
  EXPECT_LT(q.ari, 1.0);
  EXPECT_EQ(q.clusters, 4);
  EXPECT_EQ(q.unassigned, pred.lt(0).sum().item<int64_t>());
}

// ---------------------------------------------------------------- errors

TEST(ClusterQualityErrors, BadInputs) {
  std::string m = error_of([] { cluster_quality(labels({0, 1, 2}), labels({0, 1, 2, 3})); });
  EXPECT_NE(m.find("predicted has 3 labels but truth has 4"), std::string::npos) << m;
  m = error_of([] { cluster_quality(labels({0, 1, 2, 3}).view({2, 2}), labels({0, 1, 2, 3})); });
  EXPECT_NE(m.find("predicted must be 1-D [N], got 2 dimensions"), std::string::npos) << m;
  m = error_of([] { cluster_quality(labels({0, 1}), torch::tensor({0.0, 1.0})); });
  EXPECT_NE(m.find("truth must be integers"), std::string::npos) << m;
}
