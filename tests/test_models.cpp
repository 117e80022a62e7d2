// Every registered model, on MNIST-shaped {1, 28, 28} and CIFAR-shaped {3, 32, 32} input:
// shapes of logits and features, features -> classify == forward, finite gradients for every
// parameter, reproducible initialisation from the seed. The loops run over the registry, so
// a new model is covered the day it lands. Batches are 2 samples to keep the ResNets fast.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "winnow/core/config.h"
#include "winnow/core/error.h"
#include "winnow/models/network.h"

using winnow::Config;
using winnow::ModelRegistry;
using winnow::ModelSpec;
using winnow::Network;

namespace {

constexpr int64_t kBatch = 2;
constexpr int64_t kClasses = 10;

const std::vector<std::vector<int64_t>>& image_shapes() {
  static const std::vector<std::vector<int64_t>> shapes = {{1, 28, 28}, {3, 32, 32}};
  return shapes;
}

std::shared_ptr<Network> build(const std::string& name, const std::vector<int64_t>& shape,
                               int64_t classes = kClasses) {
  Config config;
  config.set<std::string>("model.name", name);
  return winnow::make_model(ModelSpec{shape, classes}, config);
}

torch::Tensor batch_for(const std::vector<int64_t>& shape) {
  std::vector<int64_t> sizes = {kBatch};
  sizes.insert(sizes.end(), shape.begin(), shape.end());
  return torch::randn(sizes);
}

int64_t count_parameters(const Network& model) {
  int64_t count = 0;
  for (const auto& p : model.parameters()) count += p.numel();
  return count;
}

std::string label(const std::string& name, const std::vector<int64_t>& shape) {
  std::string out = name + " on {";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? "," : "") + std::to_string(shape[i]);
  return out + "}";
}

}  // namespace

TEST(Models, RegistryHoldsThePaperModels) {
  for (const char* name : {"mlp", "lenet5", "cnn4", "cnn9", "preact_resnet18", "resnet18"}) {
    EXPECT_TRUE(ModelRegistry::instance().contains(name)) << name;
  }
  for (const auto& [name, entry] : ModelRegistry::instance().entries()) {
    EXPECT_FALSE(entry.description.empty()) << name;
  }
}

TEST(Models, LogitsAndFeaturesHaveTheRightShapes) {
  for (const auto& name : ModelRegistry::instance().names()) {
    for (const auto& shape : image_shapes()) {
      SCOPED_TRACE(label(name, shape));
      torch::manual_seed(0);
      auto model = build(name, shape);
      model->eval();  // running BN statistics: two passes compute the same function
      torch::NoGradGuard no_grad;
      auto x = batch_for(shape);
      auto logits = model->forward(x);
      ASSERT_EQ(logits.sizes(), (torch::IntArrayRef{kBatch, kClasses}));
      auto features = model->features(x);
      ASSERT_EQ(features.dim(), 2);
      EXPECT_EQ(features.size(0), kBatch);
      EXPECT_GT(features.size(1), 0);
      EXPECT_TRUE(torch::allclose(model->classify(features), logits, 1e-6, 1e-6));
      EXPECT_TRUE(torch::isfinite(logits).all().item<bool>());
      EXPECT_FALSE(model->describe().empty());
    }
  }
}

TEST(Models, BackwardGivesFiniteGradientsForEveryParameter) {
  for (const auto& name : ModelRegistry::instance().names()) {
    for (const auto& shape : image_shapes()) {
      SCOPED_TRACE(label(name, shape));
      torch::manual_seed(1);
      auto model = build(name, shape);
      model->train();
      auto logits = model->forward(batch_for(shape));
      auto targets = torch::randint(kClasses, {kBatch}, torch::kLong);
      torch::nn::functional::cross_entropy(logits, targets).backward();
      for (const auto& item : model->named_parameters()) {
        ASSERT_TRUE(item.value().grad().defined()) << item.key();
        EXPECT_TRUE(torch::isfinite(item.value().grad()).all().item<bool>()) << item.key();
      }
    }
  }
}

TEST(Models, SameSeedGivesIdenticalParameters) {
  for (const auto& name : ModelRegistry::instance().names()) {
    const auto& shape = image_shapes().front();
    SCOPED_TRACE(label(name, shape));
    torch::manual_seed(42);
    auto first = build(name, shape);
    torch::manual_seed(42);
    auto second = build(name, shape);
    torch::manual_seed(43);
    auto third = build(name, shape);
    auto a = first->named_parameters(), b = second->named_parameters(),
         c = third->named_parameters();
    ASSERT_EQ(a.size(), b.size());
    bool any_differs = false;
    for (const auto& item : a) {
      EXPECT_TRUE(torch::equal(item.value(), b[item.key()])) << item.key();
      any_differs = any_differs || !torch::equal(item.value(), c[item.key()]);
    }
    EXPECT_TRUE(any_differs) << "a different seed should give different weights";
  }
}

// Parameter counts computed by hand (weights + biases; BN has weight and bias, its running
// statistics are buffers).
TEST(Models, ParameterCountsMatchHandCounts) {
  // mlp 784-256-10: 784*256 + 256 + 256*10 + 10 = 203530.
  EXPECT_EQ(count_parameters(*build("mlp", {1, 28, 28})), 203530);
  EXPECT_EQ(count_parameters(*build("mlp", {784})), 203530);  // flat input
  // lenet5 on 1x28x28 (padding 2): conv1 6*1*25+6 = 156, conv2 16*6*25+16 = 2416,
  // fc1 (16*5*5)*120+120 = 48120, fc2 120*84+84 = 10164, fc3 84*10+10 = 850; total 61706.
  EXPECT_EQ(count_parameters(*build("lenet5", {1, 28, 28})), 61706);
  // lenet5 on 3x32x32 (no padding): conv1 6*3*25+6 = 456, the rest as above; total 62006.
  EXPECT_EQ(count_parameters(*build("lenet5", {3, 32, 32})), 62006);
  // cnn4 on 1x28x28: conv1 32*1*9+32 = 320, bn1 64, conv2 64*32*9+64 = 18496, bn2 128,
  // fc1 (64*7*7)*128+128 = 401536, bn3 256, fc2 128*10+10 = 1290; total 422090.
  EXPECT_EQ(count_parameters(*build("cnn4", {1, 28, 28})), 422090);
  // cnn9 on 3x32x32 (3x3 tail): convs 3584 + 147584*2 + 295168 + 590080*2 + 1180160 + 1179904
  // + 295040 = 4429184, BNs 2*(3*128 + 3*256 + 512 + 256 + 128) = 4096, fc 1290; total 4434570.
  EXPECT_EQ(count_parameters(*build("cnn9", {3, 32, 32})), 4434570);
  // resnet18 on 3x32x32: 11173962, the count usually quoted for the CIFAR ResNet-18 (stem
  // 1728+128, stages 147968 + 525568 + 2099712 + 8393728, fc 5130).
  EXPECT_EQ(count_parameters(*build("resnet18", {3, 32, 32})), 11173962);
  // preact_resnet18 on 3x32x32: stem 1728+128, stages 147968 + 525184 + 2098944 + 8392192
  // (projection shortcuts without BN), fc 5130; total 11171274.
  EXPECT_EQ(count_parameters(*build("preact_resnet18", {3, 32, 32})), 11171274);
}

TEST(Models, MlpHiddenLayersFollowTheConfig) {
  auto config = Config::from_string("[model]\nname = 'mlp'\nhidden = [32, 16]\n");
  auto model = winnow::make_model(ModelSpec{{5}, 3}, config);
  EXPECT_EQ(model->features(torch::randn({4, 5})).sizes(), (torch::IntArrayRef{4, 16}));
  EXPECT_EQ(model->forward(torch::randn({4, 5})).sizes(), (torch::IntArrayRef{4, 3}));
  // 5*32+32 + 32*16+16 + 16*3+3 = 771.
  EXPECT_EQ(count_parameters(*model), 771);
  EXPECT_NO_THROW(config.check_unknown());
}

TEST(Models, DefaultModelIsMlp) {
  Config config;
  auto model = winnow::make_model(ModelSpec{{1, 28, 28}, 10}, config);
  EXPECT_EQ(model->describe().rfind("mlp", 0), 0u) << model->describe();
}

TEST(Models, UnknownModelNameListsKnownNames) {
  Config config;
  config.set<std::string>("model.name", "resnet1001");
  try {
    winnow::make_model(ModelSpec{{3, 32, 32}, 10}, config);
    FAIL() << "expected an error";
  } catch (const winnow::Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("resnet1001"), std::string::npos) << what;
    for (const auto& name : ModelRegistry::instance().names()) {
      EXPECT_NE(what.find(name), std::string::npos) << what;
    }
  }
}

TEST(Models, BadOptionsNameTheKey) {
  struct Case {
    std::string toml;
    std::string key;
  };
  const std::vector<Case> cases = {
      {"[model]\nname = 'mlp'\nhidden = [0]\n", "model.hidden"},
      {"[model]\nname = 'mlp'\nhidden = [256, -3]\n", "model.hidden"},
      {"[model]\nname = 'cnn9'\ndropout = 1.0\n", "model.dropout"},
      {"[model]\nname = 'cnn9'\ntail_kernel = 2\n", "model.tail_kernel"},
  };
  for (const auto& c : cases) {
    auto config = Config::from_string(c.toml, "run.toml");
    try {
      winnow::make_model(ModelSpec{{3, 32, 32}, 10}, config);
      ADD_FAILURE() << "expected an error for " << c.toml;
    } catch (const winnow::Error& e) {
      std::string what = e.what();
      EXPECT_NE(what.find(c.key), std::string::npos) << what;
      EXPECT_NE(what.find("run.toml"), std::string::npos) << what;
    }
  }
}

TEST(Models, BadSpecsAreErrors) {
  // Convolutional models need {C, H, W}; every model needs classes and non-empty input.
  for (const auto& name : ModelRegistry::instance().names()) {
    SCOPED_TRACE(name);
    EXPECT_THROW(build(name, {3, 32, 32}, 0), winnow::Error);
    EXPECT_THROW(build(name, {3, 0, 32}), winnow::Error);
    if (name != "mlp") EXPECT_THROW(build(name, {784}), winnow::Error);
  }
  EXPECT_THROW(build("lenet5", {1, 8, 8}), winnow::Error);
  EXPECT_THROW(build("cnn9", {3, 16, 16}), winnow::Error);
  // A batch of the wrong shape is a winnow::Error naming the model, not a crash.
  auto model = build("lenet5", {1, 28, 28});
  EXPECT_THROW(model->forward(torch::randn({2, 3, 32, 32})), winnow::Error);
}

TEST(Models, Cnn9OneByOneTailWorksOnMnist) {
  auto config = Config::from_string("[model]\nname = 'cnn9'\ntail_kernel = 1\ndropout = 0.0\n");
  auto model = winnow::make_model(ModelSpec{{1, 28, 28}, 10}, config);
  model->eval();
  EXPECT_EQ(model->forward(torch::randn({2, 1, 28, 28})).sizes(),
            (torch::IntArrayRef{2, 10}));
}
