// Confident learning (Northcutt, Jiang & Chuang, JAIR 2021): conformance with cleanlab on
// fixtures computed by cleanlab itself (tests/data/cleanlab_fixtures.json; its "source" field
// says how), small examples worked out by hand, recovery of a known noise process, and input
// errors.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>
#include <nlohmann/json.hpp>

#include "fixture_helpers.h"
#include "winnow/core/error.h"
#include "winnow/estimate/confident_learning.h"

using winnow::Error;
using winnow::LabelIssueOptions;
using winnow::LatentEstimate;
using nlohmann::json;
using winnow_test::error_of;
using winnow_test::load_fixture;

namespace {

const json& fixtures() {
  static const json doc = load_fixture("cleanlab_fixtures.json");
  return doc;
}

torch::Tensor doubles(const json& values) {
  std::vector<double> flat;
  std::vector<int64_t> shape{static_cast<int64_t>(values.size())};
  if (!values.empty() && values[0].is_array()) {
    shape.push_back(static_cast<int64_t>(values[0].size()));
    for (const auto& row : values)
      for (const auto& v : row) flat.push_back(v.get<double>());
  } else {
    for (const auto& v : values) flat.push_back(v.get<double>());
  }
  return torch::tensor(flat, torch::kFloat64).view(shape);
}

torch::Tensor longs(const json& values) { return doubles(values).to(torch::kInt64); }

torch::Tensor mask(const json& values) { return doubles(values).to(torch::kBool); }

// Every entry within 1e-9 relative (with a 1e-15 floor for entries that are exactly 0).
void expect_close(const torch::Tensor& actual, const torch::Tensor& expected, const std::string& what) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  torch::Tensor a = actual.to(torch::kFloat64);
  torch::Tensor bound = expected.abs() * 1e-9 + 1e-15;
  EXPECT_TRUE(((a - expected).abs() <= bound).all().item<bool>())
      << what << "\nactual:\n" << a << "\nexpected:\n" << expected;
}

void expect_equal(const torch::Tensor& actual, const torch::Tensor& expected, const std::string& what) {
  ASSERT_EQ(actual.sizes(), expected.sizes()) << what;
  EXPECT_TRUE(actual.to(expected.scalar_type()).equal(expected))
      << what << "\nactual:\n" << actual << "\nexpected:\n" << expected;
}

const std::vector<std::string> kFilters = {"prune_by_noise_rate", "prune_by_class", "both",
                                           "confident_learning", "predicted_neq_given"};
const std::vector<std::string> kScores = {"self_confidence", "normalized_margin",
                                          "confidence_weighted_entropy"};

}  // namespace

// ---------------------------------------------------------------- conformance with cleanlab

TEST(CleanlabConformance, FixturesArePresent) {
  const json& doc = fixtures();
  EXPECT_NE(doc.at("source").get<std::string>().find("cleanlab"), std::string::npos);
  EXPECT_GE(doc.at("fixtures").size(), 4u);
  EXPECT_GE(doc.at("calibration_cases").size(), 20u);
}

TEST(CleanlabConformance, ThresholdsJointAndCalibration) {
  for (const json& f : fixtures().at("fixtures")) {
    const std::string name = f.at("name");
    SCOPED_TRACE(name);
    torch::Tensor probs = doubles(f.at("probs")), labels = longs(f.at("labels"));
    const json& e = f.at("expected");
    expect_close(winnow::confident_thresholds(probs, labels), doubles(e.at("confident_thresholds")),
                 "thresholds");
    torch::Tensor raw = winnow::confident_joint(probs, labels, false);
    EXPECT_EQ(raw.scalar_type(), torch::kInt64);
    expect_equal(raw, longs(e.at("confident_joint_uncalibrated")), "uncalibrated confident joint");
    expect_equal(winnow::confident_joint(probs, labels), longs(e.at("confident_joint_calibrated")),
                 "calibrated confident joint");
    expect_equal(winnow::calibrate_confident_joint(raw, labels),
                 longs(e.at("confident_joint_calibrated")), "calibrate_confident_joint");
    torch::Tensor joint = winnow::estimate_joint(probs, labels);
    expect_close(joint, doubles(e.at("joint")), "joint");
    EXPECT_NEAR(joint.sum().item<double>(), 1.0, 1e-12);
  }
}

TEST(CleanlabConformance, CalibrationRounding) {
  // Direct calibrate_confident_joint calls, including rows whose rounding must move tied
  // entries up or down, an all-zero row and a class no label has.
  for (const json& c : fixtures().at("calibration_cases")) {
    torch::Tensor counts = longs(c.at("label_counts"));
    torch::Tensor labels =
        torch::repeat_interleave(torch::arange(counts.size(0), torch::kInt64), counts);
    expect_equal(winnow::calibrate_confident_joint(longs(c.at("confident_joint")), labels),
                 longs(c.at("calibrated")), c.at("confident_joint").dump());
  }
}

TEST(CleanlabConformance, LatentEstimates) {
  for (const json& f : fixtures().at("fixtures")) {
    SCOPED_TRACE(f.at("name").get<std::string>());
    torch::Tensor probs = doubles(f.at("probs")), labels = longs(f.at("labels"));
    const json& e = f.at("expected");
    LatentEstimate latent = winnow::estimate_latent(probs, labels);
    expect_equal(latent.confident_joint, longs(e.at("latent_confident_joint")), "confident joint");
    expect_close(latent.prior, doubles(e.at("prior")), "prior");
    // winnow's matrices are the transposes of cleanlab's.
    expect_close(latent.transition, doubles(e.at("noise_matrix")).t(), "transition");
    expect_close(latent.inverse, doubles(e.at("inverse_noise_matrix")).t(), "inverse");
  }
}

TEST(CleanlabConformance, NumLabelIssues) {
  for (const json& f : fixtures().at("fixtures")) {
    SCOPED_TRACE(f.at("name").get<std::string>());
    torch::Tensor probs = doubles(f.at("probs")), labels = longs(f.at("labels"));
    const json& e = f.at("expected").at("num_label_issues");
    EXPECT_EQ(winnow::num_label_issues(probs, labels), e.at("off_diagonal").get<int64_t>());
    EXPECT_EQ(winnow::num_label_issues(probs, labels, "off_diagonal_calibrated"),
              e.at("off_diagonal_calibrated").get<int64_t>());
  }
}

TEST(CleanlabConformance, FindLabelIssues) {
  for (const json& f : fixtures().at("fixtures")) {
    SCOPED_TRACE(f.at("name").get<std::string>());
    torch::Tensor probs = doubles(f.at("probs")), labels = longs(f.at("labels"));
    const json& e = f.at("expected");
    for (const std::string& rule : kFilters) {
      torch::Tensor found = winnow::find_label_issues(probs, labels, rule);
      EXPECT_EQ(found.scalar_type(), torch::kBool);
      expect_equal(found, mask(e.at("label_issues").at(rule)), rule);
    }
    for (const json& o : e.at("label_issues_with_options")) {
      LabelIssueOptions options;
      options.filter_by = o.at("filter_by");
      options.frac_noise = o.at("frac_noise");
      options.min_examples_per_class = o.at("min_examples_per_class");
      expect_equal(winnow::find_label_issues(probs, labels, options), mask(o.at("mask")), o.dump());
    }
    // cleanlab: "off_diagonal" is the size of the "confident_learning" mask.
    EXPECT_EQ(winnow::find_label_issues(probs, labels, "confident_learning").sum().item<int64_t>(),
              winnow::num_label_issues(probs, labels));
  }
}

TEST(CleanlabConformance, LabelQualityScores) {
  for (const json& f : fixtures().at("fixtures")) {
    SCOPED_TRACE(f.at("name").get<std::string>());
    torch::Tensor probs = doubles(f.at("probs")), labels = longs(f.at("labels"));
    for (const std::string& method : kScores) {
      expect_close(winnow::label_quality_scores(probs, labels, method),
                   doubles(f.at("expected").at("label_quality_scores").at(method)), method);
    }
  }
}

// ------------------------------------------------------------------- worked out by hand

// Two classes, six samples (p0, p1; given label):
//   s0 (0.9, 0.1; 0)   s1 (0.8, 0.2; 0)   s2 (0.3, 0.7; 0)
//   s3 (0.2, 0.8; 1)   s4 (0.4, 0.6; 1)   s5 (0.6, 0.4; 1)
// Eq. 2: t0 = (0.9 + 0.8 + 0.3) / 3 = 2/3, t1 = (0.8 + 0.6 + 0.4) / 3 = 0.6.
// Confidently class 0 (p0 >= t0 - 1e-6): s0, s1. Class 1: s2, s3, and s4 (p1 = 0.6 = t1; the
// 1e-6 slack makes it count whatever the last bit of the mean). s5 passes neither.
// C = [[2, 1], [0, 2]] (rows given): s2 is given 0 but confidently 1.
// Eq. 3: row 0 has 3 labels over 3 counts -> [2, 1]; row 1 has 3 labels over 2 -> [0, 3];
// the total is 6 = N. Q = [[2, 1], [0, 3]] / 6.
// P(given | true) by columns (totals 2, 4): true 0 -> (1, 0), true 1 -> (1/4, 3/4).
// P(true | given) by rows (totals 3, 3): given 0 -> (2/3, 1/3), given 1 -> (0, 1).
// Prior "cnt": column totals / N = (1/3, 2/3).
// Issues: off-diagonal confident samples: {s2} -> 1; N (1 - trace Q) = 6 * 1/6 = 1.
// Prune by noise rate: the calibrated count Q[0][1] N = 1 sample given 0 with the largest
// p1 - p0 -> s2. Prune by class: given 0 keeps C[0][0] = 2 of 3 -> the lowest p0, s2; given 1
// keeps 3 of 3. predicted != given: s2 and s5.
struct TwoClass {
  torch::Tensor probs = torch::tensor({0.9, 0.1, 0.8, 0.2, 0.3, 0.7, 0.2, 0.8, 0.4, 0.6, 0.6, 0.4},
                                      torch::kFloat64)
                            .view({6, 2});
  torch::Tensor labels = torch::tensor({0, 0, 0, 1, 1, 1}, torch::kInt64);
};

TEST(ConfidentLearningHand, TwoClassJointAndLatent) {
  TwoClass d;
  expect_close(winnow::confident_thresholds(d.probs, d.labels),
               torch::tensor({2.0 / 3.0, 0.6}, torch::kFloat64), "thresholds");
  expect_equal(winnow::confident_joint(d.probs, d.labels, false),
               torch::tensor({2, 1, 0, 2}, torch::kInt64).view({2, 2}), "raw");
  expect_equal(winnow::confident_joint(d.probs, d.labels),
               torch::tensor({2, 1, 0, 3}, torch::kInt64).view({2, 2}), "calibrated");
  expect_close(winnow::estimate_joint(d.probs, d.labels),
               torch::tensor({2.0, 1.0, 0.0, 3.0}, torch::kFloat64).view({2, 2}) / 6.0, "joint");
  LatentEstimate latent = winnow::estimate_latent(d.probs, d.labels);
  expect_close(latent.transition, torch::tensor({1.0, 0.0, 0.25, 0.75}, torch::kFloat64).view({2, 2}),
               "transition");
  expect_close(latent.inverse,
               torch::tensor({2.0 / 3.0, 1.0 / 3.0, 0.0, 1.0}, torch::kFloat64).view({2, 2}), "inverse");
  expect_close(latent.prior, torch::tensor({1.0 / 3.0, 2.0 / 3.0}, torch::kFloat64), "prior");
}

TEST(ConfidentLearningHand, TwoClassIssuesAndScores) {
  TwoClass d;
  EXPECT_EQ(winnow::num_label_issues(d.probs, d.labels), 1);
  EXPECT_EQ(winnow::num_label_issues(d.probs, d.labels, "off_diagonal_calibrated"), 1);
  torch::Tensor only_s2 = torch::tensor({false, false, true, false, false, false});
  for (const std::string& rule : {"prune_by_noise_rate", "prune_by_class", "both", "confident_learning"})
    expect_equal(winnow::find_label_issues(d.probs, d.labels, rule), only_s2, rule);
  expect_equal(winnow::find_label_issues(d.probs, d.labels, "predicted_neq_given"),
               torch::tensor({false, false, true, false, false, true}), "predicted_neq_given");
  // s5 (0.6, 0.4; 1): self-confidence 0.4; margin (0.4 - 0.6 + 1) / 2 = 0.4; entropy in bits
  // H = 0.970951, s = H / 0.4 = 2.427376, log(1 + s) / s = 0.507459.
  EXPECT_NEAR(winnow::label_quality_scores(d.probs, d.labels)[5].item<double>(), 0.4, 1e-15);
  EXPECT_NEAR(winnow::label_quality_scores(d.probs, d.labels, "normalized_margin")[5].item<double>(),
              0.4, 1e-15);
  EXPECT_NEAR(
      winnow::label_quality_scores(d.probs, d.labels, "confidence_weighted_entropy")[5].item<double>(),
      0.507459, 1e-6);
}

// When several classes pass their thresholds cleanlab counts the overall argmax, even a class
// that did not pass (the paper's Eq. 1 takes the argmax among the passing ones).
//   a (0.31, 0.31, 0.38; 0)  b (0.29, 0.01, 0.70; 0)  -> t0 = 0.30
//   c (0.01, 0.29, 0.70; 1)  d (0.20, 0.31, 0.49; 1)  -> t1 = 0.30
//   e (0.05, 0.05, 0.90; 2)                           -> t2 = 0.90
// a passes classes 0 and 1 but its argmax is 2 (0.38 < t2): counted in C[0][2] (the paper:
// C[0][0]). b and c pass nothing; d -> C[1][1]; e -> C[2][2]. C[0][0] = 0 is raised to 1.
TEST(ConfidentLearningHand, SeveralPassingTakesOverallArgmax) {
  torch::Tensor probs = torch::tensor({0.31, 0.31, 0.38, 0.29, 0.01, 0.70, 0.01, 0.29, 0.70, 0.20,
                                       0.31, 0.49, 0.05, 0.05, 0.90},
                                      torch::kFloat64)
                            .view({5, 3});
  torch::Tensor labels = torch::tensor({0, 0, 1, 1, 2}, torch::kInt64);
  expect_equal(winnow::confident_joint(probs, labels, false),
               torch::tensor({1, 0, 1, 0, 1, 0, 0, 0, 1}, torch::kInt64).view({3, 3}), "raw");
  // Flagged by "confident_learning": a only (its given label 0 is not its argmax).
  expect_equal(winnow::find_label_issues(probs, labels, "confident_learning"),
               torch::tensor({true, false, false, false, false}), "confident_learning");
}

TEST(ConfidentLearningHand, FloatProbabilitiesAreAccepted) {
  TwoClass d;
  expect_equal(winnow::confident_joint(d.probs.to(torch::kFloat32), d.labels.to(torch::kInt32)),
               torch::tensor({2, 1, 0, 3}, torch::kInt64).view({2, 2}), "float input");
}

// ------------------------------------------------------------- recovery of a known process

// N = 20000 true labels from a prior, given labels through pair-flip T (30%: i -> i+1 mod 4),
// and probabilities a sharp softmax around the TRUE class (logits 4 * onehot + N(0, 1)): the
// out-of-sample probabilities a perfect model would give. CL should recover T, the prior and
// the noise rate up to sampling error (a few sqrt(0.21 / 5000) ~ 0.006).
TEST(ConfidentLearningRecovery, PairFlipThirtyPercent) {
  const int64_t n = 20000, k = 4;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(20210101);
  torch::Tensor prior = torch::tensor({0.2, 0.3, 0.25, 0.25}, torch::kFloat64);
  torch::Tensor t = torch::eye(k, torch::kFloat64) * 0.7 + torch::eye(k, torch::kFloat64).roll(1, 1) * 0.3;
  torch::Tensor truth = torch::multinomial(prior, n, true, gen);
  torch::Tensor given = torch::multinomial(t.index_select(0, truth), 1, true, gen).squeeze(1);
  torch::Tensor logits = 4.0 * torch::one_hot(truth, k).to(torch::kFloat64) +
                         torch::randn({n, k}, gen, torch::kFloat64);
  torch::Tensor probs = torch::softmax(logits, 1);

  LatentEstimate latent = winnow::estimate_latent(probs, given);
  EXPECT_LT((latent.transition - t).abs().max().item<double>(), 0.03) << latent.transition;
  EXPECT_LT((latent.prior - prior).abs().max().item<double>(), 0.02) << latent.prior;
  // P(true | given) by Bayes from the truth.
  torch::Tensor inverse = (prior.unsqueeze(1) * t).t();
  inverse = inverse / inverse.sum(1, true);
  EXPECT_LT((latent.inverse - inverse).abs().max().item<double>(), 0.03) << latent.inverse;
  EXPECT_NEAR(latent.transition.sum(1).sub(1).abs().max().item<double>(), 0.0, 1e-12);

  const double rate = given.ne(truth).to(torch::kFloat64).mean().item<double>();
  for (const std::string& method : {"off_diagonal", "off_diagonal_calibrated"}) {
    EXPECT_NEAR(static_cast<double>(winnow::num_label_issues(probs, given, method)) / n, rate, 0.02)
        << method;
  }
  // The flagged samples are mostly the flipped ones.
  torch::Tensor flagged = winnow::find_label_issues(probs, given);
  const double hits = (flagged & given.ne(truth)).sum().item<double>();
  EXPECT_GT(hits / flagged.sum().item<double>(), 0.95);
  EXPECT_GT(hits / given.ne(truth).sum().item<double>(), 0.9);
}

// ----------------------------------------------------------------------------- input errors

TEST(ConfidentLearningErrors, BadInputsAreNamed) {
  TwoClass d;
  EXPECT_NE(error_of([&] { winnow::confident_joint(d.probs, d.labels.narrow(0, 0, 5)); })
                .find("labels must be [N] with N = 6"),
            std::string::npos);
  EXPECT_NE(error_of([&] { winnow::confident_joint(d.probs, d.labels + 1); })
                .find("labels must be in [0, 2), got values in [1, 2]"),
            std::string::npos);
  torch::Tensor nan_probs = d.probs.clone();
  nan_probs[3][1] = std::nan("");
  EXPECT_NE(error_of([&] { winnow::estimate_latent(nan_probs, d.labels); }).find("NaN"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              winnow::num_label_issues(torch::ones({6, 1}, torch::kFloat64), torch::zeros({6}, torch::kInt64));
            }).find("at least 2 classes"),
            std::string::npos);
  EXPECT_NE(error_of([&] { winnow::confident_thresholds(d.probs * 2.0, d.labels); }).find("[0, 1]"),
            std::string::npos);
  EXPECT_NE(error_of([&] { winnow::confident_thresholds(d.probs, d.labels.to(torch::kFloat64)); })
                .find("labels must be integers"),
            std::string::npos);
  EXPECT_NE(error_of([&] { winnow::confident_thresholds(d.probs.view({12}), d.labels); }).find("2-D"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              winnow::calibrate_confident_joint(torch::ones({2, 3}, torch::kInt64), d.labels);
            }).find("square"),
            std::string::npos);
}

TEST(ConfidentLearningErrors, UnknownNamesListTheAllowedOnes) {
  TwoClass d;
  const std::string filter = error_of([&] { winnow::find_label_issues(d.probs, d.labels, "prune"); });
  for (const std::string& rule : kFilters) EXPECT_NE(filter.find(rule), std::string::npos) << filter;
  EXPECT_NE(error_of([&] { winnow::num_label_issues(d.probs, d.labels, "diagonal"); })
                .find("off_diagonal, off_diagonal_calibrated"),
            std::string::npos);
  const std::string score = error_of([&] { winnow::label_quality_scores(d.probs, d.labels, "margin"); });
  for (const std::string& method : kScores) EXPECT_NE(score.find(method), std::string::npos) << score;
  LabelIssueOptions options;
  options.frac_noise = 0.0;
  EXPECT_NE(error_of([&] { winnow::find_label_issues(d.probs, d.labels, options); }).find("frac_noise"),
            std::string::npos);
}
