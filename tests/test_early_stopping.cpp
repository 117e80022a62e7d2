#include <gtest/gtest.h>

#include <cmath>

#include "winnow/engine/early_stopping.h"

using winnow::EarlyStopping;

TEST(EarlyStopping, PicksFirstBestAndStopsAfterPatience) {
  // Scripted validation accuracies: best 80 first reached at epoch 3; patience 3 stops at 6.
  const double accuracy[] = {50, 70, 80, 79, 80, 75, 90};
  EarlyStopping stopping(3, /*minimise=*/false);
  int64_t stopped_at = 0;
  for (int64_t e = 1; e <= 7 && !stopped_at; ++e) {
    if (stopping.update(e, accuracy[e - 1])) stopped_at = e;
  }
  EXPECT_EQ(stopped_at, 6);
  EXPECT_EQ(stopping.best_epoch(), 3);
  EXPECT_EQ(stopping.best_value(), 80);
}

TEST(EarlyStopping, MinimisesLossesAndIgnoresNaN) {
  EarlyStopping stopping(0, /*minimise=*/true);
  const double loss[] = {NAN, 2.0, 1.5, NAN, 1.7, 1.2, 1.3};
  for (int64_t e = 1; e <= 7; ++e) EXPECT_FALSE(stopping.update(e, loss[e - 1]));  // patience 0 never stops
  EXPECT_EQ(stopping.best_epoch(), 6);
  EXPECT_EQ(stopping.best_value(), 1.2);
}
