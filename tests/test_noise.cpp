// Label-noise simulators: statistics of the draws against the matrices they claim to follow,
// exact properties (counts, allowed moves, determinism by seed) and option errors.
//
// Statistical checks use tolerances of a few standard errors, sqrt(p (1 - p) / n) for a
// proportion p estimated from n samples, and run for several seeds.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include <ATen/CPUGeneratorImpl.h>

#include "winnow/core/config.h"
#include "winnow/core/error.h"
#include "winnow/data/dataset.h"
#include "winnow/noise/noise.h"

using winnow::Config;
using winnow::Dataset;
using winnow::NoiseModel;
using winnow::NoiseRegistry;
using winnow::NoiseResult;

namespace {

constexpr int64_t kSamples = 20000;
constexpr int64_t kClasses = 10;

Config config_from(const std::string& toml) { return Config::from_string(toml, "test.toml"); }

std::unique_ptr<NoiseModel> make(const std::string& toml) {
  Config config = config_from(toml);
  return winnow::make_noise(config);
}

// Labels drawn uniformly over the classes, and inputs uniform in [0, 1] shaped like small
// 3-channel images (the instance-dependent model reads them; the others ignore them).
Dataset synthetic(int64_t n = kSamples, int64_t k = kClasses, uint64_t seed = 7) {
  auto generator = at::make_generator<at::CPUGeneratorImpl>(seed);
  Dataset data;
  data.name = "synthetic";
  data.num_classes = k;
  data.labels = torch::randint(0, k, {n}, generator, torch::kInt64);
  data.inputs = torch::rand({n, 3, 4, 4}, generator, torch::kFloat32);
  return data;
}

// The message of the winnow::Error `body` throws; fails the test when it throws nothing.
template <typename Body>
std::string error_of(Body body) {
  try {
    body();
  } catch (const winnow::Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a winnow::Error";
  return "";
}

void expect_contains(const std::string& text, const std::string& part) {
  EXPECT_NE(text.find(part), std::string::npos) << "'" << part << "' not in: " << text;
}

// Checks the bookkeeping every draw must satisfy.
void expect_consistent_record(const NoiseResult& result, const torch::Tensor& truth, int64_t k) {
  ASSERT_EQ(result.noisy_labels.scalar_type(), torch::kInt64);
  ASSERT_EQ(result.noisy_labels.sizes(), truth.sizes());
  EXPECT_GE(result.noisy_labels.min().item<int64_t>(), 0);
  EXPECT_LT(result.noisy_labels.max().item<int64_t>(), k);
  EXPECT_TRUE(result.flip_mask.equal(result.noisy_labels.ne(truth)));
  EXPECT_NEAR(result.actual_rate, result.flip_mask.to(torch::kFloat64).mean().item<double>(),
              1e-12);
  ASSERT_EQ(result.transition.sizes(), (std::vector<int64_t>{k, k}));
  EXPECT_TRUE(result.transition.sum(1).allclose(torch::ones({k}, torch::kFloat64), 0, 1e-12));
}

// |empirical - expected| within `z` standard errors of a proportion, entry by entry, with n_i
// the number of samples of true class i.
void expect_transition_near(const torch::Tensor& empirical, const torch::Tensor& expected,
                            const torch::Tensor& truth, double z = 5.0) {
  const int64_t k = expected.size(0);
  torch::Tensor counts = torch::bincount(truth, {}, k).to(torch::kFloat64).unsqueeze(1);
  torch::Tensor se = (expected * (1 - expected) / counts).sqrt();
  torch::Tensor excess = (empirical - expected).abs() - (z * se + 1e-9);
  EXPECT_LE(excess.max().item<double>(), 0.0) << "empirical:\n"
                                              << empirical << "\nexpected:\n"
                                              << expected;
}

double normal_pdf(double z) { return std::exp(-0.5 * z * z) / std::sqrt(2.0 * M_PI); }
double normal_cdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

// Mean of N(mu, sigma^2) truncated to [0, 1]:
// mu + sigma (phi(alpha) - phi(beta)) / (Phi(beta) - Phi(alpha)).
double truncated_normal_mean(double mu, double sigma) {
  double alpha = (0.0 - mu) / sigma;
  double beta = (1.0 - mu) / sigma;
  return mu +
         sigma * (normal_pdf(alpha) - normal_pdf(beta)) / (normal_cdf(beta) - normal_cdf(alpha));
}

std::string rate_toml(const std::string& type, double rate) {
  std::string toml = "[noise]\ntype = '" + type + "'\nrate = " + std::to_string(rate) + "\n";
  if (type == "classmap") toml += "map = 'cifar10'\n";
  return toml;
}

std::vector<std::string> simulator_types() {
  std::vector<std::string> types;
  for (const auto& name : NoiseRegistry::instance().names()) {
    if (name != "none") types.push_back(name);
  }
  return types;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Registry and construction

TEST(NoiseRegistry, ListsEveryType) {
  for (const char* name :
       {"none", "symmetric", "symmetric_exact", "pairflip", "classmap", "instance"}) {
    EXPECT_TRUE(NoiseRegistry::instance().contains(name)) << name;
    EXPECT_FALSE(NoiseRegistry::instance().get(name).description.empty()) << name;
  }
}

TEST(NoiseConfig, NoneAndAbsentGiveNoModel) {
  EXPECT_EQ(make(""), nullptr);
  EXPECT_EQ(make("[noise]\ntype = 'none'\n"), nullptr);
  Config config;
  winnow::make_noise(config);
  expect_contains(config.resolved_toml(), "none");
}

TEST(NoiseConfig, UnknownTypeListsKnownTypes) {
  std::string what = error_of([] { make("[noise]\ntype = 'symetric'\nrate = 0.2\n"); });
  expect_contains(what, "symetric");
  expect_contains(what, "symmetric_exact");
  expect_contains(what, "pairflip");
}

TEST(NoiseConfig, MissingRateNamesKeyAndRange) {
  for (const auto& type : simulator_types()) {
    std::string toml = "[noise]\ntype = '" + type + "'\n";
    if (type == "classmap") toml += "map = 'mnist'\n";
    std::string what = error_of([&] { make(toml); });
    expect_contains(what, "noise.rate");
    expect_contains(what, "required");
    expect_contains(what, "'" + type + "'");
    expect_contains(what, "0 <= rate < 1");
  }
}

TEST(NoiseConfig, RateOutOfRangeNamesKeyValueAndRange) {
  for (const auto& type : simulator_types()) {
    for (const char* rate : {"-0.1", "1.0", "1.5", "nan"}) {
      std::string toml = "[noise]\ntype = '" + type + "'\nrate = " + rate + "\n";
      if (type == "classmap") toml += "map = 'mnist'\n";
      std::string what = error_of([&] { make(toml); });
      expect_contains(what, "test.toml");
      expect_contains(what, "noise.rate = ");
      expect_contains(what, "0 <= rate < 1");
    }
    EXPECT_NE(make(rate_toml(type, 0.0)), nullptr) << type;
    EXPECT_NE(make(rate_toml(type, 0.99)), nullptr) << type;
  }
}

TEST(NoiseConfig, InstanceOptionsAreChecked) {
  for (const char* bad : {"0", "-0.1", "1.5"}) {
    std::string what = error_of(
        [&] { make(std::string("[noise]\ntype='instance'\nrate=0.2\nrate_std=") + bad + "\n"); });
    expect_contains(what, "noise.rate_std");
    expect_contains(what, "0 < rate_std <= 1");
  }
  for (const char* bad : {"0", "-1", "inf"}) {
    std::string what = error_of([&] {
      make(std::string("[noise]\ntype='instance'\nrate=0.2\ninput_scale=") + bad + "\n");
    });
    expect_contains(what, "noise.input_scale");
  }
  auto model = make("[noise]\ntype='instance'\nrate=0.2\n");
  EXPECT_EQ(model->describe(), "instance rate=0.2 rate_std=0.1 input_scale=255");
}

TEST(NoiseConfig, KeysOfOtherTypesAreUnknown) {
  // `map` belongs to classmap: with symmetric noise nobody reads it, so it is reported.
  Config config = config_from("[noise]\ntype = 'symmetric'\nrate = 0.2\nmap = 'mnist'\n");
  winnow::make_noise(config);
  std::string what = error_of([&] { config.check_unknown(); });
  expect_contains(what, "noise.map");
}

TEST(NoiseConfig, DescribeNamesHyperParameters) {
  EXPECT_EQ(make(rate_toml("symmetric", 0.4))->describe(), "symmetric rate=0.4");
  EXPECT_EQ(make(rate_toml("symmetric_exact", 0.25))->describe(), "symmetric_exact rate=0.25");
  EXPECT_EQ(make(rate_toml("pairflip", 0.45))->describe(), "pairflip rate=0.45");
  EXPECT_EQ(make("[noise]\ntype='classmap'\nrate=0.3\nmap='fashion-mnist'\n")->describe(),
            "classmap rate=0.3 map=0:6,2:4,5:7,7:5 (preset fashion-mnist)");
  EXPECT_EQ(make("[noise]\ntype='classmap'\nrate=0.3\nmap='1:2'\n")->describe(),
            "classmap rate=0.3 map=1:2");
}

// ---------------------------------------------------------------------------------------------
// summarize_noise / apply_noise

TEST(NoiseSummary, CountsByHand) {
  // true [0 0 1 1 2], noisy [0 1 1 1 0], K = 4: class 0 keeps 1 of 2, class 1 keeps both,
  // class 2 goes to 0, class 3 is absent (identity row). 2 of 5 flipped.
  auto truth = torch::tensor({0, 0, 1, 1, 2}, torch::kInt64);
  auto noisy = torch::tensor({0, 1, 1, 1, 0}, torch::kInt64);
  NoiseResult result = winnow::summarize_noise(truth, noisy, 4);
  auto expected = torch::tensor({0.5, 0.5, 0.0, 0.0,  //
                                 0.0, 1.0, 0.0, 0.0,  //
                                 1.0, 0.0, 0.0, 0.0,  //
                                 0.0, 0.0, 0.0, 1.0},
                                torch::kFloat64)
                      .view({4, 4});
  EXPECT_TRUE(result.transition.equal(expected)) << result.transition;
  EXPECT_DOUBLE_EQ(result.actual_rate, 0.4);
  EXPECT_TRUE(result.flip_mask.equal(torch::tensor({false, true, false, false, true})));
}

TEST(NoiseSummary, RejectsMismatchedOrOutOfRangeLabels) {
  auto three = torch::tensor({0, 1, 2}, torch::kInt64);
  EXPECT_THROW(winnow::summarize_noise(three, torch::tensor({0, 1}, torch::kInt64), 3),
               winnow::Error);
  expect_contains(error_of([&] { winnow::summarize_noise(three, three, 2); }), "allowed [0, 1]");
}

TEST(NoiseSummary, ApplyKeepsTheTruth) {
  Dataset data = synthetic(100);
  torch::Tensor clean = data.labels.clone();
  NoiseResult result = make(rate_toml("symmetric", 0.5))->apply(data, 1);
  winnow::apply_noise(data, result);
  EXPECT_TRUE(data.true_labels.equal(clean));
  EXPECT_TRUE(data.labels.equal(result.noisy_labels));
  EXPECT_TRUE(data.labels.ne(data.true_labels).equal(result.flip_mask));
  // Noise on top of known clean labels keeps the original truth.
  NoiseResult again = make(rate_toml("symmetric", 0.5))->apply(data, 2);
  winnow::apply_noise(data, again);
  EXPECT_TRUE(data.true_labels.equal(clean));
  Dataset other = synthetic(50);
  EXPECT_THROW(winnow::apply_noise(other, result), winnow::Error);
}

// ---------------------------------------------------------------------------------------------
// Class-conditional simulators

TEST(NoiseSymmetric, RateAndTransitionMatchExpected) {
  const double rate = 0.4;
  auto model = make(rate_toml("symmetric", rate));
  for (uint64_t seed : {1, 2, 3, 4}) {
    Dataset data = synthetic(kSamples, kClasses, 100 + seed);
    NoiseResult result = model->apply(data, seed);
    expect_consistent_record(result, data.labels, kClasses);
    double se = std::sqrt(rate * (1 - rate) / kSamples);
    EXPECT_NEAR(result.actual_rate, rate, 4 * se) << "seed " << seed;
    torch::Tensor expected = model->expected_transition(kClasses);
    // T_ii = 1 - r, T_ij = r / (K - 1) (Han et al. 2018, symmetry flipping).
    EXPECT_DOUBLE_EQ(expected[0][0].item<double>(), 0.6);
    EXPECT_DOUBLE_EQ(expected[3][7].item<double>(), 0.4 / 9);
    expect_transition_near(result.transition, expected, data.labels);
  }
}

TEST(NoiseSymmetric, ZeroRateChangesNothing) {
  for (const auto& type : {"symmetric", "symmetric_exact", "pairflip", "classmap"}) {
    Dataset data = synthetic(1000);
    NoiseResult result = make(rate_toml(type, 0.0))->apply(data, 3);
    EXPECT_TRUE(result.noisy_labels.equal(data.labels)) << type;
    EXPECT_EQ(result.actual_rate, 0.0) << type;
  }
}

TEST(NoiseSymmetric, WorksForTwoClasses) {
  Dataset data = synthetic(kSamples, 2);
  NoiseResult result = make(rate_toml("symmetric", 0.3))->apply(data, 5);
  expect_consistent_record(result, data.labels, 2);
  EXPECT_NEAR(result.actual_rate, 0.3, 4 * std::sqrt(0.3 * 0.7 / kSamples));
}

TEST(NoiseSymmetricExact, FlipsExactlyRoundedCountPerClass) {
  // Unequal classes: class c has 100 + 37 c samples, in shuffled order.
  std::vector<int64_t> values;
  for (int64_t c = 0; c < kClasses; ++c) {
    for (int64_t i = 0; i < 100 + 37 * c; ++i) values.push_back(c);
  }
  auto generator = at::make_generator<at::CPUGeneratorImpl>(11);
  torch::Tensor labels = torch::tensor(values, torch::kInt64);
  labels = labels.index_select(0, torch::randperm(labels.size(0), generator, torch::kInt64));
  Dataset data;
  data.name = "uneven";
  data.num_classes = kClasses;
  data.labels = labels;
  data.inputs = torch::zeros({labels.size(0), 1});

  for (double rate : {0.1, 0.35, 0.8}) {
    auto model = make(rate_toml("symmetric_exact", rate));
    for (uint64_t seed : {1, 2, 3}) {
      NoiseResult result = model->apply(data, seed);
      expect_consistent_record(result, labels, kClasses);
      for (int64_t c = 0; c < kClasses; ++c) {
        torch::Tensor members = labels.eq(c);
        int64_t n_c = members.sum().item<int64_t>();
        int64_t flipped = result.flip_mask.logical_and(members).sum().item<int64_t>();
        EXPECT_EQ(flipped, std::llround(rate * static_cast<double>(n_c)))
            << "class " << c << " rate " << rate << " seed " << seed;
      }
    }
  }
}

TEST(NoiseSymmetricExact, FlippedLabelsAreUniformOverOtherClasses) {
  const double rate = 0.5;
  auto model = make(rate_toml("symmetric_exact", rate));
  Dataset data = synthetic();
  NoiseResult result = model->apply(data, 9);
  expect_consistent_record(result, data.labels, kClasses);
  expect_transition_near(result.transition, model->expected_transition(kClasses), data.labels);
}

TEST(NoisePairFlip, MovesOnlyToTheNextClass) {
  const double rate = 0.45;
  auto model = make(rate_toml("pairflip", rate));
  for (uint64_t seed : {1, 2, 3}) {
    Dataset data = synthetic(kSamples, kClasses, 200 + seed);
    NoiseResult result = model->apply(data, seed);
    expect_consistent_record(result, data.labels, kClasses);
    torch::Tensor next = (data.labels + 1).remainder(kClasses);
    EXPECT_TRUE(result.noisy_labels.eq(data.labels)
                    .logical_or(result.noisy_labels.eq(next))
                    .all()
                    .item<bool>());
    EXPECT_NEAR(result.actual_rate, rate, 4 * std::sqrt(rate * (1 - rate) / kSamples));
    torch::Tensor expected = model->expected_transition(kClasses);
    EXPECT_DOUBLE_EQ(expected[9][0].item<double>(), rate);  // wraps around: K-1 -> 0
    EXPECT_DOUBLE_EQ(expected[4][5].item<double>(), rate);
    EXPECT_DOUBLE_EQ(expected[4][4].item<double>(), 1 - rate);
    EXPECT_DOUBLE_EQ(expected.sum().item<double>(), kClasses);
    expect_transition_near(result.transition, expected, data.labels);
  }
}

TEST(NoiseClassMap, UserMapMovesOnlyMappedClasses) {
  const double rate = 0.4;
  auto as_string = make("[noise]\ntype='classmap'\nrate=0.4\nmap='0:6, 2:4,5:7,7:5'\n");
  auto as_array = make("[noise]\ntype='classmap'\nrate=0.4\nmap=['0:6', '2:4', '5:7', '7:5']\n");
  Dataset data = synthetic();
  NoiseResult result = as_string->apply(data, 4);
  expect_consistent_record(result, data.labels, kClasses);
  EXPECT_TRUE(result.noisy_labels.equal(as_array->apply(data, 4).noisy_labels));

  std::vector<int64_t> target = {6, 1, 4, 3, 4, 7, 6, 5, 8, 9};  // unmapped classes map to self
  torch::Tensor allowed = torch::tensor(target, torch::kInt64).index_select(0, data.labels);
  EXPECT_TRUE(result.noisy_labels.eq(data.labels)
                  .logical_or(result.noisy_labels.eq(allowed))
                  .all()
                  .item<bool>());
  for (int64_t c : {1, 3, 4, 6, 8, 9}) {
    EXPECT_EQ(result.flip_mask.logical_and(data.labels.eq(c)).sum().item<int64_t>(), 0) << c;
  }
  torch::Tensor expected = as_string->expected_transition(kClasses);
  EXPECT_DOUBLE_EQ(expected[0][6].item<double>(), rate);
  EXPECT_DOUBLE_EQ(expected[0][0].item<double>(), 1 - rate);
  EXPECT_DOUBLE_EQ(expected[1][1].item<double>(), 1.0);
  EXPECT_TRUE(expected.equal(as_array->expected_transition(kClasses)));
  expect_transition_near(result.transition, expected, data.labels);
}

TEST(NoiseClassMap, PresetsFollowTheLiterature) {
  struct Case {
    const char* preset;
    std::vector<std::pair<int64_t, int64_t>> pairs;
  };
  const std::vector<Case> cases = {
      {"fashion-mnist", {{0, 6}, {2, 4}, {5, 7}, {7, 5}}},
      {"mnist", {{7, 1}, {2, 7}, {5, 6}, {6, 5}, {3, 8}}},
      {"cifar10", {{9, 1}, {2, 0}, {3, 5}, {5, 3}, {4, 7}}},
  };
  const double rate = 0.3;
  for (const auto& c : cases) {
    auto model = make(std::string("[noise]\ntype='classmap'\nrate=0.3\nmap='") + c.preset + "'\n");
    torch::Tensor expected = torch::eye(kClasses, torch::kFloat64);
    for (const auto& [src, dst] : c.pairs) {
      expected[src][src] = 1 - rate;
      expected[src][dst] = rate;
    }
    EXPECT_TRUE(model->expected_transition(kClasses).equal(expected)) << c.preset;
    Dataset data = synthetic();
    NoiseResult result = model->apply(data, 8);
    expect_consistent_record(result, data.labels, kClasses);
    expect_transition_near(result.transition, expected, data.labels);
  }
}

TEST(NoiseClassMap, BadMapsNameTheMapAndWhatIsAllowed) {
  struct Case {
    const char* map;
    const char* says;
  };
  for (const Case& c : std::vector<Case>{{"'0:0'", "itself"},
                                         {"'0:6,0:5'", "mapped twice"},
                                         {"'a:b'", "cannot parse"},
                                         {"'0-6'", "cannot parse"},
                                         {"'-1:3'", "cannot parse"},
                                         {"'0:6,'", "cannot parse"},
                                         {"''", "empty"},
                                         {"[]", "empty"},
                                         {"'fmnist'", "fashion-mnist, mnist, cifar10"},
                                         {"[1, 2]", "noise.map"}}) {
    std::string what =
        error_of([&] { make(std::string("[noise]\ntype='classmap'\nrate=0.2\nmap=") + c.map); });
    expect_contains(what, "noise.map");
    expect_contains(what, c.says);
  }
  expect_contains(error_of([] { make("[noise]\ntype='classmap'\nrate=0.2\n"); }), "noise.map");

  // Range is known only once the data set is: checked at apply().
  auto model = make("[noise]\ntype='classmap'\nrate=0.2\nmap='0:6,3:12'\n");
  Dataset data = synthetic(100);
  std::string what = error_of([&] { model->apply(data, 1); });
  expect_contains(what, "0:6,3:12");
  expect_contains(what, "3:12");
  expect_contains(what, "0..9");
  EXPECT_THROW(model->expected_transition(kClasses), winnow::Error);
}

// ---------------------------------------------------------------------------------------------
// Instance-dependent noise (Xia et al., NeurIPS 2020)

TEST(NoiseInstance, RateAndPerSampleDistributions) {
  const double rate = 0.3;
  auto model = make(rate_toml("instance", rate));
  EXPECT_FALSE(model->expected_transition(kClasses).defined());
  for (uint64_t seed : {1, 2, 3}) {
    Dataset data = synthetic(kSamples, kClasses, 300 + seed);
    NoiseResult result = model->apply(data, seed);
    expect_consistent_record(result, data.labels, kClasses);

    torch::Tensor rows = model->sample_transitions(data, seed);
    ASSERT_EQ(rows.sizes(), (std::vector<int64_t>{kSamples, kClasses}));
    EXPECT_TRUE(rows.sum(1).allclose(torch::ones({kSamples}, torch::kFloat64), 0, 1e-9));
    EXPECT_GE(rows.min().item<double>(), 0.0);
    // q_i = 1 - P(noisy = y_i | x_i) follows N(r, 0.1^2) truncated to [0, 1].
    torch::Tensor q = 1 - rows.gather(1, data.labels.unsqueeze(1)).squeeze(1);
    EXPECT_GE(q.min().item<double>(), 0.0);
    EXPECT_LE(q.max().item<double>(), 1.0);
    EXPECT_NEAR(q.mean().item<double>(), truncated_normal_mean(rate, 0.1), 0.003);
    // Realised rate against its expectation, mean q_i; SE <= sqrt(0.25 / n).
    EXPECT_NEAR(result.actual_rate, q.mean().item<double>(), 4 * std::sqrt(0.25 / kSamples));
    EXPECT_NEAR(result.actual_rate, rate, 0.02);

    // The empirical transition of each class matches the mean of its samples' rows.
    torch::Tensor mean_rows = torch::zeros({kClasses, kClasses}, torch::kFloat64);
    mean_rows.index_add_(0, data.labels, rows);
    mean_rows /= torch::bincount(data.labels, {}, kClasses).to(torch::kFloat64).unsqueeze(1);
    expect_transition_near(result.transition, mean_rows, data.labels);

    // Samples of one class have different distributions: their flip targets differ.
    for (int64_t c = 0; c < kClasses; ++c) {
      torch::Tensor members = data.labels.eq(c).nonzero().view({-1});
      torch::Tensor class_rows = rows.index_select(0, members);
      class_rows.select(1, c).fill_(-1.0);
      int64_t distinct =
          torch::bincount(class_rows.argmax(1), {}, kClasses).gt(0).sum().item<int64_t>();
      EXPECT_GE(distinct, 3) << "class " << c;
    }
  }
}

TEST(NoiseInstance, FlipRatesAreTruncatedNotClamped) {
  // For r = 0.05, sd 0.1: the truncated normal on [0, 1] has mean 0.1009; clamping N(0.05, 0.1^2)
  // to [0, 1] would give 0.0698 and put mass 0.31 exactly at 0.
  auto model = make("[noise]\ntype='instance'\nrate=0.05\n");
  Dataset data = synthetic();
  torch::Tensor rows = model->sample_transitions(data, 12);
  torch::Tensor q = 1 - rows.gather(1, data.labels.unsqueeze(1)).squeeze(1);
  EXPECT_NEAR(truncated_normal_mean(0.05, 0.1), 0.1009, 1e-4);
  EXPECT_NEAR(q.mean().item<double>(), truncated_normal_mean(0.05, 0.1), 0.003);
  EXPECT_LT(q.le(1e-12).sum().item<int64_t>(), 5);
  EXPECT_GE(q.min().item<double>(), 0.0);
}

TEST(NoiseInstance, InputScaleControlsHowPeakedFlipsAre) {
  // At the official scale (raw 0..255 intensities) almost all of a sample's flip probability
  // goes to one class; at scale 1 it spreads more. Measured on the off-class share q p_j / q.
  Dataset data = synthetic(4000);
  auto peak_share = [&](const std::string& scale) {
    auto model = make("[noise]\ntype='instance'\nrate=0.3\ninput_scale=" + scale + "\n");
    torch::Tensor rows = model->sample_transitions(data, 3);
    torch::Tensor q = 1 - rows.gather(1, data.labels.unsqueeze(1)).squeeze(1);
    rows.scatter_(1, data.labels.unsqueeze(1), 0.0);
    return (std::get<0>(rows.max(1)) / q).mean().item<double>();
  };
  double official = peak_share("255");
  double unit = peak_share("1");
  EXPECT_GT(official, 0.95);
  EXPECT_LT(unit, official - 0.05);
}

TEST(NoiseInstance, NeedsInputsForEveryLabel) {
  auto model = make(rate_toml("instance", 0.2));
  Dataset data = synthetic(100);
  data.inputs = data.inputs.narrow(0, 0, 50);
  expect_contains(error_of([&] { model->apply(data, 1); }), "inputs");
}

// ---------------------------------------------------------------------------------------------
// Every registered simulator

TEST(NoiseAllTypes, DeterministicBySeedAndIndependentOfGlobalRng) {
  Dataset data = synthetic(5000);
  for (const auto& type : simulator_types()) {
    auto model = make(rate_toml(type, 0.3));
    torch::manual_seed(1);
    NoiseResult first = model->apply(data, 42);
    torch::manual_seed(999);
    torch::rand({100});
    NoiseResult second = model->apply(data, 42);
    NoiseResult other = model->apply(data, 43);
    EXPECT_TRUE(first.noisy_labels.equal(second.noisy_labels)) << type;
    EXPECT_FALSE(first.noisy_labels.equal(other.noisy_labels)) << type;
    EXPECT_TRUE(model->sample_transitions(data, 42).equal(model->sample_transitions(data, 42)))
        << type;
  }
}

TEST(NoiseAllTypes, RecordsAndPerSampleRowsAreConsistent) {
  Dataset data = synthetic(3000);
  for (const auto& type : simulator_types()) {
    auto model = make(rate_toml(type, 0.3));
    NoiseResult result = model->apply(data, 5);
    expect_consistent_record(result, data.labels, kClasses);
    torch::Tensor rows = model->sample_transitions(data, 5);
    // The realised rate against its expectation, the mean flip probability of the samples.
    double expected_rate = (1 - rows.gather(1, data.labels.unsqueeze(1))).mean().item<double>();
    EXPECT_NEAR(result.actual_rate, expected_rate, 4 * std::sqrt(0.25 / data.size())) << type;
    ASSERT_EQ(rows.sizes(), (std::vector<int64_t>{data.size(), kClasses})) << type;
    EXPECT_TRUE(rows.sum(1).allclose(torch::ones({data.size()}, torch::kFloat64), 0, 1e-9)) << type;
    torch::Tensor expected = model->expected_transition(kClasses);
    if (expected.defined()) {
      EXPECT_TRUE(rows.equal(expected.index_select(0, data.labels))) << type;
      EXPECT_TRUE(expected.sum(1).allclose(torch::ones({kClasses}, torch::kFloat64))) << type;
    }
    // An empty data set gives an empty record.
    Dataset empty = data.subset(torch::zeros({0}, torch::kInt64));
    NoiseResult none = model->apply(empty, 5);
    EXPECT_EQ(none.noisy_labels.numel(), 0) << type;
    EXPECT_EQ(none.actual_rate, 0.0) << type;
    EXPECT_TRUE(none.transition.equal(torch::eye(kClasses, torch::kFloat64))) << type;
    // Labels out of range are refused, not wrapped.
    Dataset bad = data;
    bad.labels = data.labels.clone();
    bad.labels[0] = kClasses;
    expect_contains(error_of([&] { model->apply(bad, 1); }), "allowed [0, 9]");
  }
}
