// The estimation part besides confident learning (test_confident_learning.cpp): anchor points,
// the helpers on T, folds, the NoiseSource rule behind every "auto" option, the .npy writer.
#include <gtest/gtest.h>

#include "test_helpers.h"
#include "winnow/core/error.h"
#include "data/io.h"
#include "winnow/estimate/anchor.h"
#include "winnow/estimate/noise_estimate.h"
#include "winnow/estimate/noise_source.h"
#include "winnow/estimate/out_of_sample.h"
#include "winnow/estimate/score.h"
#include "winnow/methods/coteaching.h"
#include "winnow/optim/optimizer.h"
#include "winnow/report/npy.h"

using namespace winnow;

namespace {

torch::Tensor pair_flip(int64_t k, double rate) {
  auto t = torch::eye(k, torch::kFloat64) * (1 - rate);
  for (int64_t i = 0; i < k; ++i) t[i][(i + 1) % k] = rate;
  return t;
}

torch::Tensor symmetric(int64_t k, double rate) {
  auto t = torch::full({k, k}, rate / (k - 1), torch::kFloat64);
  t.fill_diagonal_(1 - rate);
  return t;
}

// Noisy-class posteriors P(given | x) of inputs that are mostly, not purely, of one class:
// (1 - e) T[y] + e T[y'], e = 0.4 u^3 with u ~ U(0, 1), y' another class: most inputs are
// nearly pure. The purest samples of class i are anchor points, where P(given | x) = T[i].
torch::Tensor mixed_posteriors(const torch::Tensor& t, int64_t n, torch::Tensor& true_labels, uint64_t seed) {
  torch::manual_seed(seed);
  const int64_t k = t.size(0);
  true_labels = torch::randint(k, {n}, torch::kInt64);
  auto other = (true_labels + torch::randint(1, k, {n}, torch::kInt64)).remainder(k);
  auto e = torch::rand({n, 1}, torch::kFloat64).pow(3) * 0.4;
  return (1 - e) * t.index_select(0, true_labels) + e * t.index_select(0, other);
}

}  // namespace

TEST(Anchor, RecoversPairFlipAndSymmetricT) {
  for (const auto& truth : {pair_flip(4, 0.3), symmetric(5, 0.5)}) {
    torch::Tensor y;
    auto probs = mixed_posteriors(truth, 20000, y, 3);
    auto t = anchor_transition(probs);
    // The anchor sits at the 97th percentile of its column: with a quarter of the samples in
    // class i, that is the 12% purest of them, u ~ 0.12, e ~ 0.001.
    EXPECT_LT((t - truth).abs().max().item<double>(), 0.03) << t;
    EXPECT_TRUE(torch::allclose(t.sum(1), torch::ones({truth.size(0)}, torch::kFloat64)));
  }
}

TEST(Anchor, EstimateGivesPriorAndRate) {
  auto truth = pair_flip(4, 0.3);
  torch::Tensor y;
  auto probs = mixed_posteriors(truth, 20000, y, 5);
  // Given labels drawn from T: the estimator sees only their frequencies.
  auto given = torch::multinomial(truth.index_select(0, y), 1).squeeze(1);
  NoiseEstimate e = anchor_point_estimate(probs, given);
  EXPECT_NEAR(e.noise_rate, 0.3, 0.03);
  EXPECT_NEAR(e.prior.sum().item<double>(), 1.0, 1e-9);
  EXPECT_LT((e.prior - 0.25).abs().max().item<double>(), 0.03);
  EXPECT_TRUE(e.asymmetric);
  EXPECT_EQ(e.label_issues, static_cast<int64_t>(std::llround(e.noise_rate * 20000)));
}

TEST(Anchor, RejectsBadInput) {
  EXPECT_THROW(anchor_transition(torch::rand({10})), Error);
  EXPECT_THROW(anchor_transition(torch::rand({10, 3}), 0.0), Error);
  EXPECT_THROW(anchor_point_estimate(torch::rand({10, 3}), torch::zeros({9}, torch::kInt64)), Error);
}

TEST(NoiseEstimateMaths, AsymmetryRateAndPerClassNoise) {
  EXPECT_NEAR(asymmetry(symmetric(10, 0.5)), 1.0 / 9, 1e-12);
  EXPECT_NEAR(asymmetry(pair_flip(10, 0.45)), 1.0, 1e-12);
  EXPECT_EQ(asymmetry(torch::eye(3, torch::kFloat64)), 0.0);
  // Hand-computed: T = [[0.8, 0.2], [0.4, 0.6]], prior (0.5, 0.5):
  // rate = 1 - (0.5 * 0.8 + 0.5 * 0.6) = 0.3;
  // given 0: joint 0.4 (true 0) + 0.2 (true 1) -> wrong share 0.2 / 0.6 = 1/3;
  // given 1: joint 0.1 (true 0) + 0.3 (true 1) -> wrong share 0.1 / 0.4 = 1/4.
  auto t = torch::tensor({0.8, 0.2, 0.4, 0.6}, torch::kFloat64).view({2, 2});
  auto prior = torch::tensor({0.5, 0.5}, torch::kFloat64);
  EXPECT_NEAR(rate_from_transition(t, prior), 0.3, 1e-12);
  auto per_class = per_class_noise_from_transition(t, prior);
  EXPECT_NEAR(per_class[0].item<double>(), 1.0 / 3, 1e-12);
  EXPECT_NEAR(per_class[1].item<double>(), 0.25, 1e-12);
}

TEST(NoiseEstimateMaths, OverlappingClassesAndJsonRoundTrip) {
  NoiseEstimate e;
  e.transition = pair_flip(3, 0.2);
  e.transition[2][0] = 0.0;
  e.transition[2][2] = 1.0;  // class 2 is clean
  e.prior = torch::tensor({0.5, 0.3, 0.2}, torch::kFloat64);
  e.per_class_noise_rate = per_class_noise_from_transition(e.transition, e.prior);
  e.noise_rate = rate_from_transition(e.transition, e.prior);
  e.samples = 100;
  e.label_issues = 16;
  auto pairs = overlapping_classes(e);
  ASSERT_EQ(pairs.size(), 2u);
  using Pair = std::pair<int64_t, int64_t>;
  EXPECT_EQ(pairs[0], Pair(0, 1));  // 0.5 * 0.2 = 0.10
  EXPECT_EQ(pairs[1], Pair(1, 2));  // 0.3 * 0.2 = 0.06
  auto json = e.to_json({"cat", "dog", "car"});
  EXPECT_EQ(json["overlapping_classes"][0]["true"], "cat");
  EXPECT_EQ(json["overlapping_classes"][0]["given"], "dog");
  EXPECT_NEAR(json["health_score"].get<double>(), 1 - e.noise_rate, 1e-12);
  NoiseEstimate back = NoiseEstimate::from_json(nlohmann::json::parse(json.dump()));
  EXPECT_TRUE(torch::allclose(back.transition, e.transition));
  EXPECT_EQ(back.label_issues, 16);
  EXPECT_THROW(NoiseEstimate::from_json(nlohmann::json::parse(R"({"noise_rate": 0.1})")), Error);
}

TEST(NoiseEstimateMaths, ScoreAgainstTruth) {
  auto truth = torch::tensor({0, 0, 0, 0, 1, 1, 1, 1}, torch::kInt64);
  auto given = torch::tensor({0, 0, 0, 1, 1, 1, 0, 0}, torch::kInt64);
  auto t = empirical_transition(truth, given, 2);
  // Row 0: 3 of 4 stay, 1 flips; row 1: 2 of 4 stay.
  EXPECT_TRUE(torch::allclose(t, torch::tensor({0.75, 0.25, 0.5, 0.5}, torch::kFloat64).view({2, 2})));
  NoiseEstimate e;
  e.noise_rate = 0.5;
  e.transition = torch::eye(2, torch::kFloat64);
  auto score = score_estimate(e, truth, given);
  EXPECT_NEAR(score["true_noise_rate"].get<double>(), 3.0 / 8, 1e-12);
  EXPECT_NEAR(score["rate_error"].get<double>(), 0.125, 1e-12);
  // sum |I - T| = 0.25 + 0.25 + 0.5 + 0.5 = 1.5 over sum |T| = 2.
  EXPECT_NEAR(score["transition_relative_l1_error"].get<double>(), 0.75, 1e-12);
}

TEST(Folds, StratifiedBalancedAndSeeded) {
  auto labels = torch::cat({torch::zeros({103}, torch::kInt64), torch::ones({57}, torch::kInt64),
                            torch::full({40}, 2, torch::kInt64)});
  auto folds = stratified_folds(labels, 5, 11);
  EXPECT_TRUE(folds.equal(stratified_folds(labels, 5, 11)));
  EXPECT_FALSE(folds.equal(stratified_folds(labels, 5, 12)));
  auto sizes = torch::bincount(folds, {}, 5);
  EXPECT_LE((sizes.max() - sizes.min()).item<int64_t>(), 1);
  for (int64_t c = 0; c < 3; ++c) {
    auto per_fold = torch::bincount(folds.masked_select(labels.eq(c)), {}, 5);
    EXPECT_LE((per_fold.max() - per_fold.min()).item<int64_t>(), 1) << "class " << c;
  }
  EXPECT_THROW(stratified_folds(labels, 1, 0), Error);
}

TEST(NoiseSourceRule, NumberWinsAutoEstimatesUnsetFollowsTheSimulation) {
  int calls = 0;
  auto estimator = [&calls]() {
    ++calls;
    NoiseEstimate e;
    e.noise_rate = 0.37;
    e.asymmetric = true;
    e.transition = torch::eye(2, torch::kFloat64);
    e.prior = torch::full({2}, 0.5, torch::kFloat64);
    return e;
  };
  {
    NoiseSource simulated(0.5, false, estimator);
    Config config = Config::from_string("[method]\nforget_rate = 0.2\n");
    EXPECT_EQ(simulated.rate(config, "method.forget_rate"), 0.2);  // a number wins
    EXPECT_EQ(simulated.rate(config, "optim.tau"), 0.5);           // unset: the simulation
    EXPECT_FALSE(simulated.asymmetric(config, "method.asymmetric"));
    EXPECT_EQ(calls, 0);
    Config with_auto = Config::from_string("[method]\nforget_rate = \"auto\"\n");
    EXPECT_EQ(simulated.rate(with_auto, "method.forget_rate"), 0.37);  // "auto" estimates
    EXPECT_EQ(calls, 1);
    EXPECT_NE(with_auto.resolved_toml().find("forget_rate = 'auto'"), std::string::npos) << with_auto.resolved_toml();
  }
  {
    NoiseSource own_labels(std::nullopt, std::nullopt, estimator);
    Config config;
    EXPECT_EQ(own_labels.rate(config, "method.forget_rate"), 0.37);  // unset, no simulation
    EXPECT_EQ(own_labels.rate(config, "optim.tau"), 0.37);
    EXPECT_TRUE(own_labels.asymmetric(config, "method.asymmetric"));
    EXPECT_EQ(calls, 2);  // estimated once per source
    ASSERT_EQ(own_labels.auto_settings().size(), 3u);
    EXPECT_EQ(own_labels.auto_settings()[0].first, "method.forget_rate");
    EXPECT_EQ(own_labels.auto_settings()[0].second, "0.3700");
  }
  {
    NoiseSource no_estimator(std::nullopt, std::nullopt, nullptr);
    Config config;
    try {
      no_estimator.rate(config, "method.forget_rate");
      FAIL() << "expected an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("method.forget_rate"), std::string::npos) << e.what();
    }
  }
}

TEST(NoiseSourceRule, CoTeachingForgetRateAndCdrTauTakeTheEstimate) {
  auto source = std::make_shared<NoiseSource>(std::nullopt, std::nullopt, [] {
    NoiseEstimate e;
    e.noise_rate = 0.42;
    e.transition = torch::eye(2, torch::kFloat64);
    e.prior = torch::full({2}, 0.5, torch::kFloat64);
    return e;
  });
  TrainContext context;
  context.noise_source = source;
  Config config;
  auto options = CoTeachingOptions::from_config(CoTeachingVariant::kCoTeaching, context, config);
  EXPECT_DOUBLE_EQ(options.forget_rate, 0.42);
  // Without a source and without a number, the old clear error.
  TrainContext bare;
  Config empty;
  EXPECT_THROW(CoTeachingOptions::from_config(CoTeachingVariant::kCoTeaching, bare, empty), Error);

  auto w = torch::zeros({3}, torch::requires_grad());
  Config cdr = Config::from_string("[optim]\nname = \"cdr\"\n");
  auto optimizer = make_optimizer(OptimizerSpec{{w}, 10, std::nullopt, source}, cdr);
  EXPECT_NE(cdr.resolved_toml().find("tau = 'auto'"), std::string::npos) << cdr.resolved_toml();
  ASSERT_EQ(source->auto_settings().size(), 2u);
  EXPECT_EQ(source->auto_settings()[1].first, "optim.tau");
}

TEST(Npy, WrittenFileReadsBack) {
  winnow_test::TempDir dir("npy");
  auto x = torch::arange(12, torch::kFloat32).view({3, 4}) / 7;
  write_npy(dir / "x.npy", x);
  auto back = winnow::detail::read_npy(dir / "x.npy");
  EXPECT_TRUE(back.to(torch::kFloat32).equal(x));
  auto v = torch::arange(5, torch::kInt64);
  write_npy(dir / "v.npy", v);
  EXPECT_TRUE(winnow::detail::read_npy(dir / "v.npy").equal(v));
}
