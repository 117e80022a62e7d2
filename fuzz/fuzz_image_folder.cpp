// Image folders and list files (load_image_folder; stb_image decodes). Input: <mode byte><bytes>.
//   mode & 3 == 0: the bytes are one image in a class folder (root/a/img.<ext>), beside a valid
//                  2x2 image in root/b;
//   mode & 3 == 1: the same image named by a fixed list file (img.<ext> 0, ok.png 1);
//   mode & 3 >= 2: the bytes are the list file; beside it are valid images a.png, b.bmp and
//                  sub/c.png, ok.png, b/ok.png, and an image of another size, big.png (3x1).
// Bits 2-4 pick <ext>, bit 5 resizing to 3x3 (data.image_size), bits 6-7 the channels option.
#include <stb/stb_image_write.h>

#include <array>

#include "fuzz_common.h"
#include "winnow/data/loaders.h"

namespace {

// A valid image written by stb_image_write (2x2 grey PNG, 2x2 RGB BMP, 3x1 grey PNG).
void write_image(const std::filesystem::path& path, int width, int height, int channels) {
  std::vector<unsigned char> pixels(static_cast<size_t>(width * height * channels));
  for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<unsigned char>(i * 37);
  const bool ok = path.extension() == ".bmp"
                      ? stbi_write_bmp(path.c_str(), width, height, channels, pixels.data())
                      : stbi_write_png(path.c_str(), width, height, channels, pixels.data(), width * channels);
  if (!ok) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  winnow_fuzz::init_torch();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  namespace fs = std::filesystem;
  const uint8_t mode = data[0];
  ++data;
  --size;
  static const std::array<const char*, 8> kExtensions = {"png", "jpg", "bmp", "gif", "tga", "pgm", "ppm", "jpeg"};
  static const std::array<int64_t, 4> kChannels = {0, 1, 3, 2};
  winnow::ImageFolderOptions options;
  options.image_size = (mode & 32) ? 3 : 0;
  options.channels = kChannels[(mode >> 6) & 3];
  // A header may claim up to 2^22 pixels (12 MiB at 3 channels): the limit's check is what is
  // fuzzed, and decodes of hundreds of MiB (legal below the default limit) would only exhaust
  // libFuzzer's 2 GiB RSS limit through ASan's quarantine.
  options.max_pixels = int64_t{1} << 22;
  const std::string ext = kExtensions[(mode >> 2) & 7];
  static const fs::path root = winnow_fuzz::scratch() / "images";
  static const bool prepared = [] {
    fs::create_directories(root / "a");
    fs::create_directories(root / "b");
    fs::create_directories(root / "sub");
    write_image(root / "b" / "ok.png", 2, 2, 1);
    write_image(root / "ok.png", 2, 2, 1);
    write_image(root / "a.png", 2, 2, 1);
    write_image(root / "b.bmp", 2, 2, 3);
    write_image(root / "sub" / "c.png", 2, 2, 1);
    write_image(root / "big.png", 3, 1, 1);
    return true;
  }();
  (void)prepared;
  std::error_code ignored;
  std::string path;
  fs::path image;
  switch (mode & 3) {
    case 0:
      image = root / "a" / ("img." + ext);
      winnow_fuzz::write_file(image.string(), data, size);
      path = root.string();
      break;
    case 1:
      image = root / ("img." + ext);
      winnow_fuzz::write_file(image.string(), data, size);
      path = (root / "fixed.txt").string();
      winnow_fuzz::write_file(path, "img." + ext + " 0\nok.png 1\n");
      break;
    default:
      path = (root / "list.txt").string();
      winnow_fuzz::write_file(path, data, size);
      break;
  }
  winnow_fuzz::expect_success_or_winnow_error([&] { winnow::load_image_folder(path, options); });
  if (!image.empty()) fs::remove(image, ignored);
  return 0;
}
