// Collaborative learning: the maths of DML, distillation and filter grafting against hand
// values, and the methods "dml", "distill", "grafting", "dgd" on small Gaussian blobs.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <sstream>

#include "test_helpers.h"
#include "winnow/engine/checkpoint.h"
#include "winnow/eval/metrics.h"
#include "winnow/methods/collaborative.h"
#include "winnow/methods/method.h"
#include "methods/peer_group.h"
#include "winnow/report/files.h"

using namespace winnow;
using winnow_test::TempDir;

namespace {

// Four Gaussian blobs in 2-D (centres on the axes at distance 3, sd 1), one class each.
Dataset blobs(int64_t n, uint64_t seed) {
  torch::manual_seed(seed);
  Dataset d;
  d.name = "blobs";
  d.num_classes = 4;
  d.labels = torch::arange(n, torch::kInt64) % 4;
  auto centres = torch::tensor({{3.f, 0.f}, {-3.f, 0.f}, {0.f, 3.f}, {0.f, -3.f}});
  d.inputs = centres.index_select(0, d.labels) + torch::randn({n, 2});
  d.true_labels = d.labels.clone();
  return d;
}

struct Fixture {
  Dataset train = blobs(256, 1);
  Dataset val = blobs(64, 2);
  TrainContext context() const {
    TrainContext c;
    c.train = &train;
    c.val = &val;
    c.model_spec = ModelSpec{train.sample_shape(), train.num_classes};
    c.epochs = 3;
    c.seed = 5;
    c.eval_batch_size = 128;
    return c;
  }
};

std::unique_ptr<Method> make(const Fixture& f, const std::string& extra) {
  auto config = Config::from_string("[model]\nname = 'mlp'\nhidden = [16]\n[optim]\nname = 'sgd'\nlr = 0.05\n"
                                    "[method]\n" + extra);
  torch::manual_seed(5);  // as the trainer does before building the method
  auto method = make_method(f.context(), config);
  config.check_unknown();
  return method;
}

// Runs epochs [from, to) as the trainer does: per-epoch reseeding, one batcher.
void train(Method& method, const Dataset& data, int64_t from, int64_t to) {
  Batcher batcher(data, 32, true, 11);
  for (int64_t epoch = from; epoch < to; ++epoch) {
    torch::manual_seed(100 + epoch);
    batcher.begin_epoch(epoch);
    method.set_training(true);
    method.train_epoch(epoch, batcher);
  }
}

std::vector<torch::Tensor> weights(torch::nn::Module& m) {
  std::vector<torch::Tensor> out;
  for (auto& p : m.parameters()) out.push_back(p.detach().clone());
  return out;
}

bool same(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (!torch::equal(a[i], b[i])) return false;
  }
  return true;
}

// The parameters of network k of a collaborative method.
std::vector<torch::Tensor> network_state(Method& method, int k) {
  auto* group = dynamic_cast<PeerGroup*>(&method);
  if (group == nullptr) throw std::runtime_error("not a collaborative method");
  return weights(group->network(static_cast<size_t>(k)));
}

// The parameters of every network of a collaborative method. After training on, equal
// weights also mean the optimizers' momenta were equal.
std::vector<torch::Tensor> state_of(Method& method) {
  auto* group = dynamic_cast<PeerGroup*>(&method);
  if (group == nullptr) throw std::runtime_error("not a collaborative method");
  std::vector<torch::Tensor> all;
  for (size_t k = 0; k < group->size(); ++k) {
    auto w = weights(group->network(k));
    all.insert(all.end(), w.begin(), w.end());
  }
  return all;
}

// A finished `standard` run of an MLP on the blobs, to serve as teacher.
void make_teacher(const Fixture& f, const std::string& dir) {
  const std::string text = "[method]\nname = 'standard'\n[model]\nname = 'mlp'\nhidden = [32]\n[optim]\nname = 'sgd'\n"
                           "lr = 0.1\n";
  auto config = Config::from_string(text);
  torch::manual_seed(3);
  auto teacher = make_method(f.context(), config);
  train(*teacher, f.train, 0, 3);
  std::filesystem::create_directories(dir);
  atomic_write_text(dir + "/config.toml", text);
  TrainerState state;
  state.epochs_done = 3;
  save_checkpoint(dir, *teacher, state);
}

}  // namespace

TEST(CollabMaths, KlDivergenceMatchesHandValues) {
  auto p = torch::tensor({{0.5, 0.5}, {1.0, 0.0}}, torch::kFloat64);
  auto q = torch::tensor({{0.25, 0.75}, {0.5, 0.5}}, torch::kFloat64);
  auto kl = kl_divergence(p, q.log());
  // 0.5 ln(0.5/0.25) + 0.5 ln(0.5/0.75); the second row has 0 ln 0 = 0, so ln 2.
  EXPECT_NEAR(kl[0].item<double>(), 0.5 * std::log(2.0) + 0.5 * std::log(2.0 / 3.0), 1e-12);
  EXPECT_NEAR(kl[1].item<double>(), std::log(2.0), 1e-12);
}

TEST(CollabMaths, DmlPairwiseAndEnsembleTermsMatchHandValues) {
  auto p0 = torch::tensor({{0.5, 0.5}}, torch::kFloat64);
  auto p1 = torch::tensor({{0.9, 0.1}}, torch::kFloat64);
  auto p2 = torch::tensor({{0.2, 0.8}}, torch::kFloat64);
  auto log_p0 = p0.log().requires_grad_(true);
  const double kl10 = 0.9 * std::log(0.9 / 0.5) + 0.1 * std::log(0.1 / 0.5);
  const double kl20 = 0.2 * std::log(0.2 / 0.5) + 0.8 * std::log(0.8 / 0.5);
  auto pairwise = mutual_learning_term({p0, p1, p2}, 0, log_p0, "pairwise");
  EXPECT_NEAR(pairwise.item<double>(), (kl10 + kl20) / 2, 1e-12);
  // Ensemble teacher: the mean of the other two peers, (0.55, 0.45).
  auto ensemble = mutual_learning_term({p0, p1, p2}, 0, log_p0, "ensemble");
  EXPECT_NEAR(ensemble.item<double>(), 0.55 * std::log(0.55 / 0.5) + 0.45 * std::log(0.45 / 0.5), 1e-12);
  // K = 2: both variants are KL(p_other || p_k).
  EXPECT_NEAR(mutual_learning_term({p0, p1}, 0, log_p0, "ensemble").item<double>(), kl10, 1e-12);
  EXPECT_NEAR(mutual_learning_term({p0, p1}, 0, log_p0, "pairwise").item<double>(), kl10, 1e-12);
  EXPECT_THROW(mutual_learning_term({p0, p1}, 0, log_p0, "mean"), Error);
  EXPECT_THROW(mutual_learning_term({p0}, 0, log_p0, "pairwise"), Error);
}

TEST(CollabMaths, DistillationHasTheTSquaredFactorAndTeacherToStudentDirection) {
  // Student logits (0, 0): softmax (1/2, 1/2) at any T. Teacher logits (ln 9, 0): at T = 2,
  // softmax(t / T) = (3/4, 1/4).
  auto student = torch::zeros({1, 2}, torch::kFloat64).requires_grad_(true);
  auto teacher = torch::tensor({{std::log(9.0), 0.0}}, torch::kFloat64).requires_grad_(true);
  auto label = torch::tensor({1}, torch::kInt64);
  const double kl_teacher_student = 0.75 * std::log(0.75 / 0.5) + 0.25 * std::log(0.25 / 0.5);
  const double kl_student_teacher = 0.5 * std::log(0.5 / 0.75) + 0.5 * std::log(0.5 / 0.25);
  ASSERT_GT(std::abs(kl_teacher_student - kl_student_teacher), 0.01);  // the direction is visible
  auto loss = distillation_loss(student, teacher, label, 0.3, 2.0);
  EXPECT_NEAR(loss.item<double>(), 0.7 * std::log(2.0) + 0.3 * 4.0 * kl_teacher_student, 1e-12);
  // alpha = 1: the soft term alone, T^2 = 9 at T = 3 (teacher softmax (9^(1/3), 1) / sum).
  const double a = std::pow(9.0, 1.0 / 3.0) / (std::pow(9.0, 1.0 / 3.0) + 1.0);
  const double kl3 = a * std::log(a / 0.5) + (1 - a) * std::log((1 - a) / 0.5);
  auto soft = distillation_loss(student, teacher, label, 1.0, 3.0);
  EXPECT_NEAR(soft.item<double>(), 9.0 * kl3, 1e-12);
  // Gradients reach the student only. d/ds of T^2 KL = T (q_s - q_t): (0.5 - 0.75) * 2.
  distillation_loss(student, teacher, label, 1.0, 2.0).sum().backward();
  EXPECT_FALSE(teacher.grad().defined() && teacher.grad().abs().sum().item<double>() > 0);
  EXPECT_NEAR(student.grad()[0][0].item<double>(), 2.0 * (0.5 - 0.75), 1e-12);
  EXPECT_THROW(distillation_loss(student, teacher, label, 1.5, 2.0), Error);
  EXPECT_THROW(distillation_loss(student, teacher, label, 0.5, 0.0), Error);
}

TEST(GraftMaths, WeightEntropyMatchesHandValues) {
  // [0, 3] in 2 intervals of width 1.5: {0, 1} and {2, 3}.
  EXPECT_NEAR(weight_entropy(torch::tensor({0.0, 1.0, 2.0, 3.0}), 2), std::log(2.0), 1e-12);
  // 4 intervals of width 0.75: one value each (the maximum falls in the last).
  EXPECT_NEAR(weight_entropy(torch::tensor({0.0, 1.0, 2.0, 3.0}), 4), std::log(4.0), 1e-12);
  // 10 intervals: three values in the first, one in the last.
  EXPECT_NEAR(weight_entropy(torch::tensor({0.0, 0.0, 0.0, 1.0}), 10),
              -(0.75 * std::log(0.75) + 0.25 * std::log(0.25)), 1e-12);
  EXPECT_EQ(weight_entropy(torch::full({3, 3}, 0.7), 10), 0.0);
  EXPECT_THROW(weight_entropy(torch::ones({2}), 1), Error);
}

TEST(GraftMaths, AlphaMatchesTheOfficialFormula) {
  EXPECT_DOUBLE_EQ(grafting_alpha(1.3, 1.3, 0.4, 500), 0.5);
  // 0.4 / pi * arctan(500 * 0.001) + 0.5
  EXPECT_NEAR(grafting_alpha(1.0, 0.999, 0.4, 500), 0.4 / M_PI * std::atan(0.5) + 0.5, 1e-12);
  EXPECT_NEAR(grafting_alpha(1.0, 0.999, 0.4, 500) + grafting_alpha(0.999, 1.0, 0.4, 500), 1.0, 1e-12);
  // Far apart: alpha approaches 0.5 + A / 2 (0.7 with the paper's A = 0.4).
  EXPECT_NEAR(grafting_alpha(2.0, 0.0, 0.4, 500), 0.7, 1e-3);
  EXPECT_NEAR(grafting_alpha(0.0, 2.0, 0.4, 500), 0.3, 1e-3);
}

TEST(GraftMaths, GraftRingMixesLayersByEntropy) {
  torch::manual_seed(0);
  torch::nn::Sequential a(torch::nn::Linear(4, 3), torch::nn::BatchNorm1d(3));
  torch::nn::Sequential b(torch::nn::Linear(4, 3), torch::nn::BatchNorm1d(3));
  {
    torch::NoGradGuard no_grad;
    auto* la = a[0]->as<torch::nn::Linear>();
    auto* lb = b[0]->as<torch::nn::Linear>();
    la->weight.copy_(torch::arange(12, torch::kFloat32).reshape({3, 4}));  // entropy ln 10 - ...
    lb->weight.fill_(1.0);                                                  // entropy 0
    la->bias.fill_(2.0);
    lb->bias.fill_(4.0);
    a[1]->as<torch::nn::BatchNorm1d>()->running_mean.fill_(1.0);
    b[1]->as<torch::nn::BatchNorm1d>()->running_mean.fill_(3.0);
  }
  auto wa = a[0]->as<torch::nn::Linear>()->weight.clone();
  const double ha = weight_entropy(wa, 10);
  ASSERT_GT(ha, 1.0);
  GraftOptions options;
  auto alphas = graft_ring({a.ptr().get(), b.ptr().get()}, options);
  const double alpha_a = grafting_alpha(ha, 0.0, 0.4, 500);
  const double alpha_b = grafting_alpha(0.0, ha, 0.4, 500);
  ASSERT_EQ(alphas.size(), 2u);
  ASSERT_EQ(alphas[0].size(), 1u);  // one weighted layer; batch norm follows it
  EXPECT_NEAR(alphas[0][0], alpha_a, 1e-12);
  EXPECT_NEAR(alphas[1][0], alpha_b, 1e-12);
  auto expect_a = alpha_a * wa + (1 - alpha_a);
  EXPECT_TRUE(torch::allclose(a[0]->as<torch::nn::Linear>()->weight, expect_a, 1e-6, 1e-6));
  EXPECT_NEAR(a[0]->as<torch::nn::Linear>()->bias[0].item<double>(), alpha_a * 2 + (1 - alpha_a) * 4, 1e-5);
  EXPECT_NEAR(b[0]->as<torch::nn::Linear>()->bias[0].item<double>(), alpha_b * 4 + (1 - alpha_b) * 2, 1e-5);
  // Batch norm (no 2-D weight) takes its layer's alpha, buffers included.
  EXPECT_NEAR(a[1]->as<torch::nn::BatchNorm1d>()->running_mean[0].item<double>(),
              alpha_a * 1 + (1 - alpha_a) * 3, 1e-5);

  // With A = 1 and very different entropies, the richer network is (almost) left alone and
  // the other (almost) takes its weights.
  torch::nn::Linear c(4, 3), d(4, 3);
  {
    torch::NoGradGuard no_grad;
    c->weight.copy_(torch::arange(12, torch::kFloat32).reshape({3, 4}));
    d->weight.fill_(1.0);
  }
  auto wc = c->weight.clone();
  options.A = 1.0;
  options.c = 1e6;
  graft_ring({c.ptr().get(), d.ptr().get()}, options);
  EXPECT_TRUE(torch::allclose(c->weight, wc, 0, 1e-4));
  EXPECT_TRUE(torch::allclose(d->weight, wc, 0, 1e-4));

  // Equal entropies (the same values in another order): both become the plain average.
  torch::nn::Linear e(4, 3), g(4, 3);
  {
    torch::NoGradGuard no_grad;
    e->weight.copy_(torch::arange(12, torch::kFloat32).reshape({3, 4}));
    g->weight.copy_(torch::arange(11, -1, -1, torch::kFloat32).reshape({3, 4}));
  }
  graft_ring({e.ptr().get(), g.ptr().get()}, GraftOptions{});
  EXPECT_TRUE(torch::allclose(e->weight, torch::full({3, 4}, 5.5), 0, 1e-5));
  EXPECT_TRUE(torch::allclose(g->weight, torch::full({3, 4}, 5.5), 0, 1e-5));

  torch::nn::Linear small(2, 3);
  EXPECT_THROW(graft_ring({c.ptr().get(), small.ptr().get()}, GraftOptions{}), Error);
  EXPECT_THROW(graft_ring({c.ptr().get()}, GraftOptions{}), Error);
}

TEST(Dml, TwoPeerRunChangesBothNetworksAndLearns) {
  Fixture f;
  auto method = make(f, "name = 'dml'\n");
  auto net0 = network_state(*method, 0);
  auto net1 = network_state(*method, 1);
  EXPECT_FALSE(same(net0, net1));  // two initialisations
  Batcher batcher(f.train, 32, true, 11);
  torch::manual_seed(100);
  batcher.begin_epoch(0);
  auto log = method->train_epoch(0, batcher);
  EXPECT_FALSE(same(net0, network_state(*method, 0)));
  EXPECT_FALSE(same(net1, network_state(*method, 1)));
  std::map<std::string, double> values(log.values().begin(), log.values().end());
  for (const char* key : {"net0_train_accuracy", "net1_train_accuracy", "net0_val_accuracy", "net1_val_accuracy",
                          "test_network", "train_true_accuracy"}) {
    EXPECT_TRUE(values.count(key)) << key;
  }
  train(*method, f.train, 1, 3);
  Batcher last_batcher(f.train, 32, true, 11);
  torch::manual_seed(103);
  last_batcher.begin_epoch(3);
  auto last_log = method->train_epoch(3, last_batcher);
  std::map<std::string, double> last(last_log.values().begin(), last_log.values().end());
  EXPECT_GT(last["net0_val_accuracy"], 90.0);
  EXPECT_GT(last["net1_val_accuracy"], 90.0);
  auto scores = method->score_samples(f.train);
  EXPECT_EQ(scores.clean_score.size(0), f.train.size());
  EXPECT_GT(scores.clean_score.mean().item<double>(), 0.5);
  EXPECT_LT(scores.suspect.sum().item<int64_t>(), f.train.size() / 5);
}

TEST(Dml, ThePeersPredictionsEnterEveryUpdate) {
  // Network 0 starts from the same weights with 2 or 3 peers (same seed, built first); its
  // mimicry targets differ, so must its weights after an epoch.
  Fixture f;
  auto two = make(f, "name = 'dml'\npeers = 2\n");
  auto three = make(f, "name = 'dml'\npeers = 3\n");
  EXPECT_TRUE(same(network_state(*two, 0), network_state(*three, 0)));
  train(*two, f.train, 0, 1);
  train(*three, f.train, 0, 1);
  EXPECT_FALSE(same(network_state(*two, 0), network_state(*three, 0)));
}

TEST(Dml, EnsembleAndPairwiseVariantsShareTheirGradient) {
  // d KL(p || q) / d logits_q = q - p is linear in the (detached) target p, so the mean of the
  // peers' KLs and the KL to the peers' mean differ by a constant only (the targets'
  // entropies): same gradient, same weights. The loss values differ (hand values above).
  Fixture f;
  auto pairwise = make(f, "name = 'dml'\npeers = 3\n");
  auto ensemble = make(f, "name = 'dml'\npeers = 3\nvariant = 'ensemble'\n");
  train(*pairwise, f.train, 0, 1);
  train(*ensemble, f.train, 0, 1);
  for (int k = 0; k < 3; ++k) {
    auto a = network_state(*pairwise, k);
    auto b = network_state(*ensemble, k);
    for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::allclose(a[i], b[i], 1e-4, 1e-5)) << k;
  }
}

TEST(Dml, DeterministicResumableAndParallelAgrees) {
  Fixture f;
  auto straight = make(f, "name = 'dml'\n");
  train(*straight, f.train, 0, 2);
  auto again = make(f, "name = 'dml'\n");
  train(*again, f.train, 0, 2);
  EXPECT_TRUE(same(state_of(*straight), state_of(*again)));

  // Resume: epoch 0, save, load into a fresh method, epoch 1.
  auto first = make(f, "name = 'dml'\n");
  train(*first, f.train, 0, 1);
  torch::serialize::OutputArchive archive;
  first->save(archive);
  std::ostringstream out;
  archive.save_to(out);
  auto resumed = make(f, "name = 'dml'\n");
  torch::serialize::InputArchive in;
  std::istringstream stream(out.str());
  in.load_from(stream);
  resumed->load(in);
  train(*resumed, f.train, 1, 2);
  EXPECT_TRUE(same(state_of(*straight), state_of(*resumed)));

  // The peers on threads compute the same numbers (the MLP draws no random numbers).
  auto parallel = make(f, "name = 'dml'\nparallel = true\n");
  train(*parallel, f.train, 0, 2);
  EXPECT_TRUE(same(state_of(*straight), state_of(*parallel)));
}

TEST(Dml, SemiSupervisedAndOptionErrors) {
  Fixture f;
  auto method = make(f, "name = 'dml'\nunlabelled_fraction = 0.5\n");
  auto before = state_of(*method);
  train(*method, f.train, 0, 1);
  EXPECT_FALSE(same(before, state_of(*method)));
  EXPECT_THROW(make(f, "name = 'dml'\npeers = 1\n"), Error);
  EXPECT_THROW(make(f, "name = 'dml'\nvariant = 'mean'\n"), Error);
  EXPECT_THROW(make(f, "name = 'dml'\nunlabelled_fraction = 1.0\n"), Error);
  EXPECT_THROW(make(f, "name = 'dml'\ntest_network = 2\n"), Error);
  EXPECT_THROW(make(f, "name = 'dml'\npeer_models = ['mlp']\n"), Error);
  // Peers of different architectures.
  EXPECT_NO_THROW(make(f, "name = 'dml'\npeer_models = ['mlp', 'mlp']\n"));
}

TEST(Graft, GraftingRunMixesAndReportsAlphas) {
  Fixture f;
  auto method = make(f, "name = 'grafting'\n");
  Batcher batcher(f.train, 32, true, 11);
  torch::manual_seed(100);
  batcher.begin_epoch(0);
  auto log = method->train_epoch(0, batcher);
  std::map<std::string, double> values(log.values().begin(), log.values().end());
  ASSERT_TRUE(values.count("net0_graft_alpha"));
  ASSERT_TRUE(values.count("net1_graft_alpha"));
  // Ring of two: the layer alphas are complementary, so are their means.
  EXPECT_NEAR(values["net0_graft_alpha"] + values["net1_graft_alpha"], 1.0, 1e-9);
  EXPECT_GT(values["net0_graft_alpha"], 0.3 - 1e-9);
  EXPECT_LT(values["net0_graft_alpha"], 0.7 + 1e-9);
  EXPECT_THROW(make(f, "name = 'grafting'\npeer_models = ['mlp', 'lenet5']\n"), Error);
  EXPECT_THROW(make(f, "name = 'grafting'\ngraft_A = 2\n"), Error);
  auto again = make(f, "name = 'grafting'\n");
  Batcher b2(f.train, 32, true, 11);
  torch::manual_seed(100);
  b2.begin_epoch(0);
  again->train_epoch(0, b2);
  EXPECT_TRUE(same(state_of(*method), state_of(*again)));
}

TEST(Distill, StudentLearnsFromATeacherRun) {
  Fixture f;
  TempDir dir("distill");
  make_teacher(f, dir / "teacher");
  auto method = make(f, "name = 'distill'\nteacher = '" + (dir / "teacher") + "'\ntemperature = 2\nalpha = 0.5\n");
  EXPECT_NE(method->describe().find("teacher"), std::string::npos);
  train(*method, f.train, 0, 3);
  torch::NoGradGuard no_grad;
  method->set_training(false);
  EXPECT_GT(accuracy_percent(method->predict(f.val.inputs), f.val.labels), 90.0);
  // A state file works as well as the folder; a missing teacher or a non-standard one fails.
  auto trainer = read_json(dir / "teacher/checkpoint/trainer.json");
  EXPECT_NO_THROW(make(f, "name = 'distill'\nteacher = '" + (dir / "teacher/checkpoint/") +
                              trainer["state_file"].get<std::string>() + "'\n"));
  EXPECT_THROW(make(f, "name = 'distill'\nteacher = '" + (dir / "nothing") + "'\n"), Error);
  EXPECT_THROW(make(f, "name = 'distill'\n"), Error);
}

TEST(Dgd, StudentsDistilAndGraft) {
  Fixture f;
  TempDir dir("dgd");
  make_teacher(f, dir / "teacher");
  auto method = make(f, "name = 'dgd'\nteacher = '" + (dir / "teacher") + "'\n");
  auto before = state_of(*method);
  Batcher batcher(f.train, 32, true, 11);
  torch::manual_seed(100);
  batcher.begin_epoch(0);
  auto log = method->train_epoch(0, batcher);
  std::map<std::string, double> values(log.values().begin(), log.values().end());
  EXPECT_TRUE(values.count("net1_graft_alpha"));
  EXPECT_FALSE(same(before, state_of(*method)));
  // Resume restores students, optimizers and the teacher bit for bit.
  torch::serialize::OutputArchive archive;
  method->save(archive);
  std::ostringstream out;
  archive.save_to(out);
  auto resumed = make(f, "name = 'dgd'\nteacher = '" + (dir / "teacher") + "'\n");
  torch::serialize::InputArchive in;
  std::istringstream stream(out.str());
  in.load_from(stream);
  resumed->load(in);
  EXPECT_TRUE(same(state_of(*method), state_of(*resumed)));
}

TEST(Graft, TwoNetworksAreEqualAfterAGraftAndDifflrChangesTheirPaths) {
  // With N = 2 the ring's alphas are complementary (alpha_1 + alpha_2 = 1), so both networks
  // hold the same weights after every graft; they differ only within an epoch, by their
  // learning rates under the official --difflr (0.5 and 1 times lr for N = 2).
  Fixture f;
  auto plain = make(f, "name = 'grafting'\n");
  auto difflr = make(f, "name = 'grafting'\ndifflr = true\n");
  train(*plain, f.train, 0, 1);
  train(*difflr, f.train, 0, 1);
  for (auto* method : {plain.get(), difflr.get()}) {
    auto a = network_state(*method, 0);
    auto b = network_state(*method, 1);
    for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(torch::allclose(a[i], b[i], 1e-5, 1e-6));
  }
  EXPECT_FALSE(same(network_state(*plain, 0), network_state(*difflr, 0)));
}
