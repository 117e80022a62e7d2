#include "winnow/report/histogram.h"

#include <vector>

#include "winnow/report/files.h"
#include "winnow/report/svg.h"

namespace winnow {

namespace {
std::vector<double> to_vector(const torch::Tensor& v) {
  auto c = v.to(torch::kFloat64).contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}
}  // namespace

void write_histogram_svg(const std::string& path, const torch::Tensor& values, const torch::Tensor& noisy,
                         const std::string& title, const std::string& x_label, int bins) {
  auto v = values.detach().to(torch::kCPU).reshape({-1});
  std::vector<svg::Bars> groups;
  if (noisy.defined()) {
    auto wrong = noisy.to(torch::kCPU).reshape({-1}).to(torch::kBool);
    groups.push_back({"clean labels", svg::bin_counts(to_vector(v.masked_select(wrong.logical_not())), bins), "#1f77b4"});
    groups.push_back({"noisy labels", svg::bin_counts(to_vector(v.masked_select(wrong)), bins), "#d62728"});
  } else {
    groups.push_back({"samples", svg::bin_counts(to_vector(v), bins), "#1f77b4"});
  }
  svg::Axes axes;
  axes.title = title;
  axes.x_label = x_label;
  axes.y_label = "samples";
  axes.x_min = 0;
  axes.x_max = 1;
  axes.width = 640;
  axes.height = 400;
  atomic_write_text(path, svg::histogram(groups, axes));
}

}  // namespace winnow
