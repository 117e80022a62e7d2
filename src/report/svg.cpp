#include "winnow/report/svg.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <tuple>

namespace winnow::svg {
namespace {

// Plot area inside the chart: room for the title above, tick labels left and below, and a
// legend on the right.
struct Frame {
  double left = 58, right = 150, top = 34, bottom = 46;
  double width = 0, height = 0;
  double plot_width() const { return width - left - right; }
  double plot_height() const { return height - top - bottom; }
};

// Tick positions at 1, 2 or 5 times a power of ten, about `target` of them over [lo, hi].
std::vector<double> nice_ticks(double lo, double hi, int target = 5) {
  const double span = hi - lo;
  if (!(span > 0) || !std::isfinite(span)) return {lo};
  const double raw = span / target;
  const double power = std::pow(10.0, std::floor(std::log10(raw)));
  double step = power;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    step = m * power;
    if (step >= raw) break;
  }
  std::vector<double> ticks;
  for (double t = std::ceil(lo / step - 1e-9) * step; t <= hi + step * 1e-9; t += step) {
    ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  }
  return ticks;
}

// A range that covers the data and ends on ticks; a fixed range (lo < hi) wins.
std::pair<double, double> range(double fixed_lo, double fixed_hi, double data_lo, double data_hi) {
  if (fixed_lo < fixed_hi) return {fixed_lo, fixed_hi};
  if (!(data_lo <= data_hi)) return {0, 1};
  if (data_lo == data_hi) return {data_lo - 1, data_hi + 1};
  const auto ticks = nice_ticks(data_lo, data_hi);
  const double step = ticks.size() > 1 ? ticks[1] - ticks[0] : (data_hi - data_lo);
  return {std::floor(data_lo / step) * step, std::ceil(data_hi / step) * step};
}

std::string tick_label(double value, double step) {
  if (step >= 1 && std::abs(value - std::round(value)) < 1e-9) return fmt::format("{:.0f}", value);
  const int digits = std::clamp(static_cast<int>(-std::floor(std::log10(step))), 1, 6);
  return fmt::format("{:.{}f}", value, digits);
}

std::string open_svg(double width, double height, const std::string& title) {
  return fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{2}\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">{3}</text>\n",
      width, height, width / 2, escape(title));
}

// Axes lines, ticks with grid lines, and axis labels.
std::string axes_svg(const Frame& f, const Axes& axes, double x0, double x1, double y0, double y1) {
  std::string s;
  const double pw = f.plot_width(), ph = f.plot_height();
  const auto xt = nice_ticks(x0, x1), yt = nice_ticks(y0, y1);
  const double xs = xt.size() > 1 ? xt[1] - xt[0] : 1, ys = yt.size() > 1 ? yt[1] - yt[0] : 1;
  for (double t : xt) {
    const double x = f.left + pw * (t - x0) / (x1 - x0);
    s += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#e5e5e5\"/>"
                     "<text x=\"{0:.1f}\" y=\"{3:.1f}\" text-anchor=\"middle\">{4}</text>\n",
                     x, f.top, f.top + ph, f.top + ph + 15, tick_label(t, xs));
  }
  for (double t : yt) {
    const double y = f.top + ph - ph * (t - y0) / (y1 - y0);
    s += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#e5e5e5\"/>"
                     "<text x=\"{3:.1f}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
                     f.left, y, f.left + pw, f.left - 5, y + 4, tick_label(t, ys));
  }
  s += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" stroke=\"black\"/>\n",
                   f.left, f.top, pw, ph);
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", f.left + pw / 2,
                   f.height - 10, escape(axes.x_label));
  s += fmt::format("<text x=\"14\" y=\"{0:.1f}\" text-anchor=\"middle\" transform=\"rotate(-90 14 {0:.1f})\">{1}</text>\n",
                   f.top + ph / 2, escape(axes.y_label));
  return s;
}

std::string legend_svg(const Frame& f, const std::vector<std::pair<std::string, std::string>>& entries,
                       const std::vector<bool>& dashed, bool boxes) {
  std::string s;
  const double x = f.width - f.right + 10;
  for (size_t i = 0; i < entries.size(); ++i) {
    const double y = f.top + 8 + 18.0 * static_cast<double>(i);
    if (boxes) {
      s += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"14\" height=\"10\" fill=\"{}\" fill-opacity=\"0.6\"/>",
                       x, y - 5, entries[i].second);
    } else {
      s += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"{3}\" "
                       "stroke-width=\"2\"{4}/>",
                       x, y, x + 18, entries[i].second, i < dashed.size() && dashed[i] ? " stroke-dasharray=\"5 3\"" : "");
    }
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n", x + 24, y + 4, escape(entries[i].first));
  }
  return s;
}

}  // namespace

std::string escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

const char* palette(size_t i) {
  static const char* colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return colours[i % 10];
}

// Room on the right for the legend's longest entry.
template <typename Entries>
Frame frame_for(const Axes& axes, const Entries& entries) {
  Frame f;
  f.width = axes.width;
  f.height = axes.height;
  size_t longest = 0;
  for (const auto& e : entries) longest = std::max(longest, e.name.size());
  f.right = std::clamp(40.0 + 7.0 * static_cast<double>(longest), 60.0, 280.0);
  return f;
}

std::string line_chart(const std::vector<Series>& series, const Axes& axes, const std::vector<Point>& points) {
  const Frame f = frame_for(axes, series);
  double x_lo = std::numeric_limits<double>::infinity(), x_hi = -x_lo, y_lo = x_lo, y_hi = -x_lo;
  for (const auto& s : series) {
    for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.y[i]) || !std::isfinite(s.x[i])) continue;
      x_lo = std::min(x_lo, s.x[i]), x_hi = std::max(x_hi, s.x[i]);
      y_lo = std::min(y_lo, s.y[i]), y_hi = std::max(y_hi, s.y[i]);
    }
  }
  // Plain variables, not structured bindings: lambdas may capture those only from C++20 (clang).
  double x0, x1, y0, y1;
  std::tie(x0, x1) = range(axes.x_min, axes.x_max, x_lo, x_hi);
  std::tie(y0, y1) = range(axes.y_min, axes.y_max, y_lo, y_hi);
  auto px = [&](double x) { return f.left + f.plot_width() * (x - x0) / (x1 - x0); };
  auto py = [&](double y) { return f.top + f.plot_height() - f.plot_height() * (y - y0) / (y1 - y0); };

  std::string s = open_svg(f.width, f.height, axes.title) + axes_svg(f, axes, x0, x1, y0, y1);
  std::vector<std::pair<std::string, std::string>> legend;
  std::vector<bool> dashed;
  for (size_t k = 0; k < series.size(); ++k) {
    const auto& line = series[k];
    const std::string colour = line.colour.empty() ? palette(k) : line.colour;
    legend.emplace_back(line.name, colour);
    dashed.push_back(line.dashed);
    // One polyline per unbroken stretch (NaN ends a stretch).
    std::string path;
    auto flush = [&] {
      if (path.empty()) return;
      s += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{} points=\"{}\"><title>{}</title></polyline>\n",
                       colour, line.dashed ? " stroke-dasharray=\"5 3\"" : "", path, escape(line.name));
      path.clear();
    };
    for (size_t i = 0; i < line.x.size() && i < line.y.size(); ++i) {
      if (!std::isfinite(line.y[i])) {
        flush();
        continue;
      }
      path += fmt::format("{}{:.1f},{:.1f}", path.empty() ? "" : " ", px(line.x[i]), py(std::clamp(line.y[i], y0, y1)));
    }
    flush();
    // A single-point series would be invisible as a line.
    if (line.x.size() == 1 && std::isfinite(line.y[0])) {
      s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\"/>\n", px(line.x[0]), py(line.y[0]), colour);
    }
  }
  for (const auto& p : points) {
    s += fmt::format("<circle cx=\"{0:.1f}\" cy=\"{1:.1f}\" r=\"5\" fill=\"black\"><title>{2}</title></circle>"
                     "<text x=\"{3:.1f}\" y=\"{4:.1f}\">{2}</text>\n",
                     px(p.x), py(p.y), escape(p.label), px(p.x) + 8, py(p.y) - 8);
  }
  s += legend_svg(f, legend, dashed, false);
  return s + "</svg>\n";
}

std::string heatmap(const std::vector<std::vector<double>>& values, const std::vector<std::string>& row_names,
                    const std::vector<std::string>& column_names, const std::string& title,
                    const std::string& row_label, const std::string& column_label, bool percent) {
  const size_t rows = values.size(), columns = rows ? values[0].size() : 0;
  size_t longest = 0;
  for (const auto& name : row_names) longest = std::max(longest, name.size());
  const double cell = columns > 12 ? 22 : 44;
  const double left = 40 + 7.0 * static_cast<double>(std::min<size_t>(longest, 18)), top = 40;
  const double bottom = 40 + 7.0 * static_cast<double>(std::min<size_t>(longest, 18));
  const double width = left + cell * static_cast<double>(columns) + 20, height = top + cell * static_cast<double>(rows) + bottom;
  double top_value = 0;
  for (const auto& row : values) {
    for (double v : row) {
      if (std::isfinite(v)) top_value = std::max(top_value, v);
    }
  }
  std::string s = open_svg(width, height, title);
  auto name = [](const std::vector<std::string>& names, size_t i) {
    std::string text = i < names.size() ? names[i] : std::to_string(i);
    return text.size() > 18 ? text.substr(0, 17) + "…" : text;
  };
  for (size_t i = 0; i < rows; ++i) {
    for (size_t j = 0; j < columns && j < values[i].size(); ++j) {
      const double v = values[i][j];
      const double t = top_value > 0 && std::isfinite(v) ? v / top_value : 0;
      // White to tab10 blue (31, 119, 180); text turns white on dark cells.
      const int r = static_cast<int>(std::lround(255 - t * (255 - 31)));
      const int g = static_cast<int>(std::lround(255 - t * (255 - 119)));
      const int b = static_cast<int>(std::lround(255 - t * (255 - 180)));
      const double x = left + cell * static_cast<double>(j), y = top + cell * static_cast<double>(i);
      const std::string text = !std::isfinite(v) ? "-" : percent ? fmt::format("{:.1f}", 100 * v) : fmt::format("{:.0f}", v);
      s += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{}\" height=\"{}\" fill=\"rgb({},{},{})\" stroke=\"#ddd\">"
                       "<title>{} {} / {} {}: {}</title></rect>",
                       x, y, cell, cell, r, g, b, escape(row_label), escape(name(row_names, i)),
                       escape(column_label), escape(name(column_names, j)), text);
      if (cell >= 30) {
        s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" font-size=\"10\" fill=\"{}\">{}</text>",
                         x + cell / 2, y + cell / 2 + 4, t > 0.55 ? "white" : "black", text);
      }
      s += "\n";
    }
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", left - 5,
                     top + cell * (static_cast<double>(i) + 0.5) + 4, escape(name(row_names, i)));
  }
  for (size_t j = 0; j < columns; ++j) {
    const double x = left + cell * (static_cast<double>(j) + 0.5), y = top + cell * static_cast<double>(rows) + 8;
    s += fmt::format("<text x=\"{0:.1f}\" y=\"{1:.1f}\" text-anchor=\"end\" transform=\"rotate(-45 {0:.1f} {1:.1f})\">{2}</text>\n",
                     x, y, escape(name(column_names, j)));
  }
  s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n",
                   left + cell * static_cast<double>(columns) / 2, height - 6, escape(column_label));
  s += fmt::format("<text x=\"12\" y=\"{0:.1f}\" text-anchor=\"middle\" transform=\"rotate(-90 12 {0:.1f})\">{1}</text>\n",
                   top + cell * static_cast<double>(rows) / 2, escape(row_label));
  return s + "</svg>\n";
}

std::string histogram(const std::vector<Bars>& groups, const Axes& axes) {
  const Frame f = frame_for(axes, groups);
  const size_t bins = groups.empty() ? 0 : groups[0].counts.size();
  int64_t top = 1;
  for (const auto& g : groups) {
    for (int64_t c : g.counts) top = std::max(top, c);
  }
  const double x0 = axes.x_min < axes.x_max ? axes.x_min : 0, x1 = axes.x_min < axes.x_max ? axes.x_max : 1;
  const auto [y0, y1] = range(0, 0, 0, static_cast<double>(top));
  std::string s = open_svg(f.width, f.height, axes.title) + axes_svg(f, axes, x0, x1, y0, y1);
  const double bw = f.plot_width() / static_cast<double>(std::max<size_t>(bins, 1));
  std::vector<std::pair<std::string, std::string>> legend;
  for (size_t k = 0; k < groups.size(); ++k) {
    const std::string colour = groups[k].colour.empty() ? palette(k) : groups[k].colour;
    legend.emplace_back(groups[k].name, colour);
    for (size_t b = 0; b < groups[k].counts.size(); ++b) {
      if (groups[k].counts[b] == 0) continue;
      const double h = f.plot_height() * static_cast<double>(groups[k].counts[b]) / (y1 - y0);
      s += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\" "
                       "fill-opacity=\"0.6\"><title>{}: {}</title></rect>\n",
                       f.left + static_cast<double>(b) * bw, f.top + f.plot_height() - h, bw, h, colour,
                       escape(groups[k].name), groups[k].counts[b]);
    }
  }
  s += legend_svg(f, legend, {}, true);
  return s + "</svg>\n";
}

std::vector<int64_t> bin_counts(const std::vector<double>& values, int bins, double lo, double hi) {
  std::vector<int64_t> counts(static_cast<size_t>(bins), 0);
  for (double v : values) {
    if (std::isnan(v)) continue;
    const auto b = static_cast<int64_t>(std::floor((v - lo) / (hi - lo) * bins));
    ++counts[static_cast<size_t>(std::clamp<int64_t>(b, 0, bins - 1))];
  }
  return counts;
}

}  // namespace winnow::svg
