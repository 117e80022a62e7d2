#pragma once
// Hand-written SVG charts for the run report and the run folder: line charts, heatmaps and
// histograms as self-contained <svg> strings (no plotting library, no scripts, no external
// fonts), so they can be inlined in an HTML page or written as files.
#include <cstdint>
#include <string>
#include <vector>

namespace winnow::svg {

// Text made safe for SVG/HTML content and attribute values.
std::string escape(const std::string& text);

// A colour per series: the tab10 palette, cycling.
const char* palette(size_t i);

struct Series {
  std::string name;
  std::vector<double> x, y;  // NaN y values break the line
  std::string colour;        // "" -> palette by position
  bool dashed = false;
};

struct Point {
  double x = 0, y = 0;
  std::string label;         // shown next to the point and as its tooltip
};

struct Axes {
  std::string title, x_label, y_label;
  // Fixed ranges where set (lo < hi); otherwise from the data, padded to nice ticks.
  double x_min = 0, x_max = 0, y_min = 0, y_max = 0;
  int width = 560, height = 340;
};

// Lines with a legend; `points` are marked with a dot (e.g. an operating point).
std::string line_chart(const std::vector<Series>& series, const Axes& axes, const std::vector<Point>& points = {});

// A matrix as coloured cells (white -> blue by value / max), each cell printed as text:
// `percent` prints 100 * value with one decimal, otherwise the integer value.
std::string heatmap(const std::vector<std::vector<double>>& values, const std::vector<std::string>& row_names,
                    const std::vector<std::string>& column_names, const std::string& title,
                    const std::string& row_label, const std::string& column_label, bool percent);

struct Bars {
  std::string name;
  std::vector<int64_t> counts;  // one per bin
  std::string colour;
};

// Overlaid, semi-transparent histograms of values binned over [x_min, x_max] (every group
// has the same number of bins).
std::string histogram(const std::vector<Bars>& groups, const Axes& axes);

// Counts of `values` in `bins` equal bins over [lo, hi]; values outside go to the end bins.
std::vector<int64_t> bin_counts(const std::vector<double>& values, int bins, double lo = 0, double hi = 1);

}  // namespace winnow::svg
