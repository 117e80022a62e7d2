// Clustering pieces of asymmetric co-teaching (Yang et al., AAAI 2020): k-reciprocal re-ranking
// (Zhong et al., CVPR 2017), DBSCAN on a precomputed matrix with ACT's eps rule, and 1-NN labels
// for DBSCAN's outliers. DBSCAN is checked against scikit-learn's labels
// (tests/data/dbscan_fixtures.json), re-ranking against a hand-worked case and an independent
// numpy reference (tests/data/rerank_fixture.json); each file's "source" field says how it was
// made, and the generators sit next to it.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <limits>
#include <string>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

#include "fixture_helpers.h"
#include "winnow/cluster/dbscan.h"
#include "winnow/cluster/outliers.h"
#include "winnow/cluster/rerank.h"
#include "winnow/core/error.h"

using nlohmann::json;
using winnow_test::load_fixture;
using winnow::Error;
using winnow::RerankOptions;

namespace {

const json& dbscan_fixtures() {
  static const json doc = load_fixture("dbscan_fixtures.json");
  return doc;
}

const json& rerank_fixture() {
  static const json doc = load_fixture("rerank_fixture.json");
  return doc;
}

// A JSON list of equal-length lists (or a flat list) as a tensor of `type`.
torch::Tensor tensor_of(const json& values, torch::ScalarType type) {
  std::vector<double> flat;
  std::vector<int64_t> shape{static_cast<int64_t>(values.size())};
  if (!values.empty() && values[0].is_array()) {
    shape.push_back(static_cast<int64_t>(values[0].size()));
    for (const auto& row : values)
      for (const auto& v : row) flat.push_back(v.get<double>());
  } else {
    for (const auto& v : values) flat.push_back(v.get<double>());
  }
  return torch::tensor(flat, torch::kFloat64).view(shape).to(type);
}

void expect_labels(const torch::Tensor& actual, const torch::Tensor& expected, const std::string& what) {
  ASSERT_EQ(actual.scalar_type(), torch::kInt64) << what;
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  EXPECT_TRUE(actual.equal(expected.to(torch::kInt64)))
      << what << "\nactual:   " << actual << "\nexpected: " << expected;
}

// Unit-circle point at `degrees`, scaled by `radius` (re-ranking normalises it away).
std::vector<float> at_angle(double degrees, double radius) {
  const double rad = degrees * M_PI / 180.0;
  return {static_cast<float>(radius * std::cos(rad)), static_cast<float>(radius * std::sin(rad))};
}

torch::Tensor rows(const std::vector<std::vector<float>>& points) {
  std::vector<float> flat;
  for (const auto& p : points) flat.insert(flat.end(), p.begin(), p.end());
  return torch::tensor(flat).view({static_cast<int64_t>(points.size()), -1});
}

torch::Tensor random_features(int64_t n, int64_t d, uint64_t seed) {
  auto generator = at::detail::createCPUGenerator(seed);
  return torch::randn({n, d}, generator);
}

}  // namespace

// ---------------------------------------------------------------- DBSCAN vs scikit-learn

TEST(DbscanConformance, FixturesArePresent) {
  const json& doc = dbscan_fixtures();
  EXPECT_NE(doc.at("source").get<std::string>().find("scikit-learn 1.2.1"), std::string::npos);
  EXPECT_GE(doc.at("fixtures").size(), 5u);
}

TEST(DbscanConformance, MatchesSklearnLabels) {
  // Both precisions: the fixtures keep every distance > 1e-6 away from eps or exactly on it.
  for (const json& f : dbscan_fixtures().at("fixtures")) {
    const std::string name = f.at("name");
    SCOPED_TRACE(name);
    const double eps = f.at("eps");
    const int64_t min_samples = f.at("min_samples");
    const torch::Tensor expected = tensor_of(f.at("labels"), torch::kInt64);
    for (auto type : {torch::kFloat64, torch::kFloat32}) {
      torch::Tensor d = tensor_of(f.at("distance"), type);
      expect_labels(winnow::dbscan_precomputed(d, eps, min_samples), expected,
                    name + " " + c10::toString(type));
    }
  }
}

TEST(Dbscan, Float32ComparesWithEpsRoundedToFloat32) {
  // numpy compares a float32 matrix with a Python float in float32: float32(0.1) is just above
  // 0.1, so eps = 0.1000000014901161 (below float32(0.1) in double) still admits the pair in
  // float32 (sklearn 1.2.1 gives [0, 0]) but not in float64 (sklearn gives [-1, -1]).
  const double eps = 0.1000000014901161;
  auto d32 = torch::tensor({0.0f, 0.1f, 0.1f, 0.0f}).view({2, 2});
  expect_labels(winnow::dbscan_precomputed(d32, eps, 2), torch::tensor({0, 0}), "float32");
  expect_labels(winnow::dbscan_precomputed(d32.to(torch::kFloat64), eps, 2),
                torch::tensor({-1, -1}), "float64");
}

TEST(Dbscan, RejectsBadInput) {
  auto d = torch::zeros({3, 3}, torch::kFloat64);
  EXPECT_THROW(winnow::dbscan_precomputed(d, 0.0, 2), Error);
  EXPECT_THROW(winnow::dbscan_precomputed(d, -1.0, 2), Error);
  EXPECT_THROW(winnow::dbscan_precomputed(d, std::nan(""), 2), Error);
  EXPECT_THROW(winnow::dbscan_precomputed(d, 1.0, 0), Error);
  EXPECT_THROW(winnow::dbscan_precomputed(torch::zeros({3, 4}), 1.0, 2), Error);
  EXPECT_THROW(winnow::dbscan_precomputed(torch::zeros({3}), 1.0, 2), Error);
  EXPECT_THROW(winnow::dbscan_precomputed(torch::zeros({0, 0}), 1.0, 2), Error);
  EXPECT_THROW(winnow::dbscan_precomputed(torch::zeros({3, 3}, torch::kInt64), 1.0, 2), Error);
  EXPECT_THROW(winnow::dbscan_precomputed(torch::Tensor(), 1.0, 2), Error);
  auto negative = d.clone();
  negative[0][1] = -0.5;
  EXPECT_THROW(winnow::dbscan_precomputed(negative, 1.0, 2), Error);
  auto not_finite = d.clone();
  not_finite[2][1] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(winnow::dbscan_precomputed(not_finite, 1.0, 2), Error);
  try {
    winnow::dbscan_precomputed(d, -0.25, 2);
    FAIL() << "expected winnow::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("eps = -0.25"), std::string::npos) << e.what();
  }
}

// ---------------------------------------------------------------- ACT's eps rule

TEST(DbscanEps, MeanOfTheSmallestUpperTriangleDistances) {
  // Strict upper triangle: 0 (skipped: np.nonzero drops it), 0.5, 0.2, 0.9, 0.4, 0.1, so P = 5
  // and sorted 0.1 0.2 0.4 0.5 0.9. The lower triangle (all 7s) and diagonal are never read.
  auto d = torch::tensor({0.0, 0.0, 0.5, 0.2,   //
                          7.0, 0.0, 0.9, 0.4,   //
                          7.0, 7.0, 0.0, 0.1,   //
                          7.0, 7.0, 7.0, 0.0},  //
                         torch::kFloat64)
               .view({4, 4});
  // rho = 0.5: round(2.5) = 2 (halves to even) -> (0.1 + 0.2) / 2.
  EXPECT_NEAR(winnow::dbscan_eps_from_rho(d, 0.5), 0.15, 1e-15);
  // rho = 0.7: round(3.5) = 4 -> (0.1 + 0.2 + 0.4 + 0.5) / 4.
  EXPECT_NEAR(winnow::dbscan_eps_from_rho(d, 0.7), 0.3, 1e-15);
  // rho = 0.3: round(1.5) = 2; rho = 1: all five -> 2.1 / 5.
  EXPECT_NEAR(winnow::dbscan_eps_from_rho(d, 0.3), 0.15, 1e-15);
  EXPECT_NEAR(winnow::dbscan_eps_from_rho(d, 1.0), 0.42, 1e-15);
  // float32 input reads the same values (to float32 precision).
  EXPECT_NEAR(winnow::dbscan_eps_from_rho(d.to(torch::kFloat32), 0.5), 0.15, 1e-7);
}

TEST(DbscanEps, RejectsRhoThatSelectsNothing) {
  auto d = torch::tensor({0.0, 0.3, 0.6, 0.3, 0.0, 0.2, 0.6, 0.2, 0.0}, torch::kFloat64).view({3, 3});
  // P = 3; rho = 0.1 gives round(0.3) = 0; rho = 1/6 gives round(0.5) = 0 (half to even).
  try {
    winnow::dbscan_eps_from_rho(d, 0.1);
    FAIL() << "expected winnow::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("rho = 0.1"), std::string::npos) << e.what();
  }
  EXPECT_THROW(winnow::dbscan_eps_from_rho(d, 1.0 / 6.0), Error);
  EXPECT_NEAR(winnow::dbscan_eps_from_rho(d, 0.2), 0.2, 1e-15);  // round(0.6) = 1
  EXPECT_THROW(winnow::dbscan_eps_from_rho(d, 0.0), Error);
  EXPECT_THROW(winnow::dbscan_eps_from_rho(d, 1.5), Error);
  EXPECT_THROW(winnow::dbscan_eps_from_rho(torch::zeros({3, 3}), 0.5), Error);  // no non-zero
  EXPECT_THROW(winnow::dbscan_eps_from_rho(torch::zeros({2, 3}), 0.5), Error);
}

// ---------------------------------------------------------------- re-ranking

TEST(Rerank, HandWorkedTwoGroups) {
  // Six samples in 2-D at angles (degrees) A = {0, 20, 40} and B = {180, 200, 220}, stored
  // interleaved A0 B0 A1 B1 A2 B2 with assorted radii (normalisation removes them).
  // k1 = 2, k2 = 1, lambda = 0. Derivation:
  //  * Unit vectors at angle delta have squared distance 2 - 2 cos(delta): d1 = 0.1206148 at 20
  //    degrees, d2 = 0.4679111 at 40; across the groups delta >= 140, d >= 3.53. Every sample has
  //    its antipode in the set, so every column maximum is 4 and rel = d / 4; self-distance is
  //    clamped to 1e-5, rel 2.5e-6.
  //  * Each sample's 3 nearest (itself included) are its own group, so R(i, 2) = its group.
  //  * Expansion uses R(c, round(2/2) = 1), a subset of c's group = R(i, 2): adds nothing.
  //  * V over the group (exp(-rel) normalised):
  //      A0: (e^-2.5e-6, e^-d1/4, e^-d2/4) / Z = (0.3496618, 0.3392765, 0.3110617) on (A0, A1, A2)
  //      A1: (e^-d1/4, e^-2.5e-6, e^-d1/4) / Z = (0.3299665, 0.3400669, 0.3299665)
  //      A2: A0 mirrored                       = (0.3110617, 0.3392765, 0.3496618)
  //  * m(A0, A1) = 0.3299665 + 0.3392765 + 0.3110617 = 0.9803047, jaccard = 1 - m / (2 - m)
  //    = 0.0386298; the same for (A1, A2). m(A0, A2) = 0.3110617 + 0.3392765 + 0.3110617
  //    = 0.9613999, jaccard = 0.0743311. B is A turned by 180 degrees: the same numbers.
  //  * Pairs across the groups share no column of V: jaccard = 1. The diagonal: m = 1, 0.
  auto x = rows({at_angle(0, 1.0), at_angle(180, 2.0), at_angle(20, 0.5), at_angle(200, 3.0),
                 at_angle(40, 1.5), at_angle(220, 0.25)});
  RerankOptions options;
  options.k1 = 2;
  options.k2 = 1;
  options.lambda = 0;
  torch::Tensor d = winnow::k_reciprocal_distance(x, torch::Tensor(), options);
  ASSERT_EQ(d.sizes(), (std::vector<int64_t>{6, 6}));
  ASSERT_EQ(d.scalar_type(), torch::kFloat32);
  const double near = 0.0386298, far = 0.0743311;
  const double expected[6][6] = {
      {0, 1, near, 1, far, 1},  //
      {1, 0, 1, near, 1, far},  //
      {near, 1, 0, 1, near, 1},  //
      {1, near, 1, 0, 1, near},  //
      {far, 1, near, 1, 0, 1},  //
      {1, far, 1, near, 1, 0},
  };
  for (int i = 0; i < 6; ++i)
    for (int j = 0; j < 6; ++j)
      EXPECT_NEAR(d[i][j].item<double>(), expected[i][j], 2e-6) << "(" << i << ", " << j << ")";
}

TEST(RerankConformance, MatchesNumpyReference) {
  const json& doc = rerank_fixture();
  EXPECT_NE(doc.at("source").get<std::string>().find("make_rerank_fixture.py"), std::string::npos);
  ASSERT_GE(doc.at("cases").size(), 3u);
  for (const json& c : doc.at("cases")) {
    const std::string name = c.at("name");
    SCOPED_TRACE(name);
    RerankOptions options;
    options.k1 = c.at("k1");
    options.k2 = c.at("k2");
    options.lambda = c.at("lambda");
    torch::Tensor target = tensor_of(c.at("target"), torch::kFloat32);
    torch::Tensor source = c.at("source").empty() ? torch::Tensor()
                                                  : tensor_of(c.at("source"), torch::kFloat32);
    torch::Tensor expected = tensor_of(c.at("distance"), torch::kFloat64);
    torch::Tensor actual = winnow::k_reciprocal_distance(target, source, options).to(torch::kFloat64);
    ASSERT_EQ(actual.sizes(), expected.sizes());
    const double worst = (actual - expected).abs().max().item<double>();
    EXPECT_LT(worst, 2e-5) << "largest difference from the float64 reference";
  }
}

TEST(Rerank, SymmetricBoundedWithZeroDiagonal) {
  // Symmetric for every k2 and lambda: m(i, j) = sum_k min(V[i,k], V[j,k]) is symmetric
  // whatever V is, and so is s_i + s_j. For lambda = 0 the values lie in [0, 1] and the
  // diagonal is ~0 (m(i, i) = sum_k V[i,k] = 1); for lambda > 0 they lie in [0, 1 + lambda].
  auto target = random_features(120, 12, 3);
  auto source = random_features(30, 12, 4);
  for (int64_t k2 : {1, 4}) {
    for (double lambda : {0.0, 0.25}) {
      SCOPED_TRACE("k2 = " + std::to_string(k2) + ", lambda = " + std::to_string(lambda));
      RerankOptions options;
      options.k1 = 10;
      options.k2 = k2;
      options.lambda = lambda;
      torch::Tensor d = winnow::k_reciprocal_distance(target, source, options);
      EXPECT_TRUE(d.equal(d.t())) << "not exactly symmetric";
      EXPECT_GE(d.min().item<double>(), 0.0);
      EXPECT_LE(d.max().item<double>(), 1.0 + lambda + 1e-6);
      if (lambda == 0) {
        EXPECT_LT(d.diagonal().abs().max().item<double>(), 1e-5);
        // Pairs that share no column of V sit at exactly 1.
        EXPECT_GT((d == 1).sum().item<int64_t>(), 0);
      }
    }
  }
}

TEST(Rerank, SourceIgnoredWhenLambdaIsZero) {
  auto target = random_features(40, 6, 5);
  RerankOptions options;
  options.k1 = 6;
  options.k2 = 2;
  options.lambda = 0;
  torch::Tensor without = winnow::k_reciprocal_distance(target, torch::Tensor(), options);
  torch::Tensor with = winnow::k_reciprocal_distance(target, random_features(9, 3, 6), options);
  EXPECT_TRUE(without.equal(with));
  // float64 features give the same float32 computation.
  EXPECT_TRUE(winnow::k_reciprocal_distance(target.to(torch::kFloat64), torch::Tensor(), options)
                  .equal(without));
}

TEST(Rerank, RejectsBadInput) {
  auto target = random_features(10, 4, 7);
  auto source = random_features(5, 4, 8);
  auto call = [&](const torch::Tensor& t, const torch::Tensor& s, int64_t k1, int64_t k2, double lambda) {
    RerankOptions options;
    options.k1 = k1;
    options.k2 = k2;
    options.lambda = lambda;
    return winnow::k_reciprocal_distance(t, s, options);
  };
  EXPECT_NO_THROW(call(target, source, 9, 10, 0.5));  // the largest k1 and k2 allowed
  EXPECT_THROW(call(target, source, 10, 6, 0.1), Error);  // k1 >= N
  EXPECT_THROW(call(target, source, 3, 11, 0.1), Error);  // k2 > N
  EXPECT_THROW(call(target, source, 0, 6, 0.1), Error);
  EXPECT_THROW(call(target, source, 3, 0, 0.1), Error);
  EXPECT_THROW(call(target, source, 3, 2, -0.1), Error);
  EXPECT_THROW(call(target, source, 3, 2, 1.5), Error);
  EXPECT_THROW(call(target, source, 3, 2, std::nan("")), Error);
  EXPECT_THROW(call(target.view({-1}), source, 3, 2, 0.1), Error);
  EXPECT_THROW(call(target.to(torch::kInt64), source, 3, 2, 0.1), Error);
  EXPECT_THROW(call(target.narrow(0, 0, 1), source, 0, 1, 0), Error);  // N = 1
  EXPECT_THROW(call(target, torch::Tensor(), 3, 2, 0.1), Error);  // lambda > 0 needs a source
  EXPECT_THROW(call(target, source.narrow(0, 0, 0), 3, 2, 0.1), Error);
  EXPECT_THROW(call(target, random_features(5, 3, 9), 3, 2, 0.1), Error);  // D differs
  auto bad = target.clone();
  bad[3][1] = std::numeric_limits<float>::infinity();
  EXPECT_THROW(call(bad, source, 3, 2, 0.1), Error);
  try {
    call(target, source, 12, 6, 0.1);
    FAIL() << "expected winnow::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("k1 = 12"), std::string::npos) << e.what();
  }
}

TEST(RerankSpeed, FiveThousandSamples) {
  // A guard against an O(N^3) or dense-row path creeping in: about 1.5 s on one shared core
  // when written; the bound is loose because test machines are shared.
  auto target = random_features(5000, 256, 10);
  auto source = random_features(2000, 256, 11);
  const auto start = std::chrono::steady_clock::now();
  torch::Tensor d = winnow::k_reciprocal_distance(target, source, RerankOptions{});
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << "[          ] k_reciprocal_distance N=5000 D=256 M=2000 (k1=20, k2=6, lambda=0.1): "
            << seconds << " s on " << at::get_num_threads() << " threads\n";
  EXPECT_LT(seconds, 60.0);
  EXPECT_EQ(d.sizes(), (std::vector<int64_t>{5000, 5000}));
  EXPECT_TRUE(d.equal(d.t()));
}

// ---------------------------------------------------------------- outlier labels

TEST(OutlierLabels, NearestLabelledSampleOnNormalisedFeatures) {
  // Inliers: 0 (1, 0) label 3; 1 (0, 1) label 7; 3 (-1, 0) label 2; 6 (5, 5) label 9.
  // Outliers (-1): 2 (2, 0.5) -> direction 14 deg, nearest 0 -> 3; 4 (0.1, 5) -> 1 -> 7;
  // 5 (-3, -0.1) -> 3 -> 2; 7 (1, 0.9): in raw space (1, 0) is nearest, but normalised it points
  // at 42 deg, nearest (5, 5)'s 45 deg -> 9.
  auto x = torch::tensor({1.0f, 0.0f, 0.0f, 1.0f, 2.0f, 0.5f, -1.0f, 0.0f, 0.1f, 5.0f, -3.0f, -0.1f,
                          5.0f, 5.0f, 1.0f, 0.9f})
               .view({8, 2});
  auto labels = torch::tensor({3, 7, -1, 2, -1, -1, 9, -1}, torch::kInt64);
  expect_labels(winnow::label_outliers_nearest_inlier(x, labels),
                torch::tensor({3, 7, 3, 2, 7, 2, 9, 9}), "labels");
  // int32 labels and float64 features work too; the input labels are not modified.
  expect_labels(winnow::label_outliers_nearest_inlier(x.to(torch::kFloat64), labels.to(torch::kInt32)),
                torch::tensor({3, 7, 3, 2, 7, 2, 9, 9}), "int32 labels");
  EXPECT_EQ(labels[2].item<int64_t>(), -1);
}

TEST(OutlierLabels, TiesGoToTheLowestIndex) {
  // The outlier (1, 0) is equally far from (1, 1) and (1, -1): the lower index wins.
  auto x = torch::tensor({1.0f, 0.0f, 1.0f, 1.0f, 1.0f, -1.0f}).view({3, 2});
  expect_labels(winnow::label_outliers_nearest_inlier(x, torch::tensor({-1, 5, 6})),
                torch::tensor({5, 5, 6}), "(1, 1) first");
  auto swapped = torch::tensor({1.0f, 0.0f, 1.0f, -1.0f, 1.0f, 1.0f}).view({3, 2});
  expect_labels(winnow::label_outliers_nearest_inlier(swapped, torch::tensor({-1, 6, 5})),
                torch::tensor({6, 6, 5}), "(1, -1) first");
}

TEST(OutlierLabels, ChunkedMatchesBruteForce) {
  // 4000 outliers x 5000 inliers: more than one chunk of 2^24 distances. float64 features, so
  // no near-tie is decided by rounding; the reference takes explicit differences, 50 outliers
  // at a time.
  auto x = random_features(9000, 8, 12).to(torch::kFloat64);
  auto generator = at::detail::createCPUGenerator(13);
  auto labels = torch::randint(0, 50, {9000}, generator, torch::kInt64);
  labels.narrow(0, 0, 4000).fill_(-1);
  labels = labels.index_select(0, torch::randperm(9000, generator));
  auto result = winnow::label_outliers_nearest_inlier(x, labels);
  auto unit = x / x.norm(2, 1, true);
  auto inlier = (labels != -1).nonzero().squeeze(1);
  auto inlier_unit = unit.index_select(0, inlier);
  auto outlier = (labels == -1).nonzero().squeeze(1);
  ASSERT_EQ(outlier.size(0), 4000);
  int64_t mismatches = 0;
  for (int64_t start = 0; start < outlier.size(0); start += 50) {
    auto rows = outlier.narrow(0, start, 50);
    auto nearest = (unit.index_select(0, rows).unsqueeze(1) - inlier_unit.unsqueeze(0))
                       .pow(2)
                       .sum(2)
                       .argmin(1);
    auto expected = labels.index_select(0, inlier.index_select(0, nearest));
    mismatches += (result.index_select(0, rows) != expected).sum().item<int64_t>();
  }
  EXPECT_EQ(mismatches, 0);
  auto kept = labels != -1;
  EXPECT_TRUE(result.masked_select(kept).equal(labels.masked_select(kept)));
}

TEST(OutlierLabels, NoOutliersAndBadInput) {
  auto x = torch::randn({4, 3});
  auto labels = torch::tensor({0, 1, 1, 0}, torch::kInt64);
  expect_labels(winnow::label_outliers_nearest_inlier(x, labels), labels, "no outliers");
  EXPECT_THROW(winnow::label_outliers_nearest_inlier(x, torch::full({4}, -1, torch::kInt64)), Error);
  EXPECT_THROW(winnow::label_outliers_nearest_inlier(x, torch::tensor({0, 1, 1}, torch::kInt64)), Error);
  EXPECT_THROW(winnow::label_outliers_nearest_inlier(x, torch::tensor({0, -2, 1, -1}, torch::kInt64)),
               Error);
  EXPECT_THROW(winnow::label_outliers_nearest_inlier(x, torch::tensor({0.0, 1.0, -1.0, 0.0})), Error);
  EXPECT_THROW(winnow::label_outliers_nearest_inlier(x.view({-1}), torch::zeros({12}, torch::kInt64)),
               Error);
  EXPECT_THROW(winnow::label_outliers_nearest_inlier(x.to(torch::kInt64), labels), Error);
  auto nan = x.clone();
  nan[1][1] = std::numeric_limits<float>::quiet_NaN();
  EXPECT_THROW(winnow::label_outliers_nearest_inlier(nan, torch::tensor({0, -1, 1, 0})), Error);
}
