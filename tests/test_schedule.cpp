#include <gtest/gtest.h>

#include "winnow/core/error.h"
#include "winnow/optim/optimizer.h"

using namespace winnow;

TEST(Schedule, MultistepAndCosine) {
  auto config = Config::from_string("[optim]\nschedule = 'multistep'\nmilestones = [10, 20]\ngamma = 0.1\n");
  auto s = Schedule::from_config(config, 30, 0.01);
  EXPECT_DOUBLE_EQ(s.learning_rate(0), 0.01);
  EXPECT_DOUBLE_EQ(s.learning_rate(9), 0.01);
  EXPECT_NEAR(s.learning_rate(10), 0.001, 1e-15);
  EXPECT_NEAR(s.learning_rate(20), 0.0001, 1e-15);
  auto cosine_config = Config::from_string("[optim]\nschedule = 'cosine'\n");
  auto c = Schedule::from_config(cosine_config, 10, 0.1);
  EXPECT_DOUBLE_EQ(c.learning_rate(0), 0.1);
  EXPECT_NEAR(c.learning_rate(5), 0.05, 1e-12);  // (1 + cos(pi/2)) / 2 = 1/2
}

TEST(Schedule, CoteachingDecayAndBeta1) {
  // Official Co-teaching plan with 200 epochs and decay from 80: lr (200 - e) / 120.
  auto config = Config::from_string("[optim]\nschedule = 'coteaching'\n");
  auto s = Schedule::from_config(config, 200, 0.001);
  EXPECT_DOUBLE_EQ(s.learning_rate(79), 0.001);
  EXPECT_DOUBLE_EQ(s.learning_rate(80), 0.001);
  EXPECT_NEAR(s.learning_rate(140), 0.001 * 60.0 / 120.0, 1e-15);
  EXPECT_EQ(*s.beta1(79), 0.9);
  EXPECT_EQ(*s.beta1(80), 0.1);

  auto w = torch::zeros({2}, torch::requires_grad());
  torch::optim::Adam adam({w}, torch::optim::AdamOptions(0.001));
  s.apply(adam, 140);
  auto& options = static_cast<torch::optim::AdamOptions&>(adam.param_groups()[0].options());
  EXPECT_NEAR(options.lr(), 0.0005, 1e-15);
  EXPECT_EQ(std::get<0>(options.betas()), 0.1);
  EXPECT_EQ(std::get<1>(options.betas()), 0.999);
}

TEST(Schedule, BadOptionsAreErrors) {
  auto config = Config::from_string("[optim]\nschedule = 'step'\n");
  EXPECT_THROW(Schedule::from_config(config, 10, 0.1), Error);
  auto gamma = Config::from_string("[optim]\nschedule = 'multistep'\ngamma = 1.5\n");
  EXPECT_THROW(Schedule::from_config(gamma, 10, 0.1), Error);
}

TEST(Optimizers, RegistryBuildsAndValidates) {
  auto w = torch::zeros({3}, torch::requires_grad());
  auto sgd = Config::from_string("[optim]\nname = 'sgd'\nlr = 0.5\nmomentum = 0.9\n");
  auto opt = make_optimizer(OptimizerSpec{{w}, 10, std::nullopt}, sgd);
  EXPECT_DOUBLE_EQ(opt->param_groups()[0].options().get_lr(), 0.5);
  auto bad = Config::from_string("[optim]\nname = 'sgd'\nlr = -1\n");
  EXPECT_THROW(make_optimizer(OptimizerSpec{{w}, 10, std::nullopt}, bad), Error);
  auto unknown = Config::from_string("[optim]\nname = 'rmsprop'\n");
  try {
    make_optimizer(OptimizerSpec{{w}, 10, std::nullopt}, unknown);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("adam"), std::string::npos) << e.what();
  }
}
