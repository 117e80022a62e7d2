#include "winnow/report/histogram.h"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "winnow/report/files.h"

namespace winnow {

namespace {
std::vector<int64_t> counts(const torch::Tensor& v, int bins) {
  auto idx = (v.to(torch::kFloat64).clamp(0, 1) * bins).floor().clamp_max(bins - 1).to(torch::kInt64);
  auto c = torch::bincount(idx, {}, bins).contiguous();
  return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + bins);
}
}  // namespace

void write_histogram_svg(const std::string& path, const torch::Tensor& values, const torch::Tensor& noisy,
                         const std::string& title, const std::string& x_label, int bins) {
  auto v = values.detach().to(torch::kCPU).reshape({-1});
  const bool split = noisy.defined();
  std::vector<int64_t> clean = split ? counts(v.masked_select(noisy.logical_not().to(torch::kCPU)), bins)
                                     : counts(v, bins);
  std::vector<int64_t> wrong = split ? counts(v.masked_select(noisy.to(torch::kCPU)), bins) : std::vector<int64_t>(bins, 0);
  int64_t top = 1;
  for (int b = 0; b < bins; ++b) top = std::max({top, clean[b], wrong[b]});
  const double W = 640, H = 400, left = 60, right = 20, upper = 40, lower = 50;
  const double pw = W - left - right, ph = H - upper - lower, bw = pw / bins;
  std::string s = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" "
      "font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<text x=\"{}\" y=\"20\" text-anchor=\"middle\" font-size=\"14\">{}</text>\n",
      W, H, W / 2, title);
  // Overlaid bars, semi-transparent, so both distributions stay visible where they overlap.
  auto bars = [&](const std::vector<int64_t>& c, const char* colour) {
    for (int b = 0; b < bins; ++b) {
      if (c[b] == 0) continue;
      const double h = ph * c[b] / top;
      s += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\" "
                       "fill-opacity=\"0.6\"/>\n",
                       left + b * bw, upper + ph - h, bw, h, colour);
    }
  };
  bars(clean, "#1f77b4");
  if (split) bars(wrong, "#d62728");
  // Axes, ticks and labels.
  s += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{2}\" y2=\"{1}\" stroke=\"black\"/>\n", left, upper + ph, left + pw);
  s += fmt::format("<line x1=\"{0}\" y1=\"{1}\" x2=\"{0}\" y2=\"{2}\" stroke=\"black\"/>\n", left, upper, upper + ph);
  for (int t = 0; t <= 4; ++t) {
    const double x = left + pw * t / 4;
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{:.2f}</text>\n", x, upper + ph + 15, t / 4.0);
    const double y = upper + ph - ph * t / 4;
    s += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{}</text>\n", left - 5, y + 4, top * t / 4);
  }
  s += fmt::format("<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>\n", left + pw / 2, H - 12, x_label);
  s += fmt::format("<text x=\"15\" y=\"{0}\" text-anchor=\"middle\" transform=\"rotate(-90 15 {0})\">samples</text>\n",
                   upper + ph / 2);
  if (split) {
    s += fmt::format("<rect x=\"{0}\" y=\"{1}\" width=\"12\" height=\"12\" fill=\"#1f77b4\" fill-opacity=\"0.6\"/>"
                     "<text x=\"{2}\" y=\"{3}\">clean labels</text>\n"
                     "<rect x=\"{0}\" y=\"{4}\" width=\"12\" height=\"12\" fill=\"#d62728\" fill-opacity=\"0.6\"/>"
                     "<text x=\"{2}\" y=\"{5}\">noisy labels</text>\n",
                     left + pw - 110, upper + 5, left + pw - 92, upper + 15, upper + 23, upper + 33);
  }
  s += "</svg>\n";
  atomic_write_text(path, s);
}

}  // namespace winnow
