// Domain adaptation by clustering (ACT and its clustering baseline): the batch-hard triplet
// loss against hand values and finite differences, the P x K identity sampler, the remember
// rate schedule, pseudo-label scoring, the domain split and tiny end-to-end runs of both
// methods (outputs, resume, bad input).
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <set>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include "test_helpers.h"
#include "winnow/adapt/adaptation.h"
#include "winnow/adapt/domain.h"
#include "winnow/adapt/pseudo_labels.h"
#include "winnow/core/error.h"
#include "winnow/data/identity_sampler.h"
#include "winnow/engine/trainer.h"
#include "winnow/losses/triplet.h"
#include "winnow/report/files.h"

using namespace winnow;
using winnow_test::TempDir;

namespace {

TEST(TripletLoss, HandComputedBatchHardValues) {
  // Four points on a line: 0 and 1 (identity 0), 3 and 7 (identity 1); margin 0.5.
  //   anchor 0: hardest positive d(0,1) = 1, hardest negative d(0,3) = 3 -> max(0, 0.5 + 1 - 3) = 0
  //   anchor 1: positive 1, negative d(1,3) = 2 -> 0
  //   anchor 3: positive d(3,7) = 4, negative d(3,1) = 2 -> 0.5 + 4 - 2 = 2.5
  //   anchor 7: positive 4, negative d(7,1) = 6 -> 0
  auto x = torch::tensor({0.0, 1.0, 3.0, 7.0}, torch::kFloat64).unsqueeze(1);
  auto y = torch::tensor({0, 0, 1, 1}, torch::kInt64);
  auto out = batch_hard_triplet(x, y, 0.5);
  auto expected = torch::tensor({0.0, 0.0, 2.5, 0.0}, torch::kFloat64);
  EXPECT_TRUE(torch::allclose(out.loss, expected, 1e-9, 1e-6)) << out.loss;
  EXPECT_EQ(out.separated.to(torch::kInt64).sum().item<int64_t>(), 3);  // anchor 3 has d_ap 4 > d_an 2
}

TEST(TripletLoss, AnchorsWithoutNegativeOrPositive) {
  // One identity only: no triplet exists, every loss is 0 (the official code fails on an empty min).
  auto x = torch::tensor({{0.0, 0.0}, {1.0, 1.0}}, torch::kFloat64);
  auto same = batch_hard_triplet(x, torch::tensor({3, 3}, torch::kInt64), 0.5);
  EXPECT_EQ(same.loss.abs().sum().item<double>(), 0.0);
  // Singletons: the hardest positive is the anchor itself (distance ~0): loss = margin - d_an.
  auto single = batch_hard_triplet(x, torch::tensor({0, 1}, torch::kInt64), 2.0);
  EXPECT_NEAR(single.loss[0].item<double>(), 2.0 - std::sqrt(2.0), 1e-5);
  EXPECT_THROW(batch_hard_triplet(x, torch::tensor({0}, torch::kInt64), 0.5), Error);
  EXPECT_THROW(batch_hard_triplet(x, torch::tensor({0, 1}, torch::kInt64), -1.0), Error);
}

TEST(TripletLoss, GradientMatchesFiniteDifferences) {
  torch::manual_seed(7);
  // Random points in general position (no ties among distances): the hard pairs are unique, so
  // the loss is differentiable there.
  auto x0 = torch::randn({8, 3}, torch::kFloat64);
  auto y = torch::tensor({0, 0, 1, 1, 2, 2, 3, 3}, torch::kInt64);
  auto weights = torch::rand({8}, torch::kFloat64) + 0.5;
  auto objective = [&](const torch::Tensor& x) { return (weights * batch_hard_triplet(x, y, 1.0).loss).sum(); };
  auto x = x0.clone().requires_grad_(true);
  objective(x).backward();
  auto analytic = x.grad();
  ASSERT_GT(objective(x0).item<double>(), 0.0) << "the case must have active triplets";
  auto numeric = torch::zeros_like(x0);
  const double eps = 1e-6;
  for (int64_t i = 0; i < x0.numel(); ++i) {
    auto plus = x0.clone();
    auto minus = x0.clone();
    plus.view({-1})[i] += eps;
    minus.view({-1})[i] -= eps;
    numeric.view({-1})[i] = (objective(plus).item<double>() - objective(minus).item<double>()) / (2 * eps);
  }
  EXPECT_TRUE(torch::allclose(analytic, numeric, 1e-5, 1e-6)) << analytic << "\n" << numeric;
}

TEST(IdentitySampler, BatchesArePIdentitiesOfKSamples) {
  // Identities 0..5 with 1, 2, 4, 6, 8, 10 samples; -1 is unassigned and never drawn.
  std::vector<int64_t> labels;
  for (int64_t id = 0; id < 6; ++id) {
    const int64_t count = id == 0 ? 1 : 2 * id;
    for (int64_t j = 0; j < count; ++j) labels.push_back(id);
  }
  labels.push_back(-1);
  labels.push_back(-1);
  auto y = torch::tensor(labels, torch::kInt64);
  IdentitySampler sampler(y, 4);
  EXPECT_EQ(sampler.identities(), 6);
  auto generator = at::detail::createCPUGenerator(11);
  auto order = sampler.epoch_order(generator);
  ASSERT_EQ(order.numel(), 24);
  std::set<int64_t> seen_identities;
  for (int64_t p = 0; p < 6; ++p) {
    auto chunk = y.index_select(0, order.slice(0, 4 * p, 4 * p + 4));
    const int64_t id = chunk[0].item<int64_t>();
    EXPECT_TRUE(chunk.eq(id).all().item<bool>()) << "a chunk of K mixes identities: " << chunk;
    EXPECT_GE(id, 0);
    seen_identities.insert(id);
    // Identities with at least K samples give K distinct ones.
    auto positions = order.slice(0, 4 * p, 4 * p + 4);
    if (id >= 2) EXPECT_EQ(std::get<0>(at::_unique(positions)).numel(), 4);
  }
  EXPECT_EQ(seen_identities.size(), 6u);
  // Batches of P x K = 8: three full batches; with the same seed the same order.
  auto g1 = at::detail::createCPUGenerator(5);
  auto g2 = at::detail::createCPUGenerator(5);
  auto a = sampler.epoch_batches(8, g1);
  auto b = sampler.epoch_batches(8, g2);
  ASSERT_EQ(a.size(), 3u);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(a[i].equal(b[i]));
  // Fewer identities than P: one smaller batch, not an empty epoch.
  auto g3 = at::detail::createCPUGenerator(5);
  EXPECT_EQ(sampler.epoch_batches(64, g3).size(), 1u);
  EXPECT_THROW(sampler.epoch_batches(6, g3), Error);  // not a multiple of K
  EXPECT_THROW(IdentitySampler(torch::full({3}, -1, torch::kInt64), 4), Error);
}

TEST(AsymmetricCoTeaching, RememberRateFollowsTheOfficialSchedule) {
  // 0.2 + 0.08 (round + 1) with 10 rounds: 0.28 in the first round, all samples in the last.
  EXPECT_NEAR(remember_rate(0.2, 0, 10), 0.28, 1e-12);
  EXPECT_NEAR(remember_rate(0.2, 4, 10), 0.60, 1e-12);
  EXPECT_NEAR(remember_rate(0.2, 9, 10), 1.00, 1e-12);
  EXPECT_NEAR(remember_rate(0.5, 0, 2), 0.75, 1e-12);
}

TEST(PseudoLabels, CorrectnessIsTheClusterMajority) {
  // Cluster 0's inliers: identities 7, 7, 8 (majority 7); cluster 1's: 8, 8 (majority 8).
  // Outliers: sample 5 (truth 7) labelled 0 -> correct; sample 6 (truth 7) labelled 1 -> wrong.
  PseudoLabels pseudo;
  pseudo.labels = torch::tensor({0, 0, 0, 1, 1, 0, 1}, torch::kInt64);
  pseudo.inlier = torch::tensor({1, 1, 1, 1, 1, 0, 0}, torch::kBool);
  pseudo.clusters = 2;
  auto truth = torch::tensor({7, 7, 8, 8, 8, 7, 7}, torch::kInt64);
  auto correct = pseudo_label_correct(pseudo, truth);
  auto expected = torch::tensor({1, 1, 0, 1, 1, 1, 0}, torch::kBool);
  EXPECT_TRUE(correct.equal(expected)) << correct;
  EXPECT_EQ(pseudo.outliers(), 2);
  EXPECT_TRUE(pseudo.dbscan_labels().equal(torch::tensor({0, 0, 0, 1, 1, -1, -1}, torch::kInt64)));
}

// A labelled CSV of `identities` Gaussian blobs in 6-D (centres far apart, unit spread),
// `per_identity` training rows each; and a test CSV of `test_per_identity` rows each.
void write_blobs(const TempDir& dir, int64_t identities, int64_t per_identity, int64_t test_per_identity) {
  torch::manual_seed(3);
  auto centres = torch::randn({identities, 6}, torch::kFloat64) * 6.0;
  auto write = [&](const std::string& name, int64_t per) {
    std::ofstream out(dir / name);
    for (int64_t id = 0; id < identities; ++id) {
      auto rows = centres[id] + torch::randn({per, 6}, torch::kFloat64);
      for (int64_t r = 0; r < per; ++r) {
        for (int64_t d = 0; d < 6; ++d) out << rows[r][d].item<double>() << ",";
        out << id << "\n";
      }
    }
  };
  write("train.csv", per_identity);
  write("test.csv", test_per_identity);
}

std::string blob_config(const TempDir& dir, const std::string& method, const std::string& extra = "") {
  return "[data]\nname = \"custom\"\nformat = \"csv\"\ntrain = \"" + (dir / "train.csv") + "\"\ntest = \"" +
         (dir / "test.csv") +
         "\"\nsource_classes = [0, 1, 2, 3, 4, 5, 6, 7]\ntarget_classes = [8, 9, 10, 11, 12, 13, 14, 15]\n"
         "[model]\nname = \"mlp\"\nhidden = [32]\n"
         "[train]\nepochs = 3\nbatch_size = 32\nthreads = 1\nseed = 5\n"
         "[method]\nname = \"" + method + "\"\nrounds = 2\nround_epochs = 2\nk1 = 6\nk2 = 3\nrho = 0.02\n" + extra;
}

RunResult run(const std::string& text, const std::string& out, int64_t stop_after = 0, bool resume = false) {
  auto config = resume ? Config::from_file(out + "/config.toml") : Config::from_string(text);
  RunOptions options;
  options.out_dir = out;
  options.progress = false;
  options.resume = resume;
  options.stop_after_epochs = stop_after;
  return run_training(config, options);
}

TEST(DomainData, SplitsSourceTargetQueryGallery) {
  TempDir dir("winnow-adapt");
  write_blobs(dir, 16, 20, 10);
  auto config = Config::from_string(blob_config(dir, "act"));
  auto data_options = DataOptions::from_config(config);
  auto domain = prepare_domain(data_options, DomainOptions::from_config(config, data_options), 1);
  EXPECT_EQ(domain.source.size(), 8 * 20);
  EXPECT_EQ(domain.source.num_classes, 8);
  EXPECT_EQ(domain.target.size(0), 8 * 20);
  EXPECT_TRUE(domain.target_truth.ge(8).all().item<bool>());
  EXPECT_EQ(domain.query.size(0) + domain.gallery.size(0), 8 * 10);
  EXPECT_EQ(domain.query.size(0), 16);  // 20% of the 80 target test samples
  EXPECT_TRUE(domain.query_ids.ge(8).all().item<bool>());

  auto overlapping = Config::from_string(blob_config(dir, "act") + "");
  overlapping.set_override("data.target_classes=[7, 8]");
  auto o = DataOptions::from_config(overlapping);
  EXPECT_THROW(DomainOptions::from_config(overlapping, o), Error);
  auto out_of_range = Config::from_string(blob_config(dir, "act"));
  out_of_range.set_override("data.target_classes=[8, 99]");
  auto r = DataOptions::from_config(out_of_range);
  try {
    prepare_domain(r, DomainOptions::from_config(out_of_range, r), 1);
    FAIL() << "class 99 of 16 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("data.target_classes holds class 99"), std::string::npos) << e.what();
  }
}

TEST(AdaptationRun, ActEndToEndWritesItsOutputs) {
  TempDir dir("winnow-adapt");
  write_blobs(dir, 16, 20, 10);
  auto result = run(blob_config(dir, "act"), dir / "act");
  const auto& s = result.summary;
  ASSERT_FALSE(s.is_null());
  EXPECT_TRUE(s["complete"].get<bool>());
  EXPECT_EQ(s["rounds"].get<int64_t>(), 2);
  // Well separated blobs: retrieval of the target identities is good from the source model on.
  EXPECT_GT(s["target_map"].get<double>(), 50.0);
  EXPECT_LE(s["target_map"].get<double>(), 100.0);
  EXPECT_GT(s["target_rank1"].get<double>(), 50.0);
  ASSERT_EQ(s["history"].size(), 3u);  // the source model and two rounds
  const auto& round1 = s["history"][1];
  EXPECT_GT(round1["clusters"].get<int64_t>(), 1);
  EXPECT_GT(round1["pairwise_f"].get<double>(), 0.5);
  EXPECT_NEAR(round1["remember_rate"].get<double>(), 0.6, 1e-12);  // 0.2 + 0.8 * 1/2
  // metrics.jsonl: 3 source epochs, the round-0 line and two rounds.
  auto lines = winnow_test::read_lines(dir / "act/metrics.jsonl");
  ASSERT_EQ(lines.size(), 6u);
  auto last = nlohmann::json::parse(lines.back());
  EXPECT_EQ(last["phase"], "round");
  for (const char* key : {"clusters", "outliers", "pairwise_precision", "pairwise_recall", "pairwise_f",
                          "remember_rate", "target_map", "target_rank1", "eps"}) {
    EXPECT_TRUE(last.contains(key)) << key;
  }
  // pseudo_labels.csv: one row per target sample.
  auto rows = winnow_test::read_lines(dir / "act/pseudo_labels.csv");
  ASSERT_EQ(rows.size(), 1u + 8 * 20);
  EXPECT_EQ(rows[0], "target_index,origin,pseudo_label,inlier,true_identity,label_correct");
  // evaluate reads the checkpoint back and gives the same retrieval scores.
  auto evaluated = evaluate_run(dir / "act");
  EXPECT_NEAR(evaluated["target_map"].get<double>(), s["target_map"].get<double>(), 1e-9);
}

TEST(AdaptationRun, ZeroRoundsEvaluatesTheSourceModelAndMethodsShareIt) {
  TempDir dir("winnow-adapt");
  write_blobs(dir, 16, 20, 10);
  auto baseline = run(blob_config(dir, "cluster_baseline"), dir / "baseline");
  auto zero = Config::from_string(blob_config(dir, "cluster_baseline"));
  zero.set_override("method.rounds=0");
  RunOptions options;
  options.out_dir = dir / "zero";
  options.progress = false;
  auto r0 = run_training(zero, options).summary;
  EXPECT_EQ(r0["rounds"].get<int64_t>(), 0);
  EXPECT_EQ(r0["history"].size(), 1u);
  EXPECT_EQ(r0["target_map"], r0["source_only_map"]);
  // Same seed: act and the baseline start from the same source model.
  auto act = run(blob_config(dir, "act"), dir / "act").summary;
  EXPECT_EQ(act["source_only_map"], r0["source_only_map"]);
  EXPECT_EQ(baseline.summary["source_only_map"], r0["source_only_map"]);
}

TEST(AdaptationRun, ResumeAfterAKillEndsAsAnUnbrokenRun) {
  TempDir dir("winnow-adapt");
  write_blobs(dir, 16, 20, 10);
  const std::string text = blob_config(dir, "act");
  auto straight = run(text, dir / "straight").summary;
  for (int64_t stop : {2, 5}) {  // inside the source epochs; after the first round
    const std::string out = dir / ("killed" + std::to_string(stop));
    run(text, out, stop);
    auto resumed = run(text, out, 0, /*resume=*/true).summary;
    EXPECT_EQ(resumed["history"], straight["history"]) << "stopped after " << stop;
    EXPECT_EQ(read_text(out + "/pseudo_labels.csv"), read_text(dir / "straight/pseudo_labels.csv"));
  }
}

TEST(AdaptationRun, BaselineAndTheOutlierAblation) {
  TempDir dir("winnow-adapt");
  write_blobs(dir, 16, 20, 10);
  auto drop = run(blob_config(dir, "cluster_baseline"), dir / "drop").summary;
  auto keep = run(blob_config(dir, "cluster_baseline", "outliers = \"nearest_inlier\"\n"), dir / "keep").summary;
  EXPECT_TRUE(drop["complete"].get<bool>());
  EXPECT_TRUE(keep["complete"].get<bool>());
  EXPECT_NE(drop["method"].get<std::string>().find("outliers: drop"), std::string::npos);
  EXPECT_NE(keep["method"].get<std::string>().find("outliers: nearest_inlier"), std::string::npos);
}

TEST(AdaptationRun, UserTargetFileWithoutLabels) {
  TempDir dir("winnow-adapt");
  write_blobs(dir, 16, 20, 10);
  // The target as the user brings it: features only (the blob rows of identities 8..15).
  {
    std::ifstream in(dir / "train.csv");
    std::ofstream source(dir / "source.csv"), target(dir / "target.csv");
    for (std::string line; std::getline(in, line);) {
      const auto comma = line.rfind(',');
      const int64_t id = std::stoll(line.substr(comma + 1));
      if (id < 8) source << line << "\n";
      else target << line.substr(0, comma) << "\n";
    }
  }
  const std::string text = "[data]\nname = \"custom\"\nformat = \"csv\"\ntrain = \"" + (dir / "source.csv") +
                           "\"\ntarget = \"" + (dir / "target.csv") +
                           "\"\n[model]\nname = \"mlp\"\nhidden = [32]\n[train]\nepochs = 2\nbatch_size = 32\n"
                           "threads = 1\n[method]\nname = \"act\"\nrounds = 1\nround_epochs = 1\nk1 = 6\nk2 = 3\n"
                           "rho = 0.02\n";
  auto s = run(text, dir / "user").summary;
  EXPECT_TRUE(s["target_map"].is_null());  // no labelled target test split: nothing to rank
  EXPECT_EQ(s["target_samples"].get<int64_t>(), 8 * 20);
  auto rows = winnow_test::read_lines(dir / "user/pseudo_labels.csv");
  ASSERT_EQ(rows.size(), 1u + 8 * 20);
  EXPECT_EQ(rows[0], "target_index,origin,pseudo_label,inlier");
}

TEST(AdaptationRun, BadConfigurationsGiveClearErrors) {
  TempDir dir("winnow-adapt");
  write_blobs(dir, 16, 20, 10);
  int attempt = 0;
  auto expect_error = [&](const std::string& text, const std::string& override, const std::string& fragment) {
    try {
      auto config = Config::from_string(text);
      if (!override.empty()) config.set_override(override);
      RunOptions options;
      options.out_dir = dir / ("bad" + std::to_string(attempt++));
      options.progress = false;
      run_training(config, options);
      ADD_FAILURE() << "accepted; expected an error with: " << fragment;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    }
  };
  const std::string act = blob_config(dir, "act");
  expect_error(act, "method.instances=5", "multiple of method.instances");
  expect_error(act, "method.rho=2", "method.rho = 2");
  expect_error(act, "method.remember_start=0", "method.remember_start = 0");
  expect_error(act, "method.rho=1e-9", "rho");  // round(rho * pairs) = 0: no eps
  expect_error(act, "method.outliers=\"drop\"", "method.outliers");  // a baseline key: unknown to act
  auto no_target = "[data]\nname = \"custom\"\nformat = \"csv\"\ntrain = \"" + (dir / "train.csv") +
                   "\"\n[method]\nname = \"act\"\n";
  expect_error(no_target, "", "needs a target domain");
}

}  // namespace
