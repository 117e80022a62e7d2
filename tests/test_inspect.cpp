// `winnow inspect` end to end on a small slice of Fashion-MNIST, and `winnow train` taking its
// "auto" options from the estimate on a user's own labels (no simulation).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "test_helpers.h"
#include "winnow/core/error.h"
#include "winnow/engine/inspect.h"
#include "winnow/engine/trainer.h"
#include "winnow/report/files.h"

using namespace winnow;
using winnow_test::read_lines;
using winnow_test::TempDir;

namespace {

// 4000 samples (3200 train after the noisy validation split), 30% pair-flip noise; mlp.
const char* kInspect = R"(
[data]
name = "fashion-mnist"
subset = 4000
val_fraction = 0.2
[noise]
type = "pairflip"
rate = 0.3
[model]
name = "mlp"
[train]
batch_size = 64
seed = 3
threads = 2
[estimate]
folds = 2
epochs = 6
)";

}  // namespace

TEST(Inspect, EstimatesTheNoiseAndRanksTheSamples) {
  TempDir dir("inspect");
  Config config = Config::from_string(kInspect);
  InspectOptions options;
  options.out_dir = dir / "out";
  options.progress = false;
  auto record = run_inspect(config, options);

  for (const char* key : {"noise_rate", "label_issues", "transition_matrix", "per_class_noise_rate",
                          "overlapping_classes", "health_score", "suspects", "against_truth"}) {
    EXPECT_TRUE(record.contains(key)) << key;
  }
  const auto& truth = record["against_truth"];
  // 30% pair-flip on 3200 samples, 2 folds x 6 epochs of an mlp on 1600 samples: a weak
  // network (seen: rate 0.379 for 0.310, F1 0.77, AUROC 0.85, T error 0.35); uninformative
  // probabilities would give AUROC 0.5 and no structure in T.
  EXPECT_LT(truth["rate_error"].get<double>(), 0.1) << record.dump(1);
  EXPECT_GT(truth["detection"]["f1"].get<double>(), 0.65) << record.dump(1);
  EXPECT_GT(truth["detection"]["auroc"].get<double>(), 0.8) << record.dump(1);
  EXPECT_LT(truth["transition_relative_l1_error"].get<double>(), 0.45) << record.dump(1);
  // Pair-flip puts each class's wrong labels on one other class.
  EXPECT_TRUE(record["asymmetric"].get<bool>()) << record["asymmetry"];
  const auto& t = record["transition_matrix"];
  ASSERT_EQ(t.size(), 10u);
  for (const auto& row : t) {
    double sum = 0;
    for (const auto& v : row) sum += v.get<double>();
    EXPECT_NEAR(sum, 1.0, 1e-9);
  }
  EXPECT_EQ(record["overlapping_classes"][0].size(), 3u);  // true, given, share_of_samples

  auto lines = read_lines(dir / "out/samples.csv");
  ASSERT_EQ(lines.size(), 3201u);
  EXPECT_EQ(lines[0], "rank,index,given_label,true_label,label_is_wrong,predicted_label,clean_score,suspect");
  EXPECT_TRUE(std::filesystem::exists(dir / "out/probabilities.npy"));
  EXPECT_TRUE(std::filesystem::exists(dir / "out/estimate.json"));
  EXPECT_EQ(read_json(dir / "out/estimate.json")["suspects"], record["suspects"]);

  // A rerun takes the finished folds back and gives the same answer.
  Config again = Config::from_string(kInspect);
  auto second = run_inspect(again, options);
  EXPECT_EQ(second["label_issues"], record["label_issues"]);
  EXPECT_EQ(second["transition_matrix"], record["transition_matrix"]);
}

TEST(Inspect, CliPrintsSummaryAndRejectsBadOptions) {
  TempDir dir("inspect-cli");
  const std::string base = "inspect --set data.subset=1200 --set data.val_fraction=0.2 --set noise.type=symmetric "
                           "--set noise.rate=0.4 --set train.threads=2 --set estimate.folds=2 --set estimate.epochs=2 ";
  auto ok = winnow_test::run_cli(base + "--out " + dir / "ok");
  ASSERT_EQ(ok.status, 0) << ok.output;
  EXPECT_NE(ok.output.find("estimated noise rate"), std::string::npos) << ok.output;
  EXPECT_NE(ok.output.find("top 10 suspects"), std::string::npos) << ok.output;
  EXPECT_NE(ok.output.find("against the truth"), std::string::npos) << ok.output;

  auto folds = winnow_test::run_cli(base + "--set estimate.folds=1 --out " + dir / "bad");
  EXPECT_EQ(folds.status, 1);
  EXPECT_NE(folds.output.find("estimate.folds = 1"), std::string::npos) << folds.output;
  auto rule = winnow_test::run_cli(base + "--set inspect.filter_by=guess --out " + dir / "bad");
  EXPECT_EQ(rule.status, 1);
  EXPECT_NE(rule.output.find("inspect.filter_by"), std::string::npos) << rule.output;
  auto typo = winnow_test::run_cli(base + "--set estimate.fold=3 --out " + dir / "bad");
  EXPECT_EQ(typo.status, 1);
  EXPECT_NE(typo.output.find("estimate.fold"), std::string::npos) << typo.output;
}

// A user's own labels (a label file, no simulation): Co-teaching has no forget rate and takes
// the estimate; summary.json and estimate.json say what was estimated and set.
TEST(AutoConfiguration, CoTeachingOnOwnLabelsTakesTheEstimatedForgetRate) {
  TempDir dir("auto");
  // Labels for the whole training file (60000): 25% pair-flip, written by the noise command,
  // then converted from its CSV to one label per line, as a user's label file.
  const int64_t n = 60000;
  auto noise = winnow_test::run_cli("noise --set noise.type=pairflip --set noise.rate=0.25 --set noise.seed=5 --out " +
                                    dir / "noise");
  ASSERT_EQ(noise.status, 0) << noise.output;
  auto rows = read_lines(dir / "noise/noisy_labels.csv");
  ASSERT_EQ(static_cast<int64_t>(rows.size()), n + 1);
  {
    std::ofstream labels(dir / "labels.txt");
    for (size_t i = 1; i < rows.size(); ++i) {
      // index,true_label,noisy_label,flipped
      auto first = rows[i].find(',');
      auto second = rows[i].find(',', first + 1);
      auto third = rows[i].find(',', second + 1);
      labels << rows[i].substr(second + 1, third - second - 1) << "\n";
    }
  }
  Config config = Config::from_string(fmt::format(R"(
[data]
name = "fashion-mnist"
subset = 3000
val_fraction = 0.2
noisy_labels = "{}"
[model]
name = "mlp"
[method]
name = "coteaching"
num_gradual = 2
[train]
epochs = 2
batch_size = 64
seed = 3
threads = 2
[estimate]
epochs = 3
)", dir / "labels.txt"));
  RunOptions options;
  options.out_dir = dir / "run";
  options.progress = false;
  auto result = run_training(config, options);
  const auto& summary = result.summary;
  ASSERT_TRUE(summary.contains("noise_estimate")) << summary.dump(1);
  ASSERT_TRUE(summary["auto"].contains("method.forget_rate")) << summary.dump(1);
  const double estimated = summary["noise_estimate"]["noise_rate"].get<double>();
  EXPECT_NEAR(std::stod(summary["auto"]["method.forget_rate"].get<std::string>()), estimated, 1e-4);
  EXPECT_NEAR(estimated, 0.25, 0.08) << summary["noise_estimate"].dump(1);
  EXPECT_LT(summary["noise_estimate"]["against_truth"]["rate_error"].get<double>(), 0.08);
  EXPECT_TRUE(std::filesystem::exists(dir / "run/estimate.json"));
  EXPECT_NE(read_text(dir / "run/config.toml").find("forget_rate = 'auto'"), std::string::npos);
  // The method's own description carries the estimated forget rate.
  EXPECT_NE(summary["method"].get<std::string>().find(fmt::format("forget_rate={}", estimated)), std::string::npos)
      << summary["method"];
}
