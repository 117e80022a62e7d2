#include <gtest/gtest.h>

#include "winnow/core/config.h"
#include "winnow/core/error.h"

using winnow::Config;

TEST(Config, DefaultsAreRecordedInResolved) {
  Config config;
  EXPECT_EQ(config.get<int64_t>("train.epochs", 5), 5);
  EXPECT_DOUBLE_EQ(config.get<double>("optim.lr", 0.1), 0.1);
  auto text = config.resolved_toml();
  EXPECT_NE(text.find("epochs = 5"), std::string::npos) << text;
  EXPECT_NE(text.find("[optim]"), std::string::npos) << text;
}

TEST(Config, FileValuesAndOverrides) {
  auto config = Config::from_string("[train]\nepochs = 3\n[model]\nname = 'mlp'\n");
  config.set_override("train.epochs=7");
  config.set_override("model.hidden=[512, 256]");
  config.set_override("data.name=fashion-mnist");
  EXPECT_EQ(config.get<int64_t>("train.epochs", 1), 7);
  EXPECT_EQ(config.get<std::string>("model.name", "x"), "mlp");
  EXPECT_EQ(config.get<std::vector<int64_t>>("model.hidden", {}), (std::vector<int64_t>{512, 256}));
  EXPECT_EQ(config.get<std::string>("data.name", ""), "fashion-mnist");
  EXPECT_NO_THROW(config.check_unknown());
}

TEST(Config, IntegerAcceptedForDouble) {
  auto config = Config::from_string("[optim]\nlr = 1\n");
  EXPECT_DOUBLE_EQ(config.get<double>("optim.lr", 0.5), 1.0);
}

TEST(Config, WrongTypeNamesKeyAndExpectation) {
  auto config = Config::from_string("[train]\nepochs = 'ten'\n", "run.toml");
  try {
    config.get<int64_t>("train.epochs", 1);
    FAIL() << "expected an error";
  } catch (const winnow::Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("run.toml"), std::string::npos) << what;
    EXPECT_NE(what.find("train.epochs"), std::string::npos) << what;
    EXPECT_NE(what.find("integer"), std::string::npos) << what;
  }
}

TEST(Config, UnknownKeyIsAnErrorListingKnownKeys) {
  auto config = Config::from_string("[train]\nepoch = 3\n");
  config.get<int64_t>("train.epochs", 1);
  config.get<int64_t>("train.seed", 1);
  try {
    config.check_unknown();
    FAIL() << "expected an error";
  } catch (const winnow::Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("train.epoch'"), std::string::npos) << what;
    EXPECT_NE(what.find("epochs"), std::string::npos) << what;
    EXPECT_NE(what.find("seed"), std::string::npos) << what;
  }
}

TEST(Config, UnknownSectionIsAnError) {
  auto config = Config::from_string("[trian]\nepochs = 3\n");
  config.get<int64_t>("train.epochs", 1);
  EXPECT_THROW(config.check_unknown(), winnow::Error);
}

TEST(Config, ChoiceOutsideAllowedIsAnError) {
  auto config = Config::from_string("[optim]\nname = 'rmsprop'\n");
  try {
    config.get_choice("optim.name", "sgd", {"sgd", "adam"});
    FAIL();
  } catch (const winnow::Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("rmsprop"), std::string::npos);
    EXPECT_NE(what.find("sgd, adam"), std::string::npos);
  }
}

TEST(Config, MalformedOverrideAndFile) {
  Config config;
  EXPECT_THROW(config.set_override("epochs"), winnow::Error);
  EXPECT_THROW(config.set_override("epochs=3"), winnow::Error);
  EXPECT_THROW(Config::from_string("[train\nepochs = 3\n"), winnow::Error);
}

TEST(Config, ResolvedRoundTripsDoublesExactly) {
  Config config;
  config.get<double>("optim.lr", 0.1);
  config.get<double>("noise.rate", 1.0 / 3.0);
  config.get<double>("optim.gamma", 1.0);
  config.get<double>("optim.weight_decay", 1e-5);
  const std::string text = config.resolved_toml();
  EXPECT_NE(text.find("lr = 0.1\n"), std::string::npos) << text;  // shortest form, not 0.1000...01
  auto again = Config::from_string(text);
  EXPECT_EQ(again.get<double>("optim.lr", 0.0), 0.1);
  EXPECT_EQ(again.get<double>("noise.rate", 0.0), 1.0 / 3.0);
  EXPECT_EQ(again.get<double>("optim.gamma", 0.0), 1.0);  // written as 1.0, still a float
  EXPECT_EQ(again.get<double>("optim.weight_decay", 0.0), 1e-5);
  EXPECT_TRUE(again.raw().at_path("optim.gamma").is_floating_point());
}
