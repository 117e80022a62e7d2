// IDX images and labels (load_idx). Input: <mode byte><2-byte little-endian split><images><labels>:
// the first `split` bytes after the header are the images file, the rest the labels file; the
// mode picks num_classes. Either file may be gzip data (the loader inflates it).
#include "fuzz_common.h"
#include "winnow/data/loaders.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  winnow_fuzz::init_torch();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  static const int64_t kClasses[4] = {10, 2, 1, 256};
  const int64_t num_classes = kClasses[data[0] & 3];
  size_t split = static_cast<size_t>(data[1]) | (static_cast<size_t>(data[2]) << 8);
  data += 3;
  size -= 3;
  if (split > size) split = size;
  static const std::string images = winnow_fuzz::scratch_path("images-idx3-ubyte");
  static const std::string labels = winnow_fuzz::scratch_path("labels-idx1-ubyte");
  winnow_fuzz::write_file(images, data, split);
  winnow_fuzz::write_file(labels, data + split, size - split);
  winnow_fuzz::expect_success_or_winnow_error([&] { winnow::load_idx(images, labels, num_classes); });
  return 0;
}
