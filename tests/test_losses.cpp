// Tests of the robust losses: reference values, gradients against central finite
// differences for every registered loss, the limits that tie the losses together, and the
// validation of their options.
//
// Reference values were computed with PyTorch 1.13 in Python (Debian's /usr/bin/python3),
// written from the papers' formulas or copied from the official code, in float64, with
// the script reproduced in the comment of each test.
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <torch/torch.h>

#include "winnow/core/config.h"
#include "winnow/core/error.h"
#include "winnow/losses/loss.h"
#include "winnow/losses/robust.h"

namespace {

using winnow::Config;
using winnow::Loss;
using winnow::LossRegistry;
using winnow::LossSpec;

LossSpec test_spec(int64_t num_classes = 4) {
  LossSpec spec;
  spec.num_classes = num_classes;
  spec.train_size = 64;
  spec.epochs = 100;
  return spec;
}

// The loss `name` built from a config with `overrides` ("loss.key=value").
std::shared_ptr<Loss> make(const std::string& name, const std::vector<std::string>& overrides = {},
                           const LossSpec& spec = test_spec()) {
  Config config;
  config.set_override("loss.name=" + name);
  for (const auto& o : overrides) config.set_override(o);
  auto loss = winnow::make_loss(spec, config);
  config.check_unknown();  // every option given was read by the factory
  return loss;
}

// The fixed batch of the reference values: 3 samples, 4 classes.
torch::Tensor reference_logits() {
  return torch::tensor({2.0, -1.0, 0.5, 0.0, 0.1, 0.2, -0.3, 1.5, -2.0, 3.0, 0.0, 1.0},
                       torch::kDouble)
      .view({3, 4});
}
torch::Tensor reference_targets() { return torch::tensor({0, 3, 2}, torch::kLong); }

void expect_values(const torch::Tensor& actual, const std::vector<double>& expected,
                   double tolerance = 1e-12) {
  ASSERT_EQ(actual.dim(), 1);
  ASSERT_EQ(actual.size(0), static_cast<int64_t>(expected.size()));
  auto a = actual.to(torch::kDouble).contiguous();
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(a[i].item<double>(), expected[i], tolerance) << "sample " << i;
  }
}

torch::Tensor forward(Loss& loss, const torch::Tensor& logits, const torch::Tensor& targets,
                      const torch::Tensor& indices = {}) {
  return loss.forward(logits, targets, indices);
}

// Expects a winnow::Error whose message contains every one of `fragments`.
template <typename F>
void expect_error(F&& f, const std::vector<std::string>& fragments) {
  try {
    f();
    ADD_FAILURE() << "expected a winnow::Error";
  } catch (const winnow::Error& e) {
    std::string what = e.what();
    for (const auto& fragment : fragments) {
      EXPECT_NE(what.find(fragment), std::string::npos) << "'" << fragment << "' not in: " << what;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Reference values. Python, with
//   L = torch.tensor([[2.,-1.,.5,0.],[.1,.2,-.3,1.5],[-2.,3.,0.,1.]], dtype=torch.float64)
//   t = torch.tensor([0, 3, 2]); p = F.softmax(L, 1); py = p.gather(1, t[:, None]).squeeze(1)
//   oh = F.one_hot(t, 4).double(); lp = F.log_softmax(L, 1)

TEST(LossValues, MeanAbsoluteError) {
  // (p - oh).abs().sum(1): Ghosh et al.'s L1 distance between softmax and one-hot.
  auto loss = make("mae");
  expect_values(forward(*loss, reference_logits(), reference_targets()),
                {0.57980015422765163, 0.81265306604140397, 1.9164548589692993});
}

TEST(LossValues, GeneralizedCrossEntropy) {
  // (1 - py**0.7) / 0.7
  auto loss = make("gce");
  expect_values(forward(*loss, reference_logits(), reference_targets()),
                {0.30441800919310258, 0.43686002398905621, 1.2738587872843463});
}

TEST(LossValues, ReverseCrossEntropy) {
  // -(p * torch.log(torch.where(oh > 0, oh, exp(-4)))).sum(1): eq. 5 with log 0 = A = -4.
  auto loss = make("rce");
  expect_values(forward(*loss, reference_logits(), reference_targets()),
                {1.1596003084553035, 1.6253061320828079, 3.8329097179385987});
}

TEST(LossValues, SymmetricCrossEntropy) {
  // 0.1 * F.cross_entropy(L, t, reduction='none') + RCE(A = -4), the default (CIFAR-10) weights.
  auto loss = make("sce");
  expect_values(forward(*loss, reference_logits(), reference_targets()),
                {1.1938352666942857, 1.6774487150488469, 4.1504612542002697});
}

TEST(LossValues, NormalizedCrossEntropy) {
  // -1 * torch.sum(oh * lp, dim=1) / (-lp.sum(dim=1)): the formula of NormalizedCrossEntropy
  // in HanxunH/Active-Passive-Losses, loss.py.
  auto loss = make("nce");
  expect_values(forward(*loss, reference_logits(), reference_targets()),
                {0.043503908183663474, 0.079175420518023551, 0.29671997094337266});
}

TEST(LossValues, NceRce) {
  // nce + 4 * (1 - py): alpha = beta = 1 (the CIFAR-10 config), A = -4.
  auto loss = make("nce_rce");
  expect_values(forward(*loss, reference_logits(), reference_targets()),
                {1.2031042166389663, 1.7044815526008315, 4.1296296888819706});
}

TEST(LossValues, LabelSmoothing) {
  // F.cross_entropy(L, t, reduction='none', label_smoothing=0.1)
  auto loss = make("label_smoothing");
  expect_values(forward(*loss, reference_logits(), reference_targets()),
                {0.50484958238982203, 0.63392582966038813, 3.1255153626167145});
}

TEST(LossValues, Bootstrap) {
  // The Keras boot_soft/boot_hard of YisenWang/symmetric_cross_entropy_for_noisy_labels:
  //   -((0.95 * oh + 0.05 * p) * torch.log(p)).sum(1)
  //   -((0.8 * oh + 0.2 * F.one_hot(p.argmax(1), 4)) * torch.log(p)).sum(1)
  auto soft = make("bootstrap_soft");
  expect_values(forward(*soft, reference_logits(), reference_targets()),
                {0.36914616203376738, 0.5510223837808409, 3.0445495357955608});
  auto hard = make("bootstrap_hard");
  expect_values(forward(*hard, reference_logits(), reference_targets()),
                {0.34234958238982194, 0.52142582966038808, 2.5755153626167142});
}

TEST(LossValues, TruncatedLqPrunesAtTheOfficialEpochs) {
  auto loss = make("truncated_gce");
  // Pruning at the start of 0-based epochs e with e + 1 >= 40 and (e + 1) % 10 == 0.
  EXPECT_FALSE(loss->needs_train_probabilities(0));
  EXPECT_FALSE(loss->needs_train_probabilities(9));
  EXPECT_FALSE(loss->needs_train_probabilities(38));
  EXPECT_TRUE(loss->needs_train_probabilities(39));
  EXPECT_FALSE(loss->needs_train_probabilities(40));
  EXPECT_TRUE(loss->needs_train_probabilities(49));
  EXPECT_TRUE(loss->needs_train_probabilities(99));

  // Training-set probabilities: sample 11 has p_y = 0.3 <= k = 0.5 and is pruned; samples
  // 7 and 20 have p_y = 0.9 and stay.
  const int64_t n_train = test_spec().train_size;
  auto probabilities = torch::full({n_train, 4}, 0.025);
  probabilities.select(1, 0).fill_(0.925);
  auto labels = torch::zeros({n_train}, torch::kLong);
  probabilities[11] = torch::tensor({0.3, 0.5, 0.1, 0.1});
  loss->update_from_train_probabilities(probabilities, labels);

  // Expected: weights [1, 0, 1] -> w * (1 - py**0.7) / 0.7 + (1 - w) * (1 - 0.5**0.7) / 0.7
  auto indices = torch::tensor({7, 11, 20}, torch::kLong);
  expect_values(forward(*loss, reference_logits(), reference_targets(), indices),
                {0.30441800919310258, 0.5491825618964884, 1.2738587872843463});
  // Outside training (no indices) every sample counts: plain L_q.
  expect_values(forward(*loss, reference_logits(), reference_targets()),
                {0.30441800919310258, 0.43686002398905621, 1.2738587872843463});
}

TEST(LossValues, PeerLossWithExplicitPeers) {
  // The official CrossEntropyLossStable (weijiaheng/Multi-class-Peer-Loss-functions):
  //   stab = lambda z, y: F.nll_loss(torch.log(F.softmax(z, -1) + 1e-5), y, reduction='none')
  //   PL = [[.3,.3,-1.,2.],[1.,0.,0.,0.],[.5,-.5,2.5,-1.5]], pt = [1, 1, 0]
  //   stab(L, t) - 0.5 * stab(PL, pt)
  auto peer_logits =
      torch::tensor({0.3, 0.3, -1.0, 2.0, 1.0, 0.0, 0.0, 0.0, 0.5, -0.5, 2.5, -1.5}, torch::kDouble)
          .view({3, 4});
  auto peer_targets = torch::tensor({1, 1, 0}, torch::kLong);
  auto value = winnow::functional::peer_loss(reference_logits(), reference_targets(), peer_logits,
                                             peer_targets, 0.5, 1e-5);
  expect_values(value, {-0.6812449898402495, -0.35039661419683543, 2.0827292328014635});
}

// The DMI batch: 6 samples, 3 classes, every class present.
torch::Tensor dmi_logits() {
  return torch::tensor({2.0, 0.5, -1.0, 0.0, 1.5, 0.2, -0.5, 0.1, 2.2, 1.2, 1.0, 0.0, 0.3, -0.4,
                        0.9, 0.0, 2.0, 1.0},
                       torch::kDouble)
      .view({6, 3});
}
torch::Tensor dmi_targets() { return torch::tensor({0, 1, 2, 0, 2, 1}, torch::kLong); }

TEST(LossValues, DmiMatchesDefinitionAndOfficialCode) {
  // O = F.softmax(D, 1); Y = F.one_hot(dt, 3).double(); U = Y.t() @ O / 6
  // -torch.log(torch.abs(torch.det(U)) + 1e-3 / 6**3) = 4.672434655609389
  // The official Newbeeer/L_DMI formula -log(|det(Y^T O)| + 0.001) gives -0.70284375207477567,
  // which is the same plus K ln N = 3 ln 6 (it uses the unnormalised matrix).
  auto value = winnow::functional::dmi(dmi_logits(), dmi_targets(), 3);
  EXPECT_EQ(value.dim(), 0);
  EXPECT_NEAR(value.item<double>(), 4.672434655609389, 1e-12);
  EXPECT_NEAR(value.item<double>(), -0.70284375207477567 + 3 * std::log(6.0), 1e-12);

  // The registered loss: CE for ce_epochs, then the batch value repeated so mean() is L_DMI.
  auto loss = make("dmi", {"loss.ce_epochs=2"}, test_spec(3));
  auto ce = torch::nn::functional::cross_entropy(
      dmi_logits(), dmi_targets(),
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  EXPECT_TRUE(torch::allclose(forward(*loss, dmi_logits(), dmi_targets()), ce));
  loss->begin_epoch(1);
  EXPECT_TRUE(torch::allclose(forward(*loss, dmi_logits(), dmi_targets()), ce));
  loss->begin_epoch(2);
  auto per_sample = forward(*loss, dmi_logits(), dmi_targets());
  ASSERT_EQ(per_sample.size(0), 6);
  EXPECT_NEAR(per_sample.mean().item<double>(), 4.672434655609389, 1e-12);
}

// ---------------------------------------------------------------------------------------
// Gradients against central finite differences, for every registered loss.

struct GradientCase {
  torch::Tensor logits;   // double [N, K]
  torch::Tensor targets;  // int64 [N], every class present (L_DMI needs it)
  torch::Tensor indices;  // int64 [N], positions in the training set
  torch::Tensor weights;  // double [N], the objective is sum(weights * loss)
};

GradientCase gradient_case(const LossSpec& spec, uint64_t seed) {
  torch::manual_seed(seed);
  const int64_t n = 12;
  GradientCase c;
  c.logits = torch::randn({n, spec.num_classes}, torch::kDouble) * 1.5;
  c.targets = torch::arange(n, torch::kLong).remainder(spec.num_classes);
  c.targets = c.targets.index_select(0, torch::randperm(n, torch::kLong));
  c.indices = torch::randperm(spec.train_size, torch::kLong).slice(0, 0, n);
  c.weights = torch::rand({n}, torch::kDouble) + 0.5;
  return c;
}

// sum(weights * loss(logits)), with the global generator reseeded first so that losses
// that draw random numbers (peer samples) draw the same ones at every evaluation.
double objective(Loss& loss, const GradientCase& c, const torch::Tensor& logits) {
  torch::manual_seed(4242);
  return (c.weights * loss.forward(logits, c.targets, c.indices)).sum().item<double>();
}

void check_gradient(const std::string& name, Loss& loss, const GradientCase& c) {
  auto logits = c.logits.clone().requires_grad_(true);
  torch::manual_seed(4242);
  auto value = loss.forward(logits, c.targets, c.indices);
  ASSERT_EQ(value.dim(), 1) << name;
  ASSERT_EQ(value.size(0), c.logits.size(0)) << name;
  ASSERT_TRUE(torch::isfinite(value).all().item<bool>()) << name;
  (c.weights * value).sum().backward();
  auto analytic = logits.grad().contiguous();

  const double eps = 1e-6;
  auto numeric = torch::zeros_like(c.logits);
  auto flat = numeric.view({-1});
  for (int64_t i = 0; i < c.logits.numel(); ++i) {
    auto plus = c.logits.clone();
    auto minus = c.logits.clone();
    plus.view({-1})[i] += eps;
    minus.view({-1})[i] -= eps;
    flat[i] = (objective(loss, c, plus) - objective(loss, c, minus)) / (2 * eps);
  }
  auto error = (analytic - numeric).abs();
  auto bound = 1e-5 * numeric.abs().clamp_min(1.0);
  EXPECT_TRUE((error <= bound).all().item<bool>())
      << name << ": max |autograd - finite difference| = " << error.max().item<double>()
      << "\nautograd:\n"
      << analytic << "\nfinite differences:\n"
      << numeric;
}

TEST(LossGradients, EveryRegisteredLossMatchesFiniteDifferences) {
  const auto spec = test_spec();
  const auto names = LossRegistry::instance().names();
  ASSERT_GE(names.size(), 13u);
  for (const auto& name : names) {
    // The first epoch and the last: schedules (DMI after its CE phase, peer alpha, pruning
    // of truncated L_q) are in force by the end.
    for (int64_t epoch : {int64_t{0}, spec.epochs - 1}) {
      SCOPED_TRACE(name + " at epoch " + std::to_string(epoch));
      auto loss = make(name, {}, spec);
      EXPECT_FALSE(loss->describe().empty());
      EXPECT_EQ(loss->describe().rfind(name, 0), 0u) << loss->describe();
      loss->begin_epoch(epoch);
      if (loss->needs_train_probabilities(epoch)) {
        torch::manual_seed(7);
        auto probabilities =
            torch::softmax(torch::randn({spec.train_size, spec.num_classes}) * 2, 1);
        auto labels = torch::randint(spec.num_classes, {spec.train_size}, torch::kLong);
        loss->update_from_train_probabilities(probabilities, labels);
      }
      for (uint64_t seed : {1u, 2u, 3u}) check_gradient(name, *loss, gradient_case(spec, seed));
    }
  }
}

TEST(LossGradients, EveryRegisteredLossWorksInFloat32) {
  const auto spec = test_spec();
  for (const auto& name : LossRegistry::instance().names()) {
    SCOPED_TRACE(name);
    auto loss = make(name, {}, spec);
    loss->begin_epoch(spec.epochs - 1);
    auto c = gradient_case(spec, 5);
    // Confident, partly wrong predictions: p_y underflows to 0 in float32 for some samples.
    auto logits = (c.logits.to(torch::kFloat) * 80).requires_grad_(true);
    auto value = loss->forward(logits, c.targets, c.indices);
    EXPECT_EQ(value.scalar_type(), torch::kFloat);
    value.mean().backward();
    EXPECT_TRUE(torch::isfinite(value).all().item<bool>()) << value;
    EXPECT_TRUE(torch::isfinite(logits.grad()).all().item<bool>()) << logits.grad();
  }
}

// ---------------------------------------------------------------------------------------
// Limits and identities between the losses.

torch::Tensor random_logits(uint64_t seed, int64_t n = 16, int64_t k = 5) {
  torch::manual_seed(seed);
  return torch::randn({n, k}, torch::kDouble) * 2;
}
torch::Tensor random_targets(uint64_t seed, int64_t n = 16, int64_t k = 5) {
  torch::manual_seed(seed + 1000);
  return torch::randint(k, {n}, torch::kLong);
}

TEST(LossLimits, GceTendsToCeAsQGoesToZeroAndIsHalfMaeAtQOne) {
  auto spec = test_spec(5);
  auto ce = make("ce", {}, spec);
  auto mae = make("mae", {}, spec);
  for (uint64_t seed : {1u, 2u, 3u}) {
    auto z = random_logits(seed);
    auto y = random_targets(seed);
    auto ce_value = forward(*ce, z, y);
    // (1 - p^q) / q = -log p - q (log p)^2 / 2 + O(q^2): the gap shrinks linearly in q.
    double previous_gap = 1e9;
    for (double q : {1e-2, 1e-4, 1e-6}) {
      auto gce = make("gce", {"loss.q=" + std::to_string(q)}, spec);
      double gap = (forward(*gce, z, y) - ce_value).abs().max().item<double>();
      EXPECT_LT(gap, previous_gap);
      previous_gap = gap;
    }
    EXPECT_LT(previous_gap, 1e-4);
    // q = 1: 1 - p_y, Ghosh et al.'s MAE (2 - 2 p_y) up to its factor 2.
    auto gce1 = make("gce", {"loss.q=1"}, spec);
    EXPECT_TRUE(torch::allclose(2 * forward(*gce1, z, y), forward(*mae, z, y), 1e-12, 1e-12));
  }
}

TEST(LossLimits, SceWithAlphaOneBetaZeroIsCe) {
  auto spec = test_spec(5);
  auto sce = make("sce", {"loss.alpha=1", "loss.beta=0"}, spec);
  auto ce = make("ce", {}, spec);
  for (uint64_t seed : {1u, 2u}) {
    auto z = random_logits(seed);
    auto y = random_targets(seed);
    EXPECT_TRUE(torch::allclose(forward(*sce, z, y), forward(*ce, z, y), 1e-12, 1e-12));
  }
}

TEST(LossLimits, RceWithLogZeroMinusTwoIsMae) {
  auto spec = test_spec(5);
  auto rce = make("rce", {"loss.log_zero=-2"}, spec);
  auto mae = make("mae", {}, spec);
  for (uint64_t seed : {1u, 2u}) {
    auto z = random_logits(seed);
    auto y = random_targets(seed);
    EXPECT_TRUE(torch::allclose(forward(*rce, z, y), forward(*mae, z, y), 1e-12, 1e-12));
  }
}

TEST(LossLimits, SmoothingAndBootstrapReduceToCe) {
  auto spec = test_spec(5);
  auto ce = make("ce", {}, spec);
  auto z = random_logits(9);
  auto y = random_targets(9);
  auto ce_value = forward(*ce, z, y);
  for (auto* name : {"bootstrap_soft", "bootstrap_hard"}) {
    auto loss = make(name, {"loss.beta=1"}, spec);
    EXPECT_TRUE(torch::allclose(forward(*loss, z, y), ce_value, 1e-12, 1e-12)) << name;
  }
  auto smoothing = make("label_smoothing", {"loss.epsilon=0"}, spec);
  EXPECT_TRUE(torch::allclose(forward(*smoothing, z, y), ce_value, 1e-12, 1e-12));
  auto peer = make("peer", {"loss.alpha=0", "loss.epsilon=0"}, spec);
  EXPECT_TRUE(torch::allclose(forward(*peer, z, y), ce_value, 1e-12, 1e-12));
}

TEST(LossLimits, DmiIsInvariantToPermutingTheBatch) {
  for (uint64_t seed : {1u, 2u, 3u}) {
    auto z = random_logits(seed, 40, 5);
    auto y = torch::arange(40, torch::kLong).remainder(5);
    auto value = winnow::functional::dmi(z, y, 5).item<double>();
    torch::manual_seed(seed + 99);
    auto perm = torch::randperm(40, torch::kLong);
    auto permuted = winnow::functional::dmi(z.index_select(0, perm), y.index_select(0, perm), 5);
    EXPECT_NEAR(permuted.item<double>(), value, 1e-12);
  }
}

TEST(LossLimits, DmiNeverProducesNan) {
  const int64_t k = 4;
  auto check = [&](const torch::Tensor& logits_in, const torch::Tensor& targets,
                   const std::string& what) {
    SCOPED_TRACE(what);
    auto logits = logits_in.clone().requires_grad_(true);
    auto value = winnow::functional::dmi(logits, targets, k);
    value.backward();
    EXPECT_TRUE(std::isfinite(value.item<double>()));
    EXPECT_TRUE(torch::isfinite(logits.grad()).all().item<bool>()) << logits.grad();
    return std::make_pair(value.item<double>(), logits.grad().abs().max().item<double>());
  };
  auto z = random_logits(3, 8, k);
  // A class missing from the batch: U has a zero row, det U = 0. The value is the floor
  // -log(1e-3 / 8^4) and there is no gradient.
  auto missing = torch::tensor({0, 1, 2, 0, 1, 2, 0, 1}, torch::kLong);
  auto [floor_value, floor_gradient] = check(z, missing, "missing class");
  EXPECT_NEAR(floor_value, -std::log(1e-3 / std::pow(8.0, 4)), 1e-9);
  EXPECT_EQ(floor_gradient, 0.0);
  // Fewer samples than classes.
  check(z.slice(0, 0, 3), torch::tensor({0, 1, 2}, torch::kLong), "N < K");
  // A negative determinant: the labels of two classes swapped against confident predictions.
  auto confident = torch::eye(k, torch::kDouble).repeat({2, 1}) * 6;
  auto swapped = torch::tensor({1, 0, 2, 3, 1, 0, 2, 3}, torch::kLong);
  auto u = torch::one_hot(swapped, k).to(torch::kDouble).t().matmul(torch::softmax(confident, 1));
  ASSERT_LT(torch::det(u).item<double>(), 0.0);
  auto [negative_value, negative_gradient] = check(confident, swapped, "negative det");
  EXPECT_LT(negative_value, floor_value);
  EXPECT_GT(negative_gradient, 0.0);
  // Saturated float32 outputs: exact one-hot rows and exact zeros.
  check((z * 1000).to(torch::kFloat), torch::arange(8, torch::kLong).remainder(k), "saturated");
}

// ---------------------------------------------------------------------------------------
// Schedules and randomness.

TEST(LossSchedules, PeerAlphaFollowsTheOfficialSchedules) {
  // f_alpha of the CIFAR-10 runner, sparse setting: numpy.linspace segments
  // (20: 0 -> 0), (20: 0 -> 1), (50: 1 -> 2), (50: 2 -> 5), (100: 5 -> 10), (100: 10 -> 20),
  // 340 values for a 300-epoch run. Expected values from numpy 1.x in Python:
  //   a = np.concatenate((np.linspace(0,0,20), np.linspace(0,1,20), ..., np.linspace(10,20,100)))
  //   a[29] = 0.47368421052631576, a[100] = 2.612244897959184, a[299] = 15.959595959595958
  auto options = winnow::PeerLossOptions().alpha_schedule(
      {20, 0, 0, 20, 0, 1, 50, 1, 2, 50, 2, 5, 100, 5, 10, 100, 10, 20});
  EXPECT_DOUBLE_EQ(options.alpha_at(0), 0.0);
  EXPECT_DOUBLE_EQ(options.alpha_at(19), 0.0);
  EXPECT_DOUBLE_EQ(options.alpha_at(20), 0.0);
  EXPECT_DOUBLE_EQ(options.alpha_at(29), 0.47368421052631576);
  EXPECT_DOUBLE_EQ(options.alpha_at(39), 1.0);
  EXPECT_DOUBLE_EQ(options.alpha_at(40), 1.0);
  EXPECT_DOUBLE_EQ(options.alpha_at(100), 2.612244897959184);
  EXPECT_DOUBLE_EQ(options.alpha_at(299), 15.959595959595958);
  EXPECT_DOUBLE_EQ(options.alpha_at(339), 20.0);
  EXPECT_DOUBLE_EQ(options.alpha_at(400), 20.0);  // past the end: the last value
  EXPECT_DOUBLE_EQ(winnow::PeerLossOptions().alpha(0.3).alpha_at(250), 0.3);

  // The preset drives the registered loss: zero weight during the warm-up, then the ramp.
  auto spec = test_spec(5);
  auto peer = make("peer", {"loss.preset=\"mnist\""}, spec);
  auto ce = make("ce", {}, spec);
  auto z = random_logits(4);
  auto y = random_targets(4);
  peer->begin_epoch(119);
  auto stable_ce = -torch::log(torch::softmax(z, 1).gather(1, y.unsqueeze(1)).squeeze(1) + 1e-5);
  EXPECT_TRUE(torch::allclose(forward(*peer, z, y), stable_ce, 1e-12, 1e-12));
  peer->begin_epoch(299);
  EXPECT_FALSE(torch::allclose(forward(*peer, z, y), stable_ce, 1e-6, 1e-6));
  EXPECT_NE(peer->describe().find("alpha now 1"), std::string::npos) << peer->describe();
}

TEST(LossSchedules, PeerSamplesAreReproducibleFromTheSeed) {
  auto peer = make("peer", {}, test_spec(5));
  auto z = random_logits(6);
  auto y = random_targets(6);
  torch::manual_seed(11);
  auto first = forward(*peer, z, y);
  torch::manual_seed(11);
  auto again = forward(*peer, z, y);
  EXPECT_TRUE(torch::equal(first, again));
  torch::manual_seed(12);
  EXPECT_FALSE(torch::equal(first, forward(*peer, z, y)));
}

// ---------------------------------------------------------------------------------------
// Configuration: names, presets, validation.

TEST(LossConfig, NameAndOptionsComeFromTheConfig) {
  auto config = Config::from_string("[loss]\nname = 'gce'\nq = 0.5\n");
  auto loss = winnow::make_loss(test_spec(), config);
  EXPECT_EQ(loss->describe(), "gce q=0.5");
  EXPECT_NO_THROW(config.check_unknown());

  Config overridden;
  overridden.set_override("loss.name=sce");
  overridden.set_override("loss.preset=cifar100");
  overridden.set_override("loss.beta=0.5");  // an explicit key overrides the preset
  EXPECT_EQ(winnow::make_loss(test_spec(), overridden)->describe(),
            "sce alpha=6 beta=0.5 log_zero=-4");
  auto resolved = overridden.resolved_toml();
  EXPECT_NE(resolved.find("alpha = 6"), std::string::npos) << resolved;

  EXPECT_EQ(make("nce_rce", {"loss.preset=mnist"})->describe(),
            "nce_rce alpha=1 beta=10 log_zero=-4");
  EXPECT_EQ(make("nce", {"loss.preset=mnist"})->describe(), "nce scale=10");
  EXPECT_EQ(make("sce", {"loss.preset=mnist"})->describe(), "sce alpha=0.01 beta=1 log_zero=-4");
}

TEST(LossConfig, OptionsOfAnotherLossAreUnknownKeys) {
  Config config;
  config.set_override("loss.name=sce");
  config.set_override("loss.q=0.5");
  winnow::make_loss(test_spec(), config);
  expect_error([&] { config.check_unknown(); }, {"loss.q"});
}

TEST(LossConfig, UnknownLossAndPresetListTheChoices) {
  expect_error([] { make("gcee"); }, {"gcee", "gce", "truncated_gce"});
  expect_error([] { make("sce", {"loss.preset=imagenet"}); }, {"imagenet", "cifar10", "mnist"});
}

TEST(LossConfig, BadOptionsAreErrorsNamingKeyValueAndRange) {
  expect_error([] { make("gce", {"loss.q=0"}); }, {"loss.q", "0", "(0, 1]"});
  expect_error([] { make("gce", {"loss.q=1.5"}); }, {"loss.q", "1.5", "(0, 1]"});
  expect_error([] { make("truncated_gce", {"loss.k=1"}); }, {"loss.k", "1", "(0, 1)"});
  expect_error([] { make("truncated_gce", {"loss.prune_every=0"}); }, {"loss.prune_every", ">= 1"});
  expect_error([] { make("sce", {"loss.alpha=-0.1"}); }, {"loss.alpha", "-0.1", ">= 0"});
  expect_error([] { make("sce", {"loss.beta=-1"}); }, {"loss.beta", "-1", ">= 0"});
  expect_error([] { make("sce", {"loss.alpha=0", "loss.beta=0"}); }, {"loss.alpha", "loss.beta"});
  expect_error([] { make("rce", {"loss.log_zero=0"}); }, {"loss.log_zero", "0", "< 0"});
  expect_error([] { make("rce", {"loss.log_zero=2"}); }, {"loss.log_zero", "2", "< 0"});
  expect_error([] { make("sce", {"loss.log_zero=0"}); }, {"loss.log_zero", "< 0"});
  expect_error([] { make("nce", {"loss.scale=0"}); }, {"loss.scale", "0", "> 0"});
  expect_error([] { make("nce_rce", {"loss.beta=-2"}); }, {"loss.beta", "-2", ">= 0"});
  expect_error([] { make("peer", {"loss.alpha=-1"}); }, {"loss.alpha", "-1", ">= 0"});
  expect_error([] { make("peer", {"loss.alpha_schedule=[10, 0]"}); },
               {"loss.alpha_schedule", "three"});
  expect_error([] { make("peer", {"loss.alpha_schedule=[2.5, 0, 1]"}); },
               {"loss.alpha_schedule", "2.5", "whole number"});
  expect_error(
      [] {
        make("peer", {"loss.preset=cifar10", "loss.alpha=0.5"});
      },
      {"loss.alpha", "ignored"});
  expect_error([] { make("dmi", {"loss.epsilon=0"}); }, {"loss.epsilon", "0", "> 0"});
  expect_error([] { make("dmi", {"loss.ce_epochs=100"}); }, {"loss.ce_epochs", "100", "[0, 100)"});
  expect_error([] { make("dmi", {"loss.ce_epochs=-1"}); }, {"loss.ce_epochs", "-1", ">= 0"});
  expect_error([] { make("label_smoothing", {"loss.epsilon=1"}); },
               {"loss.epsilon", "1", "[0, 1)"});
  expect_error([] { make("bootstrap_soft", {"loss.beta=0"}); }, {"loss.beta", "0", "(0, 1]"});
  expect_error([] { make("bootstrap_hard", {"loss.beta=1.2"}); }, {"loss.beta", "1.2", "(0, 1]"});
}

TEST(LossConfig, BadInputsAreErrors) {
  auto loss = make("gce");
  expect_error([&] { loss->forward(torch::zeros({3}), reference_targets(), {}); },
               {"gce", "[N, K]"});
  expect_error([&] { loss->forward(reference_logits(), reference_targets().to(torch::kInt), {}); },
               {"int64"});
  auto truncated = make("truncated_gce");
  expect_error(
      [&] {
        truncated->update_from_train_probabilities(torch::rand({5, 4}),
                                                   torch::zeros({5}, torch::kLong));
      },
      {"64", "5"});
}

}  // namespace
