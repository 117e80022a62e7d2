#pragma once
// Progress of long work (epochs, cross-fitting folds, clustering rounds). On a terminal: one
// line redrawn in place with a bar, the count, the elapsed time and an estimate of the time
// left. Anywhere else (a log file, a pipe, CI) the bar draws nothing, and only the permanent
// lines given to line() are printed, so logs keep one line per step.
#include <chrono>
#include <cstdint>
#include <string>

namespace winnow {

class ProgressBar {
 public:
  // `enabled` false: prints nothing at all (--quiet).
  ProgressBar(std::string label, int64_t total, bool enabled = true);
  ~ProgressBar();

  // stdout is a terminal (and TERM is not "dumb").
  static bool on_terminal();

  // `done` of `total` finished; redrawn at most ten times a second, and at the end.
  void update(int64_t done);
  void set_label(std::string label);
  void set_total(int64_t total);
  // Clears the bar, prints `text` and a newline; the bar comes back at the next update.
  void line(const std::string& text);
  // The bar as drawn for `done` after `elapsed` seconds (tests; no terminal needed).
  std::string render(int64_t done, double elapsed_seconds) const;

 private:
  void clear();

  std::string label_;
  int64_t total_;
  bool enabled_, terminal_, drawn_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
};

}  // namespace winnow
