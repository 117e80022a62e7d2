// End-to-end: the trainer on a small slice of Fashion-MNIST, resume bit-identity, and the
// command line's errors.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "test_helpers.h"
#include "winnow/core/error.h"
#include "winnow/engine/checkpoint.h"
#include "winnow/engine/run_setup.h"
#include "winnow/engine/trainer.h"
#include "winnow/report/files.h"

using namespace winnow;
using winnow_test::read_lines;
using winnow_test::TempDir;

namespace {

// A small, fast run: 1500 training samples of Fashion-MNIST with 40% symmetric noise.
const char* kSmallRun = R"(
[data]
name = "fashion-mnist"
subset = 1500
val_fraction = 0.2
[noise]
type = "symmetric"
rate = 0.4
[model]
name = "mlp"
[train]
epochs = 3
batch_size = 64
seed = 7
threads = 2
)";

// Metrics without the wall-clock fields, which legitimately differ between runs.
nlohmann::ordered_json without_times(nlohmann::ordered_json metrics) {
  for (auto& line : metrics) line.erase("epoch_seconds");
  return metrics;
}

}  // namespace

TEST(Trainer, EndToEndWritesTheRunFolder) {
  TempDir dir("trainer");
  auto config = Config::from_string(kSmallRun);
  RunOptions options;
  options.out_dir = dir / "run";
  options.progress = false;
  auto result = run_training(config, options);

  for (const char* file : {"config.toml", "metrics.jsonl", "summary.json", "samples.csv", "noise.json",
                           "checkpoint/trainer.json"}) {
    EXPECT_TRUE(std::filesystem::exists(dir / ("run/" + std::string(file)))) << file;
  }
  EXPECT_EQ(read_lines(dir / "run/metrics.jsonl").size(), 3u);
  auto summary = read_json(dir / "run/summary.json");
  for (const char* key : {"final_test_accuracy", "best_test_accuracy", "test_accuracy_at_best_val",
                          "mean_last10_test_accuracy", "epochs", "train_seconds", "samples_per_second",
                          "actual_noise_rate"}) {
    EXPECT_TRUE(summary.contains(key)) << key;
  }
  EXPECT_EQ(summary["epochs"], 3);
  // Even 3 epochs of an MLP on 1200 noisy samples are far above chance (10%).
  EXPECT_GT(summary["final_test_accuracy"].get<double>(), 50.0);
  EXPECT_NEAR(summary["actual_noise_rate"].get<double>(), 0.4, 0.05);
  ASSERT_TRUE(summary.contains("detection"));
  EXPECT_GT(summary["detection"]["auroc"].get<double>(), 0.5);

  // samples.csv: one row per training sample, most suspicious first.
  auto rows = read_lines(dir / "run/samples.csv");
  ASSERT_EQ(rows.size(), 1u + 1200u);
  EXPECT_EQ(rows[0], "rank,index,given_label,true_label,label_is_wrong,predicted_label,clean_score,suspect");
  double previous = -1;
  for (size_t i = 1; i < rows.size(); ++i) {
    std::stringstream row(rows[i]);
    std::string field;
    for (int c = 0; c < 7; ++c) std::getline(row, field, ',');
    const double clean = std::stod(field);
    EXPECT_GE(clean, previous);
    previous = clean;
  }
  // The resolved configuration reloads and names every default that was used.
  auto text = read_text(dir / "run/config.toml");
  EXPECT_NE(text.find("lr = 0.001"), std::string::npos) << text;
  EXPECT_NO_THROW(Config::from_file(dir / "run/config.toml"));

  // `winnow evaluate`: the last checkpoint gives the last epoch's test accuracy again, and its
  // fit of the training set agrees with the predictions in samples.csv, counted here by hand.
  auto eval = evaluate_run(dir / "run");
  EXPECT_EQ(eval["epochs_done"], 3);
  EXPECT_DOUBLE_EQ(eval["test_accuracy"].get<double>(), summary["final_test_accuracy"].get<double>());
  int64_t n = 0, wrong = 0, right_fit = 0, wrong_true = 0, wrong_memorised = 0;
  for (size_t i = 1; i < rows.size(); ++i) {
    std::stringstream row(rows[i]);
    std::vector<std::string> f;
    for (std::string field; std::getline(row, field, ',');) f.push_back(field);
    const bool is_wrong = f[4] == "1";
    ++n;
    wrong += is_wrong;
    if (!is_wrong) right_fit += f[5] == f[2];
    if (is_wrong) wrong_true += f[5] == f[3];
    if (is_wrong) wrong_memorised += f[5] == f[2];
  }
  const auto& fit = eval["train"];
  ASSERT_EQ(fit["samples"], n);
  ASSERT_EQ(fit["wrong_labelled"]["samples"], wrong);
  ASSERT_EQ(fit["clean_labelled"]["samples"], n - wrong);
  ASSERT_GT(wrong, 0);
  EXPECT_DOUBLE_EQ(fit["clean_labelled"]["accuracy"].get<double>(), 100.0 * right_fit / (n - wrong));
  EXPECT_DOUBLE_EQ(fit["wrong_labelled"]["accuracy_true_labels"].get<double>(), 100.0 * wrong_true / wrong);
  EXPECT_DOUBLE_EQ(fit["wrong_labelled"]["memorised"].get<double>(), 100.0 * wrong_memorised / wrong);
  EXPECT_DOUBLE_EQ(fit["accuracy_given_labels"].get<double>(), 100.0 * (right_fit + wrong_memorised) / n);
}

class TrainerResume : public ::testing::TestWithParam<std::string> {};

TEST_P(TrainerResume, IsBitIdenticalToAnUnbrokenRun) {
  // lenet5 (conv + fc), Adam with the Co-teaching decay (optimizer state and the schedule
  // both matter), 4 epochs straight vs 2 + resume; in fp32 and in bf16 (with channels-last).
  const std::string extra = "\n[optim]\nschedule = 'coteaching'\ndecay_start = 2\n";
  TempDir dir("resume-" + GetParam());
  std::string text = std::string(kSmallRun) + "precision = \"" + GetParam() + "\"\nchannels_last = \"auto\"\n" + extra;
  text.replace(text.find("name = \"mlp\""), 12, "name = \"lenet5\"");
  text.replace(text.find("epochs = 3"), 10, "epochs = 4");

  auto straight_config = Config::from_string(text);
  RunOptions straight;
  straight.out_dir = dir / "straight";
  straight.progress = false;
  run_training(straight_config, straight);

  auto first_config = Config::from_string(text);
  RunOptions killed;
  killed.out_dir = dir / "resumed";
  killed.progress = false;
  killed.stop_after_epochs = 2;
  run_training(first_config, killed);
  EXPECT_EQ(read_lines(dir / "resumed/metrics.jsonl").size(), 2u);

  auto resumed_config = Config::from_file(dir / "resumed/config.toml");
  RunOptions resume;
  resume.out_dir = dir / "resumed";
  resume.resume = true;
  resume.progress = false;
  run_training(resumed_config, resume);

  auto a = read_json(dir / "straight/checkpoint/trainer.json");
  auto b = read_json(dir / "resumed/checkpoint/trainer.json");
  EXPECT_EQ(without_times(a["metrics"]).dump(), without_times(b["metrics"]).dump());
  EXPECT_EQ(read_text(dir / "straight/samples.csv"), read_text(dir / "resumed/samples.csv"));

  // Same weights: identical logits, bit for bit, on the test set.
  auto config_a = Config::from_file(dir / "straight/config.toml");
  auto config_b = Config::from_file(dir / "resumed/config.toml");
  auto run_a = build_run(config_a);
  auto run_b = build_run(config_b);
  load_checkpoint(dir / "straight", *run_a->method);
  load_checkpoint(dir / "resumed", *run_b->method);
  torch::NoGradGuard no_grad;
  run_a->method->set_training(false);
  run_b->method->set_training(false);
  auto x = run_a->data.test->inputs.slice(0, 0, 256);
  EXPECT_TRUE(torch::equal(run_a->method->predict(x), run_b->method->predict(x)));
}

INSTANTIATE_TEST_SUITE_P(Precision, TrainerResume, ::testing::Values("fp32", "bf16"));

TEST(Trainer, RefusesToOverwriteARun) {
  TempDir dir("overwrite");
  auto config = Config::from_string(std::string(kSmallRun) + "");
  config.set_override("train.epochs=1");
  RunOptions options;
  options.out_dir = dir / "run";
  options.progress = false;
  run_training(config, options);
  auto again = Config::from_string(kSmallRun);
  EXPECT_THROW(run_training(again, options), Error);
}

TEST(Trainer, EarlyStoppingEndsTheRunAndReportsTheBestValidationEpoch) {
  TempDir dir("early");
  auto config = Config::from_string(kSmallRun);
  // With patience 1 and monitor val_loss on CE under 40% noise, a run of 30 epochs stops
  // well before the end (noisy validation loss rises as the net memorises).
  config.set_override("train.epochs=30");
  config.set_override("train.patience=1");
  config.set_override("train.monitor='val_loss'");
  RunOptions options;
  options.out_dir = dir / "run";
  options.progress = false;
  auto result = run_training(config, options);
  EXPECT_TRUE(result.summary["stopped_early"].get<bool>());
  const int64_t epochs = result.summary["epochs"].get<int64_t>();
  EXPECT_LT(epochs, 30);
  EXPECT_EQ(result.summary["best_val_epoch"].get<int64_t>(), epochs - 1);
}

TEST(Cli, ListNamesEveryRegistry) {
  auto r = winnow_test::run_cli("list");
  EXPECT_EQ(r.status, 0) << r.output;
  for (const char* name : {"standard", "ce", "mlp", "cnn4", "symmetric", "pairflip", "adam", "fashion-mnist"}) {
    EXPECT_NE(r.output.find(name), std::string::npos) << name << "\n" << r.output;
  }
}

TEST(Cli, HelpShowsDefaults) {
  auto r = winnow_test::run_cli("train --help");
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("epochs = 20"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--resume"), std::string::npos) << r.output;
}

TEST(Cli, BadInputIsAClearErrorAndNonZeroExit) {
  TempDir dir("cli");
  struct Case {
    std::string args;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"train --set train.epoch=3 --out " + (dir / "a"), "train.epoch"},
      {"train --set data.name=imagenet --out " + (dir / "b"), "imagenet"},
      {"train --set noise.type=symmetric --set noise.rate=1.5 --out " + (dir / "c"), "noise.rate"},
      {"train --set train.epochs=0 --out " + (dir / "d"), "train.epochs"},
      {"train --set model.name=vgg --out " + (dir / "e"), "vgg"},
      {"train --set train.batch_size=\\\"big\\\" --out " + (dir / "f"), "train.batch_size"},
      {"train --config " + (dir / "missing.toml"), "missing.toml"},
      {"train --resume " + dir.str(), "config.toml"},
  };
  for (const auto& c : cases) {
    auto r = winnow_test::run_cli(c.args);
    EXPECT_NE(r.status, 0) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.expected), std::string::npos) << c.args << "\n" << r.output;
  }
}

TEST(Cli, NoiseCommandWritesLabelsMaskAndMatrix) {
  TempDir dir("noisecli");
  auto r = winnow_test::run_cli("noise --set noise.type=pairflip --set noise.rate=0.45 --out " + (dir / "n"));
  ASSERT_EQ(r.status, 0) << r.output;
  auto labels = read_lines(dir / "n/noisy_labels.csv");
  EXPECT_EQ(labels.size(), 60001u);
  EXPECT_EQ(labels[0], "index,true_label,noisy_label,flipped");
  EXPECT_EQ(read_lines(dir / "n/transition.csv").size(), 10u);
  auto record = read_json(dir / "n/noise.json");
  EXPECT_NEAR(record["actual_rate"].get<double>(), 0.45, 0.01);
}
