#include "winnow/report/png.h"

#include <stb/stb_image_write.h>

#include "winnow/core/error.h"

namespace winnow {

std::string base64(const std::string& bytes) {
  static const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < bytes.size(); i += 3) {
    const uint32_t v = (uint32_t(uint8_t(bytes[i])) << 16) | (uint32_t(uint8_t(bytes[i + 1])) << 8) | uint8_t(bytes[i + 2]);
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    out += alphabet[(v >> 6) & 63];
    out += alphabet[v & 63];
  }
  if (i < bytes.size()) {
    const bool two = i + 1 < bytes.size();
    const uint32_t v = (uint32_t(uint8_t(bytes[i])) << 16) | (two ? uint32_t(uint8_t(bytes[i + 1])) << 8 : 0);
    out += alphabet[v >> 18];
    out += alphabet[(v >> 12) & 63];
    out += two ? alphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::string encode_png(const torch::Tensor& image) {
  require(image.dim() == 3 && (image.size(0) == 1 || image.size(0) == 3),
          "encode_png: an image [C, H, W] with C = 1 or 3, got {} dimensions", image.dim());
  // [H, W, C] bytes, rows top to bottom, as stb_image_write expects.
  auto pixels = (image.detach().to(torch::kCPU, torch::kFloat32).clamp(0, 1) * 255.0f)
                    .round()
                    .to(torch::kUInt8)
                    .permute({1, 2, 0})
                    .contiguous();
  const int height = static_cast<int>(pixels.size(0)), width = static_cast<int>(pixels.size(1));
  const int channels = static_cast<int>(pixels.size(2));
  std::string out;
  auto append = [](void* context, void* data, int size) {
    static_cast<std::string*>(context)->append(static_cast<const char*>(data), static_cast<size_t>(size));
  };
  const int ok = stbi_write_png_to_func(append, &out, width, height, channels, pixels.data_ptr<uint8_t>(),
                                        width * channels);
  require(ok != 0, "encode_png: stb_image_write failed for a {}x{}x{} image", height, width, channels);
  return out;
}

std::string png_data_uri(const torch::Tensor& image) { return "data:image/png;base64," + base64(encode_png(image)); }

}  // namespace winnow
