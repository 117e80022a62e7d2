// DivideMix and its two-component GMM: the EM fit against a mixture with known parameters,
// MixMatch's pieces against values worked out by hand, the co-divide exchange (each network
// trains on its peer's division), and the whole method on Gaussian blobs with 50% symmetric
// noise injected here, through the trainer with a resume.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "method_helpers.h"
#include "resume_helpers.h"
#include "test_helpers.h"
#include "winnow/core/error.h"
#include "winnow/estimate/noise_source.h"
#include "winnow/engine/trainer.h"
#include "winnow/eval/metrics.h"
#include "winnow/methods/dividemix.h"
#include "winnow/methods/gmm.h"
#include "winnow/methods/mixmatch.h"
#include "winnow/report/files.h"

using namespace winnow;
using winnow_test::TempDir;

namespace {

constexpr int64_t kClasses = 10;
constexpr int64_t kDims = 20;

// 10 Gaussian blobs in 20-D, then a `noise` fraction of labels moved uniformly to one of the
// other nine classes. Deterministic in `seed`.
Dataset noisy_blobs(int64_t n, uint64_t seed, double noise) {
  torch::Generator generator = at::detail::createCPUGenerator(seed);
  auto means = torch::randn({kClasses, kDims}, generator) * 1.5;
  Dataset data;
  data.name = "blobs";
  data.num_classes = kClasses;
  data.true_labels = torch::randint(kClasses, {n}, generator, torch::kInt64);
  data.inputs = means.index_select(0, data.true_labels) + torch::randn({n, kDims}, generator);
  data.labels = data.true_labels.clone();
  const auto flipped = static_cast<int64_t>(std::llround(noise * n));
  auto which = torch::randperm(n, generator, torch::kInt64).slice(0, 0, flipped);
  auto shift = torch::randint(1, kClasses, {flipped}, generator, torch::kInt64);
  data.labels.index_put_({which}, (data.true_labels.index_select(0, which) + shift).remainder(kClasses));
  return data;
}

TrainContext context_for(const Dataset& data, int64_t epochs, uint64_t seed) {
  TrainContext context;
  context.train = &data;
  context.model_spec = ModelSpec{data.sample_shape(), data.num_classes};
  context.epochs = epochs;
  context.seed = seed;
  context.noise_rate = 0.5;
  return context;
}

std::unique_ptr<DivideMix> make(const TrainContext& context, const std::string& extra = "") {
  return winnow_test::make_method_as<DivideMix>(
      context, "[model]\nname = 'mlp'\nhidden = [64]\n[optim]\nname = 'sgd'\nlr = 0.02\n"
               "momentum = 0.9\nweight_decay = 5e-4\n[method]\nname = 'dividemix'\n" + extra);
}

// MixMatch draws from torch's generator: reseed it per epoch.
std::vector<EpochLog> train(DivideMix& method, const Dataset& data, int64_t epochs, uint64_t seed) {
  return winnow_test::train_epochs(method, data, epochs, seed, /*reseed=*/true);
}

using winnow_test::value;

void expect_tensor_near(const torch::Tensor& actual, const torch::Tensor& expected, double tol) {
  ASSERT_EQ(actual.sizes(), expected.sizes());
  EXPECT_TRUE(torch::allclose(actual.to(torch::kFloat64), expected.to(torch::kFloat64), 0, tol))
      << actual << "\nexpected\n" << expected;
}

}  // namespace

TEST(Gmm, RecoversMeansVariancesAndWeightsOfAKnownMixture) {
  // 0.3 N(0.1, 0.05^2) + 0.7 N(0.6, 0.1^2), 20000 draws from a fixed generator.
  torch::Generator g = at::detail::createCPUGenerator(2020);
  const int64_t n = 20000;
  auto low = torch::rand({n}, g, torch::kFloat64).lt(0.3);
  auto x = torch::where(low, 0.1 + 0.05 * torch::randn({n}, g, torch::kFloat64),
                        0.6 + 0.1 * torch::randn({n}, g, torch::kFloat64));
  GmmOptions options;
  options.max_iter = 200;
  options.tol = 1e-9;
  options.reg_covar = 1e-6;
  GmmFit fit = fit_gmm2(x, options);
  EXPECT_TRUE(fit.converged);
  EXPECT_NEAR(fit.means[0], 0.1, 0.005);
  EXPECT_NEAR(fit.means[1], 0.6, 0.005);
  EXPECT_NEAR(std::sqrt(fit.variances[0]), 0.05, 0.003);
  EXPECT_NEAR(std::sqrt(fit.variances[1]), 0.1, 0.003);
  EXPECT_NEAR(fit.weights[0], 0.3, 0.01);
  EXPECT_NEAR(fit.weights[1], 0.7, 0.01);
  // The posterior of the low-mean component separates the two sources.
  ASSERT_EQ(fit.low_posterior.size(0), n);
  EXPECT_GT(auroc(fit.low_posterior, low), 0.99);
  // DivideMix's settings (10 iterations, tol 1e-2, reg_covar 5e-4) land close too: the
  // 2-means initialisation already starts near the answer.
  GmmFit quick = fit_gmm2(x);
  EXPECT_LE(quick.iterations, 10);
  EXPECT_NEAR(quick.means[0], 0.1, 0.02);
  EXPECT_NEAR(quick.means[1], 0.6, 0.02);
  EXPECT_NEAR(quick.weights[0], 0.3, 0.03);
}

TEST(Gmm, IsDeterministicOrdersByMeanAndValidates) {
  auto x = torch::tensor({0.9, 0.1, 0.12, 0.95, 0.11, 0.92, 0.08}, torch::kFloat64);
  GmmFit a = fit_gmm2(x), b = fit_gmm2(x);
  EXPECT_EQ(a.means[0], b.means[0]);
  EXPECT_TRUE(torch::equal(a.low_posterior, b.low_posterior));
  EXPECT_LT(a.means[0], a.means[1]);
  EXPECT_GT(a.low_posterior[1].item<double>(), 0.99);
  EXPECT_LT(a.low_posterior[0].item<double>(), 0.01);
  // Variance floor: a constant input gives finite posteriors.
  GmmFit flat = fit_gmm2(torch::zeros({10}));
  EXPECT_TRUE(torch::isfinite(flat.low_posterior).all().item<bool>());
  GmmOptions bad;
  bad.max_iter = 0;
  EXPECT_THROW(fit_gmm2(x, bad), Error);
  EXPECT_THROW(fit_gmm2(torch::tensor({1.0})), Error);
}

TEST(DivideMix, SharpenCoRefineCoGuessMatchHandComputation) {
  // [0.6, 0.4] at T = 0.5: [0.36, 0.16] / 0.52.
  expect_tensor_near(sharpen(torch::tensor({{0.6, 0.4}}), 0.5), torch::tensor({{0.36 / 0.52, 0.16 / 0.52}}), 1e-6);
  // Co-refinement: w = 0.6, y = e_0, views' mean [0.3, 0.4, 0.3] -> [0.72, 0.16, 0.12],
  // sharpened: [0.5184, 0.0256, 0.0144] / 0.5584.
  auto views = torch::tensor({{{0.2, 0.5, 0.3}}, {{0.4, 0.3, 0.3}}});
  expect_tensor_near(co_refine(torch::tensor({{1.0, 0.0, 0.0}}), torch::tensor({0.6}), views, 0.5),
                     torch::tensor({{0.5184 / 0.5584, 0.0256 / 0.5584, 0.0144 / 0.5584}}), 1e-6);
  // Co-guessing: the mean of four predictions [0.65, 0.35], sharpened: [0.4225, 0.1225] / 0.545.
  auto both = torch::tensor({{{0.9, 0.1}}, {{0.7, 0.3}}, {{0.6, 0.4}}, {{0.4, 0.6}}});
  expect_tensor_near(co_guess(both, 0.5), torch::tensor({{0.4225 / 0.545, 0.1225 / 0.545}}), 1e-6);
}

TEST(DivideMix, MixUpUsesTheLargerOfLambdaAndOneMinusLambda) {
  auto x = torch::tensor({{1.0}, {3.0}});
  auto t = torch::tensor({{1.0, 0.0}, {0.0, 1.0}});
  auto perm = torch::tensor({1, 0}, torch::kInt64);
  // lambda = 0.3 -> lambda' = 0.7: 0.7 * 1 + 0.3 * 3 = 1.6; 0.7 * 3 + 0.3 * 1 = 2.4.
  for (double lambda : {0.3, 0.7}) {
    Mixed m = mixup(x, t, lambda, perm);
    expect_tensor_near(m.inputs, torch::tensor({{1.6}, {2.4}}), 1e-6);
    expect_tensor_near(m.targets, torch::tensor({{0.7, 0.3}, {0.3, 0.7}}), 1e-6);
  }
  torch::Generator g = at::detail::createCPUGenerator(5);
  for (int i = 0; i < 100; ++i) {
    const double l = sample_mix_lambda(4.0, g);
    EXPECT_GE(l, 0.5);
    EXPECT_LE(l, 1.0);
  }
}

TEST(DivideMix, LossesPenaltyAndRampMatchHandComputation) {
  // logits [0, 0]: softmax [0.5, 0.5]; target e_0: Lx = log 2, Lu = (0.25 + 0.25) / 2.
  auto logits = torch::zeros({1, 2});
  auto target = torch::tensor({{1.0, 0.0}});
  EXPECT_NEAR(mixmatch_labelled_loss(logits, target).item<double>(), std::log(2.0), 1e-6);
  EXPECT_NEAR(mixmatch_unlabelled_loss(logits, target).item<double>(), 0.25, 1e-6);
  EXPECT_NEAR(uniform_prior_penalty(logits).item<double>(), 0.0, 1e-6);
  // softmax [0.75, 0.25]: 0.5 log(0.5 / 0.75) + 0.5 log(0.5 / 0.25).
  auto skewed = torch::tensor({{std::log(3.0), 0.0}});
  EXPECT_NEAR(uniform_prior_penalty(skewed).item<double>(), 0.5 * std::log(0.5 / 0.75) + 0.5 * std::log(2.0), 1e-6);
  EXPECT_NEAR(negative_entropy(skewed).item<double>(), 0.75 * std::log(0.75) + 0.25 * std::log(0.25), 1e-6);
  // Official linear_rampup: lambda_u * clip((current - warm_up) / 16, 0, 1).
  EXPECT_EQ(lambda_u_ramp(25, 5, 10, 16), 0.0);
  EXPECT_NEAR(lambda_u_ramp(25, 18, 10, 16), 12.5, 1e-12);
  EXPECT_EQ(lambda_u_ramp(25, 40, 10, 16), 25.0);
}

TEST(DivideMix, EachNetworkTrainsOnItsPeersDivision) {
  auto p_first = torch::tensor({0.9f, 0.1f, 0.6f, 0.4f});
  auto p_second = torch::tensor({0.2f, 0.8f, 0.7f, 0.5f});
  CoDivision d = co_divide(p_first, p_second, 0.5);
  // Network 1 (first) gets network 2's split: labelled where p_second > 0.5.
  EXPECT_TRUE(torch::equal(d.first.labelled, torch::tensor({1, 2}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(d.first.unlabelled, torch::tensor({0, 3}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(d.first.clean_probability, p_second));
  EXPECT_TRUE(torch::equal(d.second.labelled, torch::tensor({0, 2}, torch::kInt64)));
  EXPECT_TRUE(torch::equal(d.second.clean_probability, p_first));

  // On the method: divide() gives network 0 the split of network 1's own GMM and vice versa.
  auto data = noisy_blobs(600, 3, 0.5);
  auto method = make(context_for(data, 3, 4), "warm_up = 1\n");
  train(*method, data, 2, 5);
  auto own_first = clean_probability(method->per_sample_losses(0, data), method->options().gmm);
  auto own_second = clean_probability(method->per_sample_losses(1, data), method->options().gmm);
  EXPECT_FALSE(torch::equal(own_first, own_second));
  CoDivision division = method->divide();
  EXPECT_TRUE(torch::equal(division.first.clean_probability, own_second));
  EXPECT_TRUE(torch::equal(division.second.clean_probability, own_first));
  EXPECT_TRUE(torch::equal(division.first.labelled, own_second.gt(0.5).nonzero().squeeze(1)));
}

TEST(DivideMix, SkipsALoneTrailingLabelledSampleOnABatchNormModel) {
  // cnn4's BatchNorm1d cannot normalise a batch of one in training mode, and co-refinement
  // runs the network in training mode: a labelled split of k * batch + 1 samples must not
  // crash. The batch size is chosen from the division the next epoch will make (the same:
  // the networks do not change in between and loss_average is 1).
  auto data = noisy_blobs(300, 41, 0.5);
  data.inputs = data.inputs.reshape({-1, 1, 4, 5});  // 20-D blobs as 4x5 one-channel images
  auto method = winnow_test::make_method_as<DivideMix>(
      context_for(data, 2, 5), "[model]\nname = 'cnn4'\n[optim]\nname = 'sgd'\nlr = 0.02\n"
                               "[method]\nname = 'dividemix'\nwarm_up = 1\n");
  train(*method, data, 1, 6);
  const int64_t n_first = method->divide().first.labelled.size(0);
  ASSERT_GE(n_first, 3);
  const int64_t batch = n_first - 1;  // network 0 trains on n_first = batch + 1 samples
  Batcher batcher(data, batch, /*shuffle=*/true, 7);
  batcher.begin_epoch(1);
  torch::manual_seed(8);
  method->set_training(true);
  EpochLog log;
  ASSERT_NO_THROW(log = method->train_epoch(1, batcher));
  EXPECT_EQ(value(log, "labelled_2"), static_cast<double>(n_first));  // network 2's split trains network 0
  EXPECT_TRUE(std::isfinite(value(log, "train_loss")));
}

TEST(DivideMix, LossHistoryAveragesTheLastEpochsAndRoundTrips) {
  LossHistory history(2);
  auto e1 = torch::tensor({0.0, 1.0, 0.5}, torch::kFloat64);
  auto e2 = torch::tensor({1.0, 0.0, 0.5}, torch::kFloat64);
  auto e3 = torch::tensor({0.2, 0.4, 0.0}, torch::kFloat64);
  EXPECT_TRUE(torch::allclose(history.push(e1), e1));  // one epoch so far: itself
  EXPECT_TRUE(torch::allclose(history.push(e2), torch::tensor({0.5, 0.5, 0.5}, torch::kFloat64)));
  // The oldest epoch drops out: mean of e2 and e3.
  EXPECT_TRUE(torch::allclose(history.push(e3), torch::tensor({0.6, 0.2, 0.25}, torch::kFloat64)));
  EXPECT_EQ(history.size(), 2);
  LossHistory restored(2);
  restored.restore(history.stacked());
  auto e4 = torch::tensor({0.0, 0.0, 1.0}, torch::kFloat64);
  EXPECT_TRUE(torch::allclose(restored.push(e4), history.push(e4)));
  LossHistory empty(3);
  empty.restore(LossHistory(3).stacked());
  EXPECT_EQ(empty.size(), 0);
  EXPECT_THROW(history.push(torch::zeros({4}, torch::kFloat64)), Error);  // another set's size
  EXPECT_THROW(LossHistory(0), Error);

  // In the method, loss_average = 3 fits each GMM to the mean of the last 3 co-divides'
  // normalised losses: four co-divides with a warm-up epoch (which changes the networks and
  // does not divide) between them.
  auto data = noisy_blobs(400, 5, 0.5);
  auto method = make(context_for(data, 3, 6), "warm_up = 1\nloss_average = 3\n");
  LossHistory expected(3);
  torch::Tensor averaged, latest;
  CoDivision division;
  for (uint64_t call = 0; call < 4; ++call) {
    train(*method, data, 1, 7 + call);
    latest = min_max_normalise(method->per_sample_losses(1, data));
    averaged = expected.push(latest);
    division = method->divide();
  }
  const GmmOptions& gmm = method->options().gmm;
  EXPECT_TRUE(torch::equal(division.first.clean_probability, clean_probability_of_normalised(averaged, gmm)));
  EXPECT_FALSE(torch::equal(division.first.clean_probability, clean_probability_of_normalised(latest, gmm)));
}

TEST(DivideMix, SeparatesNoisyLabelsOnBlobsAndIsDeterministic) {
  // 2000 blob samples, 50% symmetric noise: after 2 warm-up epochs and 4 of DivideMix the
  // clean probability ranks the wrong labels with AUROC > 0.9, for three seeds.
  for (uint64_t seed : {21u, 22u, 23u}) {
    auto data = noisy_blobs(2000, seed, 0.5);
    auto method = make(context_for(data, 6, seed + 100), "warm_up = 2\n");
    auto logs = train(*method, data, 6, seed + 200);
    EXPECT_EQ(value(logs[0], "warm_up"), 1.0);
    EXPECT_EQ(value(logs[2], "warm_up"), 0.0);
    for (const char* key : {"clean_auroc_1", "clean_auroc_2"}) {
      EXPECT_GT(value(logs.back(), key), 0.9) << key << " seed " << seed;
    }
    EXPECT_GT(value(logs.back(), "label_precision_1"), 0.85);
    EXPECT_GT(value(logs.back(), "divide_share"), 0.0);
    EXPECT_LT(value(logs.back(), "divide_share"), 1.0);
    // lambda_u ramps: (epoch + progress - warm_up) / 16 at the preset-free default 25.
    EXPECT_GT(value(logs.back(), "lambda_u"), 0.0);
    EXPECT_LT(value(logs.back(), "lambda_u"), 25.0 * 5.0 / 16.0);
    SampleScores s = method->score_samples(data);
    auto flips = data.labels.ne(data.true_labels);
    EXPECT_GT(auroc(1.0 - s.clean_score, flips), 0.9);
    EXPECT_TRUE(torch::equal(s.suspect, s.clean_score.le(0.5)));
  }
  // Same seed, same networks; another seed, other ones.
  auto data = noisy_blobs(500, 31, 0.5);
  auto a = make(context_for(data, 3, 7), "warm_up = 1\n");
  auto b = make(context_for(data, 3, 7), "warm_up = 1\n");
  auto c = make(context_for(data, 3, 8), "warm_up = 1\n");
  train(*a, data, 3, 9);
  train(*b, data, 3, 9);
  train(*c, data, 3, 9);
  for (size_t k = 0; k < 2; ++k) {
    auto pa = a->network(k).parameters(), pb = b->network(k).parameters(), pc = c->network(k).parameters();
    for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i]));
    EXPECT_FALSE(torch::equal(pa[0], pc[0]));
  }
  // Test time: predict() is the mean of the two networks' logits, and the trainer's one-pass
  // form gives exactly what the rules give one by one.
  torch::NoGradGuard no_grad;
  a->set_training(false);
  auto x = data.inputs.slice(0, 0, 7);
  auto first = a->network(0).forward(x), second = a->network(1).forward(x);
  EXPECT_TRUE(torch::allclose(a->predict(x), 0.5 * (first + second)));
  auto all = a->predict_all_rules(x);
  ASSERT_EQ(all.sizes(), (std::vector<int64_t>{3, 7, data.num_classes}));
  EXPECT_TRUE(torch::equal(all[0], a->predict(x)));
  EXPECT_TRUE(torch::equal(all[1], a->predict_variant("first", x)));
  EXPECT_TRUE(torch::equal(all[2], a->predict_variant("second", x)));
  EXPECT_THROW(a->predict_variant("third", x), Error);
}

TEST(DivideMix, OptionsAreValidatedByNameAndPresetsApply) {
  auto data = noisy_blobs(100, 16, 0.5);
  auto expect_error = [&](const std::string& extra, const std::string& needle) {
    try {
      make(context_for(data, 2, 1), extra);
      ADD_FAILURE() << "no error for " << extra;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_error("warm_up = -1\n", "method.warm_up");
  expect_error("p_threshold = 1.0\n", "method.p_threshold");
  expect_error("temperature = 0\n", "method.temperature");
  expect_error("alpha = 0\n", "method.alpha");
  expect_error("lambda_u = -1\n", "method.lambda_u");
  expect_error("rampup = 0\n", "method.rampup");
  expect_error("gmm_max_iter = 0\n", "method.gmm_max_iter");
  expect_error("gmm_reg_covar = 0\n", "method.gmm_reg_covar");
  expect_error("loss_average = 0\n", "method.loss_average");
  expect_error("preset = 'mnist'\n", "method.preset");
  expect_error("forget_rate = 0.2\n", "forget_rate");  // unknown key, not ignored
  EXPECT_EQ(make(context_for(data, 2, 1), "preset = 'cifar100'\n")->options().warm_up, 30);
  EXPECT_EQ(make(context_for(data, 2, 1), "preset = 'cifar100'\n")->options().lambda_u, 150.0);
  EXPECT_EQ(make(context_for(data, 2, 1), "preset = 'cifar10'\n")->options().lambda_u, 25.0);
  EXPECT_EQ(make(context_for(data, 2, 1), "preset = 'cifar10'\nlambda_u = 3\n")->options().lambda_u, 3.0);
  EXPECT_EQ(make(context_for(data, 2, 1), "preset = 'fashion_mnist'\n")->options().warm_up, 5);
  // MixUp alpha: CIFAR's 4, the Fashion-MNIST preset's 0.5 (short schedules), a set value wins.
  EXPECT_EQ(make(context_for(data, 2, 1), "preset = 'cifar10'\n")->options().alpha, 4.0);
  EXPECT_EQ(make(context_for(data, 2, 1), "preset = 'fashion_mnist'\n")->options().alpha, 0.5);
  EXPECT_EQ(make(context_for(data, 2, 1), "preset = 'fashion_mnist'\nalpha = 2\n")->options().alpha, 2.0);
  // At 90% noise the CIFAR presets raise tau to 0.6 and average 5 epochs of losses (Appendix B).
  auto ninety = context_for(data, 2, 1);
  ninety.noise_rate = 0.9;
  for (const char* preset : {"cifar10", "cifar100"}) {
    auto o = make(ninety, fmt::format("preset = '{}'\n", preset))->options();
    EXPECT_EQ(o.p_threshold, 0.6) << preset;
    EXPECT_EQ(o.loss_average, 5) << preset;
    EXPECT_EQ(o.lambda_u, std::string(preset) == "cifar10" ? 50.0 : 150.0) << preset;
  }
  EXPECT_EQ(make(context_for(data, 2, 1), "preset = 'cifar10'\n")->options().loss_average, 1);
  // The CIFAR presets keep the official (sklearn) GMM call; the others fit to convergence.
  EXPECT_EQ(make(context_for(data, 2, 1), "preset = 'cifar10'\n")->options().gmm.max_iter, 10);
  EXPECT_EQ(make(context_for(data, 2, 1), "preset = 'fashion_mnist'\n")->options().gmm.max_iter, 500);
  EXPECT_EQ(winnow_test::make_method_as<DivideMix>(
                context_for(data, 2, 1),
                "[noise]\ntype = 'classmap'\n[model]\nname = 'mlp'\n[method]\nname = 'dividemix'\n"
                "preset = 'fashion_mnist'\n")
                ->options()
                .gmm.max_iter,
            10);
  EXPECT_EQ(make(context_for(data, 2, 1), "preset = 'none'\ngmm_tol = 1e-3\n")->options().gmm.tol, 1e-3);
}

TEST(DivideMix, DivisionByCountTakesTheHighestPeerProbabilities) {
  auto p_first = torch::tensor({0.9f, 0.1f, 0.5f, 0.5f});
  auto p_second = torch::tensor({0.2f, 0.8f, 0.7f, 0.1f});
  auto division = co_divide_top(p_first, p_second, 2);
  // Network 0 trains on network 1's two most confident samples, and vice versa; exact ties
  // go to the earlier sample.
  EXPECT_TRUE(division.first.labelled.equal(torch::tensor({1, 2}, torch::kInt64)));
  EXPECT_TRUE(division.first.unlabelled.equal(torch::tensor({0, 3}, torch::kInt64)));
  EXPECT_TRUE(division.second.labelled.equal(torch::tensor({0, 2}, torch::kInt64)));
  EXPECT_EQ(co_divide_top(p_first, p_second, 0).first.labelled.numel(), 0);
}

// On a user's own labels the preset reads the estimate: its rate, and the asymmetric switch
// from the shape of the estimated T.
TEST(DivideMix, PresetTakesTheNoiseEstimateOnOwnLabels) {
  auto data = noisy_blobs(200, 1, 0.3);
  auto estimate_with = [](double rate, bool asymmetric) {
    return std::make_shared<NoiseSource>(std::nullopt, std::nullopt, [=] {
      NoiseEstimate e;
      e.noise_rate = rate;
      e.asymmetric = asymmetric;
      e.transition = torch::eye(2, torch::kFloat64);
      e.prior = torch::full({2}, 0.5, torch::kFloat64);
      return e;
    });
  };
  auto own = context_for(data, 2, 1);
  own.noise_rate.reset();
  own.noise_source = estimate_with(0.5, false);
  auto symmetric = make(own, "preset = 'cifar10'\n")->options();
  EXPECT_EQ(symmetric.lambda_u, 25.0);  // CIFAR-10 at 50% symmetric
  EXPECT_FALSE(symmetric.confidence_penalty);
  own.noise_source = estimate_with(0.4, true);
  auto asymmetric = make(own, "preset = 'cifar10'\n")->options();
  EXPECT_EQ(asymmetric.lambda_u, 0.0);  // CIFAR-10 asymmetric
  EXPECT_TRUE(asymmetric.confidence_penalty);
  // An estimated rate of asymmetric noise sets the size of the labelled set.
  EXPECT_EQ(asymmetric.divide_by, "rate");
  EXPECT_DOUBLE_EQ(asymmetric.noise_rate, 0.4);
  EXPECT_EQ(symmetric.divide_by, "gmm");
  ASSERT_EQ(own.noise_source->auto_settings().size(), 2u);
  EXPECT_EQ(own.noise_source->auto_settings()[0].first, "method.asymmetric");
  EXPECT_EQ(own.noise_source->auto_settings()[1].first, "method.noise_rate");
  // A value in the configuration wins over the estimate.
  own.noise_source = estimate_with(0.4, true);
  EXPECT_FALSE(make(own, "preset = 'cifar10'\nasymmetric = false\n")->options().confidence_penalty);
}

TEST(DivideMix, TrainerRunWritesMetricsHistogramsAndResumesBitIdentically) {
  const std::string text = R"(
[data]
name = "fashion-mnist"
subset = 1500
[noise]
type = "symmetric"
rate = 0.5
[model]
name = "mlp"
[method]
name = "dividemix"
warm_up = 1
loss_average = 2  # the resumed run must restore the loss history to match
[optim]
name = "sgd"
lr = 0.02
momentum = 0.9
[train]
epochs = 3
batch_size = 64
seed = 7
threads = 1
)";
  TempDir dir("dividemix");
  auto result = winnow_test::train_straight_and_resumed(text, dir, 2);

  auto a = read_json(dir / "straight/checkpoint/trainer.json")["metrics"];
  auto b = read_json(dir / "resumed/checkpoint/trainer.json")["metrics"];
  ASSERT_EQ(a.size(), 3u);
  ASSERT_EQ(b.size(), 3u);
  for (size_t e = 0; e < a.size(); ++e) {
    for (auto* m : {&a, &b}) {
      for (const char* key : {"epoch_seconds", "divide_seconds", "divide_share"}) (*m)[e].erase(key);
    }
  }
  for (const char* key : {"labelled_1", "label_precision_2", "clean_auroc_1", "lambda_u", "test_accuracy_first"}) {
    EXPECT_TRUE(a[2].contains(key)) << key;
  }
  EXPECT_EQ(a.dump(), b.dump());
  EXPECT_EQ(read_text(dir / "straight/samples.csv"), read_text(dir / "resumed/samples.csv"));
  EXPECT_TRUE(std::filesystem::exists(dir / "straight/loss_histogram_warmup.svg"));
  EXPECT_TRUE(std::filesystem::exists(dir / "straight/loss_histogram_final.svg"));
  EXPECT_NE(read_text(dir / "straight/loss_histogram_final.svg").find("noisy labels"), std::string::npos);
  ASSERT_TRUE(result.summary.contains("detection"));
  EXPECT_GT(result.summary["detection"]["auroc"].get<double>(), 0.8);
}
