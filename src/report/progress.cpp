#include "winnow/report/progress.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace winnow {
namespace {

std::string duration(double seconds) {
  const auto s = static_cast<int64_t>(seconds + 0.5);
  return s >= 3600 ? fmt::format("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60) : fmt::format("{}:{:02}", s / 60, s % 60);
}

}  // namespace

ProgressBar::ProgressBar(std::string label, int64_t total, bool enabled)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled),
      terminal_(enabled && on_terminal()),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_ - std::chrono::seconds(1)) {}

ProgressBar::~ProgressBar() { clear(); }

bool ProgressBar::on_terminal() {
  const char* term = std::getenv("TERM");
  return ::isatty(STDOUT_FILENO) && !(term && std::strcmp(term, "dumb") == 0);
}

std::string ProgressBar::render(int64_t done, double elapsed) const {
  constexpr int width = 30;
  const int64_t total = std::max<int64_t>(total_, 1);
  const int64_t clamped = std::clamp<int64_t>(done, 0, total);
  const int filled = static_cast<int>(width * clamped / total);
  std::string text = fmt::format("  {} [{}{}] {}/{}  {}", label_, std::string(filled, '#'), std::string(width - filled, '.'),
                                 clamped, total_, duration(elapsed));
  // The time left at the rate so far; nothing until there is a rate.
  if (clamped > 0 && clamped < total) text += fmt::format(" < {}", duration(elapsed * (total - clamped) / clamped));
  return text;
}

void ProgressBar::update(int64_t done) {
  if (!terminal_) return;
  const auto now = std::chrono::steady_clock::now();
  if (done < total_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  fmt::print("\r\033[K{}", render(done, std::chrono::duration<double>(now - start_).count()));
  std::fflush(stdout);
  drawn_ = true;
}

void ProgressBar::set_label(std::string label) { label_ = std::move(label); }

void ProgressBar::set_total(int64_t total) { total_ = total; }

void ProgressBar::line(const std::string& text) {
  if (!enabled_) return;
  clear();
  fmt::print("{}\n", text);
  std::fflush(stdout);
}

void ProgressBar::clear() {
  if (!drawn_) return;
  fmt::print("\r\033[K");
  std::fflush(stdout);
  drawn_ = false;
}

}  // namespace winnow
