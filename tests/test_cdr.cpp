// CDR (Xia et al., ICLR 2021): update rules against hand-computed values, exact critical
// counts, the long-run behaviour of critical and non-critical entries, checkpoint/resume and
// the registry entry.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <sstream>

#include "winnow/core/config.h"
#include "winnow/core/error.h"
#include "winnow/optim/cdr.h"
#include "winnow/optim/optimizer.h"
#include "winnow/optim/radix_select.h"

using winnow::CDR;
using winnow::CDROptions;
using winnow::CDRVariant;

namespace {

// Sets p.grad = c by back-propagating the linear loss sum(p * c).
void linear_backward(const std::vector<torch::Tensor>& params, const std::vector<torch::Tensor>& coefficients) {
  torch::Tensor loss = torch::zeros({});
  for (size_t i = 0; i < params.size(); ++i) loss = loss + (params[i] * coefficients[i]).sum();
  loss.backward();
}

torch::Tensor leaf(std::vector<float> values, std::vector<int64_t> shape) {
  return torch::tensor(values).reshape(shape).set_requires_grad(true);
}

void expect_values(const torch::Tensor& actual, std::vector<float> expected) {
  auto flat = actual.detach().reshape({-1});
  ASSERT_EQ(flat.numel(), static_cast<int64_t>(expected.size()));
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(flat[static_cast<int64_t>(i)].item<float>(), expected[i], 1e-6) << "entry " << i;
  }
}

}  // namespace

TEST(CdrOptimizer, PaperStepMatchesHandComputedUpdate) {
  // w = [1, -2, 0.5, -0.25], grad = [0.5, 0.1, -4, 1]: criticality |grad * w| = [0.5, 0.2, 2, 0.25].
  // tau = 0.5 -> floor(0.5 * 4) = 2 critical entries: 0 and 2. lr = 0.1, lambda = 0.01, momentum 0.
  //   w0 (critical)     = 1     - 0.1 * (0.5 * 0.5  + 0.01 * 1)  = 0.974
  //   w1 (non-critical) = -2    - 0.1 * (0.01 * -1)              = -1.999
  //   w2 (critical)     = 0.5   - 0.1 * (0.5 * -4   + 0.01 * 1)  = 0.699
  //   w3 (non-critical) = -0.25 - 0.1 * (0.01 * -1)              = -0.249
  auto w = leaf({1.0f, -2.0f, 0.5f, -0.25f}, {4});
  CDR optimizer({w}, CDROptions(0.1).momentum(0).tau(0.5).weight_decay(0.01));
  linear_backward({w}, {torch::tensor({0.5f, 0.1f, -4.0f, 1.0f})});
  optimizer.step();
  expect_values(w, {0.974f, -1.999f, 0.699f, -0.249f});
}

TEST(CdrOptimizer, OfficialStepMatchesHandComputedUpdate) {
  // Weight W (2x2) as in the paper test, bias b = [0.3, -0.6] with grad [0.2, -0.1].
  // Official variant: only W is split; the threshold is the floor(0.5 * 4) = 2nd largest
  // criticality of W, 0.5, and entries >= 0.5 are critical (0 and 2). L2: lambda * w.
  //   W00 = 1     - 0.1 * (0.5 * 0.5 + 0.01 * 1)      = 0.974
  //   W01 = -2    - 0.1 * (0.01 * -2)                 = -1.998
  //   W10 = 0.5   - 0.1 * (0.5 * -4  + 0.01 * 0.5)    = 0.6995
  //   W11 = -0.25 - 0.1 * (0.01 * -0.25)              = -0.24975
  //   b0  = 0.3   - 0.1 * (0.2  + 0.01 * 0.3)         = 0.2797   (plain SGD with L2)
  //   b1  = -0.6  - 0.1 * (-0.1 + 0.01 * -0.6)        = -0.5894
  auto W = leaf({1.0f, -2.0f, 0.5f, -0.25f}, {2, 2});
  auto b = leaf({0.3f, -0.6f}, {2});
  CDR optimizer({W, b}, CDROptions(0.1).momentum(0).tau(0.5).weight_decay(0.01).variant(CDRVariant::kOfficial));
  linear_backward({W, b}, {torch::tensor({0.5f, 0.1f, -4.0f, 1.0f}).reshape({2, 2}), torch::tensor({0.2f, -0.1f})});
  optimizer.step();
  expect_values(W, {0.974f, -1.998f, 0.6995f, -0.24975f});
  expect_values(b, {0.2797f, -0.5894f});
}

TEST(CdrOptimizer, MomentumIsSgdMomentum) {
  // tau = 0: every entry critical. w = 1, grad = 0.5, lambda = 0.01 (L1), lr = 0.1, momentum 0.9:
  //   step 1: d = 0.5 + 0.01 = 0.51, buf = 0.51,                 w = 1     - 0.051  = 0.949
  //   step 2: d = 0.51,              buf = 0.9 * 0.51 + 0.51 = 0.969, w = 0.949 - 0.0969 = 0.8521
  auto w = leaf({1.0f}, {1});
  CDR optimizer({w}, CDROptions(0.1).momentum(0.9).tau(0).weight_decay(0.01));
  for (int s = 0; s < 2; ++s) {
    optimizer.zero_grad();
    linear_backward({w}, {torch::tensor({0.5f})});
    optimizer.step();
  }
  expect_values(w, {0.8521f});
}

TEST(CdrOptimizer, OfficialWithTauZeroIsTorchSgd) {
  // With tau = 0 every entry is critical and the official variant is torch.optim.SGD with
  // momentum and L2 weight decay: the reference here is LibTorch's own SGD.
  torch::manual_seed(3);
  auto x = torch::randn({8, 5});
  auto y = torch::randn({8, 3});
  auto W1 = torch::randn({3, 5}).set_requires_grad(true);
  auto b1 = torch::randn({3}).set_requires_grad(true);
  auto W2 = W1.detach().clone().set_requires_grad(true);
  auto b2 = b1.detach().clone().set_requires_grad(true);
  CDR cdr({W1, b1}, CDROptions(0.05).momentum(0.9).tau(0).weight_decay(1e-3).variant(CDRVariant::kOfficial));
  torch::optim::SGD sgd({W2, b2}, torch::optim::SGDOptions(0.05).momentum(0.9).weight_decay(1e-3));
  for (int s = 0; s < 5; ++s) {
    cdr.zero_grad();
    sgd.zero_grad();
    ((x.mm(W1.t()) + b1).tanh() - y).pow(2).sum().backward();
    ((x.mm(W2.t()) + b2).tanh() - y).pow(2).sum().backward();
    cdr.step();
    sgd.step();
  }
  EXPECT_TRUE(torch::allclose(W1, W2, 1e-6, 1e-7));
  EXPECT_TRUE(torch::allclose(b1, b2, 1e-6, 1e-7));
}

TEST(CdrOptimizer, CriticalCountPerTensorIsExact) {
  // lambda = 0 and momentum 0: only critical entries move, so the number of changed entries
  // of each tensor is its critical count floor((1 - tau) * numel), counted by hand:
  //   numel 1,    tau 0.4  -> floor(0.6)    = 0
  //   numel 7,    tau 0.4  -> floor(4.2)    = 4
  //   numel 10,   tau 0.9  -> floor(1.0)    = 1   ((1 - 0.9) * 10 is 0.99999999999999978 in binary)
  //   numel 33,   tau 0.45 -> floor(18.15)  = 18
  //   numel 1000, tau 0.2  -> floor(800)    = 800
  // and they are the entries of largest |grad * w|.
  struct Case {
    int64_t numel;
    double tau;
    int64_t expected;
  };
  const Case cases[] = {{1, 0.4, 0}, {7, 0.4, 4}, {10, 0.9, 1}, {33, 0.45, 18}, {1000, 0.2, 800}};
  for (uint64_t seed : {1u, 2u, 3u}) {
    for (const auto& c : cases) {
      torch::manual_seed(seed);
      auto w = torch::randn({c.numel}).set_requires_grad(true);
      auto coefficient = torch::randn({c.numel});
      auto before = w.detach().clone();
      CDR optimizer({w}, CDROptions(0.1).momentum(0).tau(c.tau).weight_decay(0));
      linear_backward({w}, {coefficient});
      optimizer.step();
      EXPECT_EQ(winnow::cdr_critical_count(c.numel, c.tau), c.expected);
      auto moved = w.detach().ne(before);
      ASSERT_EQ(moved.sum().item<int64_t>(), c.expected) << "numel " << c.numel << " tau " << c.tau;
      auto criticality = (coefficient * before).abs();
      if (c.expected > 0 && c.expected < c.numel) {
        EXPECT_GE(criticality.masked_select(moved).min().item<float>(),
                  criticality.masked_select(moved.logical_not()).max().item<float>());
      }
    }
  }
  // Ties (all criticalities equal) still give the exact count.
  auto mask = winnow::cdr_critical_mask(torch::zeros({2, 5}), 3);
  EXPECT_EQ(mask.sum().item<float>(), 3.0f);
  EXPECT_EQ(mask.sizes().vec(), std::vector<int64_t>({2, 5}));
}

TEST(CdrOptimizer, OfficialSplitIsGlobalAcrossWeightTensors) {
  // Two 2x2 weights; every |grad * w| of A (>= 4) exceeds every one of B (<= 0.04). tau = 0.5:
  // the official threshold over all 8 entries is the 4th largest, so all of A is critical and
  // none of B (the paper's per-tensor rule would take 2 of each). lambda = 0, momentum 0.
  auto A = leaf({1.0f, 2.0f, 3.0f, 4.0f}, {2, 2});
  auto B = leaf({0.1f, 0.2f, 0.3f, 0.4f}, {2, 2});
  auto A0 = A.detach().clone();
  auto B0 = B.detach().clone();
  CDR optimizer({A, B}, CDROptions(0.1).momentum(0).tau(0.5).weight_decay(0).variant(CDRVariant::kOfficial));
  linear_backward({A, B}, {torch::full({2, 2}, 4.0f), torch::full({2, 2}, 0.1f)});
  optimizer.step();
  EXPECT_EQ(A.detach().ne(A0).sum().item<int64_t>(), 4);
  EXPECT_EQ(B.detach().ne(B0).sum().item<int64_t>(), 0);
}

TEST(CdrOptimizer, NonCriticalShrinkAndCriticalFollowGradientWithTauNearOne) {
  // 100 weights, tau = 0.9 -> 10 critical. The first 10 have grad -10 * sign(w) (criticality
  // >= 10 * 0.5), the other 90 grad 0.01 * sign(w) (criticality <= 0.01): the split never changes.
  // lr = 0.1, lambda = 0.1 (L1), momentum 0, 100 steps:
  //  - critical: |w| grows by lr * ((1 - tau) * 10 - lambda) = 0.1 * (1 - 0.1) = 0.09 per step,
  //    9 in all;
  //  - non-critical: |w| shrinks by lr * lambda = 0.01 per step until it reaches zero, then stays
  //    within lr * lambda = 0.01 of it (sign(w) flips around 0).
  torch::manual_seed(7);
  auto magnitude = torch::rand({100}) * 0.5 + 0.5;  // in [0.5, 1)
  auto sign = torch::where(torch::rand({100}) < 0.5, torch::full({100}, -1.0f), torch::ones({100}));
  auto w = (magnitude * sign).set_requires_grad(true);
  auto start = w.detach().clone();
  CDR optimizer({w}, CDROptions(0.1).momentum(0).tau(0.9).weight_decay(0.1));
  for (int s = 0; s < 100; ++s) {
    optimizer.zero_grad();
    auto scale = torch::cat({torch::full({10}, -10.0f), torch::full({90}, 0.01f)});
    linear_backward({w}, {scale * w.detach().sign()});
    optimizer.step();
  }
  auto now = w.detach();
  auto critical_growth = now.slice(0, 0, 10).abs() - start.slice(0, 0, 10).abs();
  EXPECT_TRUE(torch::allclose(critical_growth, torch::full({10}, 9.0f), 0, 1e-4)) << critical_growth;
  EXPECT_TRUE(torch::equal(now.slice(0, 0, 10).sign(), start.slice(0, 0, 10).sign()));
  EXPECT_LE(now.slice(0, 10).abs().max().item<float>(), 0.01f + 1e-6f);
}

TEST(CdrOptimizer, CheckpointAndResumeReplayExactly) {
  for (auto variant : {CDRVariant::kPaper, CDRVariant::kOfficial}) {
    torch::manual_seed(11);
    auto x = torch::randn({16, 6});
    auto y = torch::randn({16, 4});
    auto W0 = torch::randn({4, 6});
    auto b0 = torch::randn({4});
    const auto options = CDROptions(0.05).momentum(0.9).tau(0.4).weight_decay(1e-3).variant(variant);
    auto train = [&](torch::optim::Optimizer& optimizer, torch::Tensor& W, torch::Tensor& b, int steps) {
      for (int s = 0; s < steps; ++s) {
        optimizer.zero_grad();
        ((x.mm(W.t()) + b).tanh() - y).pow(2).sum().backward();
        optimizer.step();
      }
    };
    // Unbroken: 6 steps.
    auto W = W0.clone().set_requires_grad(true);
    auto b = b0.clone().set_requires_grad(true);
    CDR unbroken({W, b}, options);
    train(unbroken, W, b, 6);
    // 3 steps, checkpoint (weights and optimizer through a byte stream), a fresh optimizer,
    // load, 3 more steps.
    auto W1 = W0.clone().set_requires_grad(true);
    auto b1 = b0.clone().set_requires_grad(true);
    CDR first({W1, b1}, options);
    train(first, W1, b1, 3);
    std::stringstream bytes;
    {
      torch::serialize::OutputArchive archive;
      first.save(archive);
      archive.save_to(bytes);
    }
    auto W2 = W1.detach().clone().set_requires_grad(true);
    auto b2 = b1.detach().clone().set_requires_grad(true);
    CDR resumed({W2, b2}, options);
    {
      torch::serialize::InputArchive archive;
      archive.load_from(bytes);
      resumed.load(archive);
    }
    ASSERT_EQ(resumed.state().size(), 2u);
    train(resumed, W2, b2, 3);
    EXPECT_TRUE(torch::equal(W, W2)) << winnow::to_string(variant);
    EXPECT_TRUE(torch::equal(b, b2)) << winnow::to_string(variant);
  }
}

TEST(CdrOptimizer, OptionsRoundTripThroughArchive) {
  auto options = CDROptions(0.03).momentum(0.5).tau(0.45).weight_decay(2e-4).variant(CDRVariant::kOfficial);
  torch::serialize::OutputArchive out;
  options.serialize(out);
  std::stringstream bytes;
  out.save_to(bytes);
  torch::serialize::InputArchive in;
  in.load_from(bytes);
  CDROptions loaded(0);
  loaded.serialize(in);
  EXPECT_EQ(loaded.lr(), 0.03);
  EXPECT_EQ(loaded.momentum(), 0.5);
  EXPECT_EQ(loaded.tau(), 0.45);
  EXPECT_EQ(loaded.weight_decay(), 2e-4);
  EXPECT_EQ(loaded.variant(), CDRVariant::kOfficial);
}

TEST(CdrOptimizer, RejectsUnsetOrOutOfRangeTau) {
  auto w = torch::zeros({3}).set_requires_grad(true);
  EXPECT_THROW(CDR({w}, CDROptions(0.1)), c10::Error);
  EXPECT_THROW(CDR({w}, CDROptions(0.1).tau(1.0)), c10::Error);
  EXPECT_THROW(CDR({w}, CDROptions(0.1).tau(0.2).momentum(1.0)), c10::Error);
}

TEST(CdrRegistry, TauDefaultsToNoiseRateAndSchedulesSetLr) {
  auto config = winnow::Config::from_string("[optim]\nname = \"cdr\"\n");
  auto w = torch::zeros({3}).set_requires_grad(true);
  auto optimizer = winnow::make_optimizer(winnow::OptimizerSpec{{w}, 30, 0.4}, config);
  auto* cdr = dynamic_cast<CDR*>(optimizer.get());
  ASSERT_NE(cdr, nullptr);
  const auto& options = static_cast<const CDROptions&>(cdr->param_groups().at(0).options());
  EXPECT_EQ(options.tau(), 0.4);
  EXPECT_EQ(options.lr(), 0.01);
  EXPECT_EQ(options.momentum(), 0.9);
  EXPECT_EQ(options.weight_decay(), 1e-3);
  EXPECT_EQ(options.variant(), CDRVariant::kOfficial);  // the config default: the official code's variant
  // A multistep schedule (milestones 10, 20) reaches the CDR options through set_lr.
  config.set_override("optim.schedule=\"multistep\"");
  config.set_override("optim.milestones=[10, 20]");
  auto schedule = winnow::Schedule::from_config(config, 30, 0.01);
  schedule.apply(*optimizer, 25);
  EXPECT_NEAR(optimizer->param_groups().at(0).options().get_lr(), 1e-4, 1e-12);
}

TEST(CdrRegistry, ErrorsNameTheKey) {
  auto w = torch::zeros({3}).set_requires_grad(true);
  auto message = [&](const std::string& toml, std::optional<double> noise_rate) -> std::string {
    auto config = winnow::Config::from_string(toml);
    try {
      winnow::make_optimizer(winnow::OptimizerSpec{{w}, 10, noise_rate}, config);
    } catch (const winnow::Error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(message("[optim]\nname = \"cdr\"\n", std::nullopt).find("optim.tau"), std::string::npos);
  EXPECT_EQ(message("[optim]\nname = \"cdr\"\ntau = 0.3\n", std::nullopt), "");
  EXPECT_NE(message("[optim]\nname = \"cdr\"\ntau = 1.5\n", 0.2).find("optim.tau = 1.5: allowed [0, 1)"),
            std::string::npos);
  EXPECT_NE(message("[optim]\nname = \"cdr\"\nvariant = \"pytorch\"\n", 0.2).find("optim.variant"),
            std::string::npos);
  EXPECT_NE(message("[optim]\nname = \"cdr\"\nweight_decay = -1.0\n", 0.2).find("optim.weight_decay"),
            std::string::npos);
}

// The radix selection behind CDR's split gives kthvalue's answer exactly: random values,
// heavy ties, zeros (also -0.0), +inf and NaN (the largest), several tensors taken together,
// and the fallback (double, negative entries).
TEST(RadixSelect, KthLargestMatchesKthvalue) {
  torch::manual_seed(7);
  auto random = torch::rand({1000}) * torch::rand({1000}) * 1e-3;
  auto ties = torch::randint(0, 4, {257}).to(torch::kFloat) * 0.25;  // many equal values
  auto zeros = torch::zeros({33});
  auto special = torch::tensor({-0.0f, 0.0f, std::numeric_limits<float>::infinity(), 1.0f, NAN});
  auto wide = torch::randn({500}).abs() * 1e6;  // wide exponent range
  for (const auto& tensors : std::vector<std::vector<torch::Tensor>>{
           {random}, {ties}, {zeros}, {special}, {wide}, {random, ties, zeros.view({3, 11})}}) {
    std::vector<torch::Tensor> flat;
    for (const auto& t : tensors) flat.push_back(t.reshape({-1}));
    auto all = torch::cat(flat);
    const int64_t n = all.numel();
    for (int64_t k : {int64_t{1}, int64_t{2}, n / 3, n / 2, n - 1, n}) {
      if (k < 1) continue;
      auto expected = std::get<0>(all.kthvalue(n - k + 1));
      auto actual = winnow::kth_largest(tensors, k);
      if (std::isnan(expected.item<float>())) {
        EXPECT_TRUE(std::isnan(actual.item<float>())) << "k " << k;
      } else {
        EXPECT_EQ(actual.item<float>(), expected.item<float>()) << "n " << n << " k " << k;
      }
    }
  }
  auto doubles = torch::randn({100}, torch::kDouble);  // negative entries and double: kthvalue
  EXPECT_EQ(winnow::kth_largest({doubles}, 10).item<double>(),
            std::get<0>(doubles.kthvalue(91)).item<double>());
  EXPECT_THROW(winnow::kth_largest({zeros}, 0), winnow::Error);
  EXPECT_THROW(winnow::kth_largest({zeros}, 34), winnow::Error);
}

TEST(RadixSelect, TopCountMaskIsExactWithTiesAndTakesTheLargest) {
  auto values = torch::tensor({0.5f, 0.2f, 0.5f, 0.9f, 0.5f, 0.1f});
  // The 3 largest: 0.9 and two of the three 0.5s, the first two in memory order.
  expect_values(winnow::top_count_mask(values, 3), {1, 0, 1, 1, 0, 0});
  expect_values(winnow::top_count_mask(values, 1), {0, 0, 0, 1, 0, 0});
  expect_values(winnow::top_count_mask(values, 0), {0, 0, 0, 0, 0, 0});
  expect_values(winnow::top_count_mask(values, 6), {1, 1, 1, 1, 1, 1});
  torch::manual_seed(3);
  auto big = torch::randint(0, 10, {40, 50}).to(torch::kFloat);
  for (int64_t count : {1, 7, 999, 1000, 1999}) {
    auto mask = winnow::top_count_mask(big, count);
    EXPECT_EQ(mask.sum().item<float>(), static_cast<float>(count));
    auto selected = big.masked_select(mask.to(torch::kBool));
    auto rest = big.masked_select(mask.logical_not());
    EXPECT_GE(selected.min().item<float>(), rest.max().item<float>());
  }
}
