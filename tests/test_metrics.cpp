#include <gtest/gtest.h>

#include <cmath>

#include "winnow/eval/metrics.h"

using namespace winnow;

TEST(Metrics, AccuracyPercent) {
  auto logits = torch::tensor({{2.0, 1.0}, {0.0, 3.0}, {5.0, 1.0}, {0.0, 1.0}});
  auto labels = torch::tensor({0, 1, 1, 0}, torch::kInt64);
  EXPECT_DOUBLE_EQ(accuracy_percent(logits, labels), 50.0);
}

TEST(Metrics, AurocHandValues) {
  // Perfect separation, reversed, and the classic 4-sample example: positives {0.8, 0.4},
  // negatives {0.6, 0.2}: pairs won 3 of 4 -> 0.75 (counted by hand).
  auto positive = torch::tensor({true, true, false, false});
  EXPECT_DOUBLE_EQ(auroc(torch::tensor({0.9, 0.8, 0.2, 0.1}), positive), 1.0);
  EXPECT_DOUBLE_EQ(auroc(torch::tensor({0.1, 0.2, 0.8, 0.9}), positive), 0.0);
  EXPECT_DOUBLE_EQ(auroc(torch::tensor({0.8, 0.4, 0.6, 0.2}), positive), 0.75);
  // Ties count one half: all equal -> 0.5.
  EXPECT_DOUBLE_EQ(auroc(torch::tensor({0.5, 0.5, 0.5, 0.5}), positive), 0.5);
  EXPECT_TRUE(std::isnan(auroc(torch::tensor({0.5, 0.4}), torch::tensor({true, true}))));
}

TEST(Metrics, DetectionPrecisionRecallF1) {
  // 6 samples, wrong labels at 0, 1, 2; flagged 0, 1, 4: hits 2 -> precision 2/3, recall 2/3.
  auto flips = torch::tensor({true, true, true, false, false, false});
  auto suspect = torch::tensor({true, true, false, false, true, false});
  auto clean = torch::tensor({0.1, 0.2, 0.3, 0.9, 0.25, 0.8});
  auto m = detection_metrics(clean, suspect, flips);
  EXPECT_NEAR(m.precision, 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(m.recall, 2.0 / 3.0, 1e-12);
  EXPECT_NEAR(m.f1, 2.0 / 3.0, 1e-12);
  // 1 - clean ranks noisy {0.9, 0.8, 0.7} vs clean {0.1, 0.75, 0.2}: 8 of 9 pairs won.
  EXPECT_NEAR(m.auroc, 8.0 / 9.0, 1e-12);
  EXPECT_EQ(m.flagged, 3);
  EXPECT_EQ(m.noisy, 3);
}
