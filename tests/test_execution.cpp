// train.precision / train.channels_last (core/execution.h): the "auto" rule, bf16 forward
// passes that return fp32 and track the fp32 ones, gradients reaching fp32 master weights,
// no stale weight casts after an optimizer step, small-loss selection that bf16 does not
// sway, and bit-identical reruns in bf16.
#include <gtest/gtest.h>

#include <ATen/autocast_mode.h>

#include <string>

#include "winnow/core/config.h"
#include "winnow/core/error.h"
#include "winnow/core/execution.h"
#include "winnow/models/network.h"

using namespace winnow;

namespace {

std::shared_ptr<Network> build(const std::string& name, const std::vector<int64_t>& shape, Execution execution,
                               uint64_t seed = 3) {
  Config config;
  config.set<std::string>("model.name", name);
  torch::manual_seed(seed);
  ModelSpec spec{shape, 10};
  spec.execution = execution;
  return make_model(spec, config);
}

Execution bf16(bool channels_last = false) { return Execution{Precision::kBf16, channels_last}; }

// Cosine similarity of two tensors, flattened.
double cosine(const torch::Tensor& a, const torch::Tensor& b) {
  return torch::cosine_similarity(a.flatten().to(torch::kDouble), b.flatten().to(torch::kDouble), 0).item<double>();
}

}  // namespace

TEST(Execution, AutoRule) {
  const torch::Device cpu(torch::kCPU), cuda(torch::kCUDA, 0);
  // conv model, CPU with native bf16: bf16 and channels-last.
  Execution e = resolve_execution("auto", "auto", /*convolutional=*/true, cpu, /*native_bf16=*/true);
  EXPECT_EQ(e.precision, Precision::kBf16);
  EXPECT_TRUE(e.channels_last);
  // the mlp stays fp32; so does every model on a CPU that would emulate bf16.
  e = resolve_execution("auto", "auto", false, cpu, true);
  EXPECT_EQ(e.precision, Precision::kFp32);
  EXPECT_FALSE(e.channels_last);
  e = resolve_execution("auto", "auto", true, cpu, false);
  EXPECT_EQ(e.precision, Precision::kFp32);
  EXPECT_FALSE(e.channels_last);
  // CUDA: bf16 for every model; channels-last only when asked.
  e = resolve_execution("auto", "auto", false, cuda, false);
  EXPECT_EQ(e.precision, Precision::kBf16);
  e = resolve_execution("auto", "auto", true, cuda, false);
  EXPECT_FALSE(e.channels_last);
  // Explicit values win; channels-last means nothing for a model without convolutions.
  e = resolve_execution("fp32", "on", true, cpu, true);
  EXPECT_EQ(e.precision, Precision::kFp32);
  EXPECT_TRUE(e.channels_last);
  e = resolve_execution("bf16", "off", true, cpu, false);
  EXPECT_EQ(e.precision, Precision::kBf16);
  EXPECT_FALSE(e.channels_last);
  EXPECT_FALSE(resolve_execution("bf16", "on", false, cpu, true).channels_last);
  try {
    resolve_execution("fp16", "auto", true, cpu, true);
    FAIL() << "fp16 accepted";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("train.precision = \"fp16\""), std::string::npos) << error.what();
  }
  EXPECT_THROW(resolve_execution("fp32", "yes", true, cpu, true), Error);
}

TEST(Execution, Bf16ForwardReturnsFp32AndTracksFp32) {
  for (const std::string name : {"mlp", "cnn4", "lenet5"}) {
    auto exact = build(name, {1, 28, 28}, Execution{});
    auto low = build(name, {1, 28, 28}, bf16(name != "mlp"));
    ASSERT_TRUE(torch::equal(exact->parameters()[0], low->parameters()[0]));  // same seed, same weights
    exact->eval();
    low->eval();
    torch::manual_seed(4);
    auto x = torch::randn({32, 1, 28, 28});
    torch::NoGradGuard no_grad;
    auto a = exact->forward(x), b = low->forward(x);
    EXPECT_EQ(b.scalar_type(), torch::kFloat) << name;
    EXPECT_EQ(low->embed(x).scalar_type(), torch::kFloat) << name;
    // bf16 keeps 8 significant bits: logits agree to a few percent of their spread.
    const double spread = a.std().item<double>();
    EXPECT_LT((a - b).abs().max().item<double>(), 0.05 * spread + 0.02) << name;
    EXPECT_GT(a.argmax(1).eq(b.argmax(1)).to(torch::kFloat).mean().item<double>(), 0.9) << name;
    // The scope is left: nothing after forward() runs under autocast.
    EXPECT_FALSE(at::autocast::is_cpu_enabled());
  }
}

TEST(Execution, Bf16GradientsReachFp32MasterWeights) {
  auto exact = build("cnn4", {1, 28, 28}, Execution{});
  auto low = build("cnn4", {1, 28, 28}, bf16(true));
  torch::manual_seed(5);
  auto x = torch::randn({64, 1, 28, 28});
  auto y = torch::randint(0, 10, {64}, torch::kInt64);
  torch::nn::functional::cross_entropy(exact->forward(x), y).backward();
  torch::nn::functional::cross_entropy(low->forward(x), y).backward();
  auto pa = exact->parameters(), pb = low->parameters();
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_EQ(pb[i].scalar_type(), torch::kFloat);
    ASSERT_TRUE(pb[i].grad().defined());
    EXPECT_EQ(pb[i].grad().scalar_type(), torch::kFloat);
    // A bias right before batch norm has a zero gradient in exact arithmetic (the norm
    // removes it); in either precision it is rounding noise, so only its size is checked.
    const double exact_norm = pa[i].grad().norm().item<double>();
    if (exact_norm < 1e-4) {
      EXPECT_LT(pb[i].grad().norm().item<double>(), 1e-2) << "parameter " << i;
    } else {
      EXPECT_GT(cosine(pa[i].grad(), pb[i].grad()), 0.98) << "parameter " << i;
    }
  }
}

TEST(Execution, Bf16SeesTheWeightsTheOptimizerJustUpdated) {
  // A cached bf16 copy of a weight would survive the in-place update: the second forward
  // would repeat the first.
  auto net = build("mlp", {1, 28, 28}, bf16());
  torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(0.5));
  auto x = torch::randn({16, 1, 28, 28});
  auto y = torch::randint(0, 10, {16}, torch::kInt64);
  auto first = net->forward(x);
  torch::nn::functional::cross_entropy(first, y).backward();
  sgd.step();
  auto second = net->forward(x);
  EXPECT_GT((first - second).abs().max().item<double>(), 1e-2);
}

TEST(Execution, ChannelsLastComputesTheSameFunction) {
  auto plain = build("cnn4", {1, 28, 28}, Execution{});
  auto nhwc = build("cnn4", {1, 28, 28}, Execution{Precision::kFp32, true});
  plain->eval();
  nhwc->eval();
  auto x = torch::randn({8, 1, 28, 28});
  torch::NoGradGuard no_grad;
  EXPECT_TRUE(torch::allclose(plain->forward(x), nhwc->forward(x), 1e-4, 1e-4));
}

TEST(Execution, Bf16DoesNotSwaySmallLossSelection) {
  // An mlp trained for a while on two separable classes with 30% flipped labels; the 50%
  // smallest per-sample losses under a bf16 forward are the fp32 ones (Co-teaching's and
  // DivideMix's selection read these losses).
  torch::manual_seed(6);
  const int64_t n = 2000;
  auto y_true = torch::randint(0, 2, {n}, torch::kInt64);
  auto x = torch::randn({n, 1, 28, 28}) + (y_true.to(torch::kFloat) * 2 - 1).view({n, 1, 1, 1}) * 0.15;
  auto flip = torch::rand({n}).lt(0.3);
  auto y = torch::where(flip, 1 - y_true, y_true);
  auto net = build("mlp", {1, 28, 28}, Execution{});
  torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(1e-3));
  for (int step = 0; step < 60; ++step) {
    auto idx = torch::randint(0, n, {128}, torch::kInt64);
    adam.zero_grad();
    torch::nn::functional::cross_entropy(net->forward(x.index_select(0, idx)), y.index_select(0, idx)).backward();
    adam.step();
  }
  torch::NoGradGuard no_grad;
  namespace F = torch::nn::functional;
  auto loss_fp32 = F::cross_entropy(net->forward(x), y, F::CrossEntropyFuncOptions().reduction(torch::kNone));
  net->set_execution(bf16());
  auto loss_bf16 = F::cross_entropy(net->forward(x), y, F::CrossEntropyFuncOptions().reduction(torch::kNone));
  const int64_t keep = n / 2;
  auto selected = [&](const torch::Tensor& loss) {
    auto mask = torch::zeros({n}, torch::kBool);
    mask.index_fill_(0, loss.argsort().slice(0, 0, keep), true);
    return mask;
  };
  const double overlap = selected(loss_fp32).logical_and(selected(loss_bf16)).sum().item<double>() / keep;
  EXPECT_GT(overlap, 0.97);
  // The selection still finds the clean labels as well as fp32 does.
  auto clean = flip.logical_not();
  const double precision_fp32 = selected(loss_fp32).logical_and(clean).sum().item<double>() / keep;
  const double precision_bf16 = selected(loss_bf16).logical_and(clean).sum().item<double>() / keep;
  EXPECT_NEAR(precision_fp32, precision_bf16, 0.01);
  EXPECT_GT(precision_fp32, 0.8);
}

TEST(Execution, Bf16TrainingIsReproducible) {
  auto run = [] {
    auto net = build("cnn4", {1, 28, 28}, bf16(true), 9);
    torch::optim::Adam adam(net->parameters(), torch::optim::AdamOptions(1e-3));
    torch::manual_seed(10);
    for (int step = 0; step < 3; ++step) {
      auto x = torch::randn({32, 1, 28, 28});
      auto y = torch::randint(0, 10, {32}, torch::kInt64);
      adam.zero_grad();
      torch::nn::functional::cross_entropy(net->forward(x), y).backward();
      adam.step();
    }
    return net->parameters();
  };
  auto a = run(), b = run();
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::equal(a[i], b[i])) << "parameter " << i;
}
