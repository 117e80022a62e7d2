#pragma once
// Early stopping on a monitored metric of the noisy validation split (CDR's reporting rule:
// the test accuracy at the best validation epoch). The best epoch is the first one that
// reaches the best value; training stops once `patience` epochs pass without improving it.
#include <cstdint>
#include <limits>

namespace winnow {

class EarlyStopping {
 public:
  // patience 0 never stops; `minimise` for losses.
  EarlyStopping(int64_t patience, bool minimise) : patience_(patience), minimise_(minimise) {}
  // Feeds the value of 1-based `epoch`; returns true when training should stop. NaN values
  // never improve.
  bool update(int64_t epoch, double value) {
    const bool better = best_epoch_ == 0 ? value == value : (minimise_ ? value < best_ : value > best_);
    if (better) {
      best_ = value;
      best_epoch_ = epoch;
    }
    last_epoch_ = epoch;
    return patience_ > 0 && last_epoch_ - best_epoch_ >= patience_;
  }
  int64_t best_epoch() const { return best_epoch_; }  // 0 while nothing was seen
  double best_value() const { return best_; }

 private:
  int64_t patience_;
  bool minimise_;
  int64_t best_epoch_ = 0;
  int64_t last_epoch_ = 0;
  double best_ = std::numeric_limits<double>::quiet_NaN();
};

}  // namespace winnow
