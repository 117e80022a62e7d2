#pragma once
// Images for the HTML report: PNG bytes (stb_image_write) and base64 data URIs, so a page
// carries its pictures inline and opens anywhere without its run folder.
#include <string>

#include <torch/torch.h>

namespace winnow {

// RFC 4648 base64 with padding.
std::string base64(const std::string& bytes);

// One image [C, H, W] (C = 1 or 3) with values in [0, 1] as PNG bytes.
std::string encode_png(const torch::Tensor& image);

// "data:image/png;base64,..." of encode_png(image).
std::string png_data_uri(const torch::Tensor& image);

}  // namespace winnow
