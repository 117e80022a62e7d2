#pragma once
// A hand-written SVG histogram of per-sample values in [0, 1] (DivideMix's normalised losses,
// cf. Fig. 1 of Li et al., ICLR 2020), split into clean and noisy samples where the truth is
// known. No plotting library: bars, two colours, axes, labels.
#include <string>

#include <torch/torch.h>

namespace winnow {

// `values` [N] in [0, 1]; `noisy` bool [N] (true: the label is wrong) or undefined (one
// colour). Writes atomically to `path`.
void write_histogram_svg(const std::string& path, const torch::Tensor& values, const torch::Tensor& noisy,
                         const std::string& title, const std::string& x_label, int bins = 50);

}  // namespace winnow
