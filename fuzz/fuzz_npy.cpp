// NPY features and labels (load_npy, load_npy_features). Input: <mode byte><2-byte
// little-endian split><features .npy><labels>. Mode bit 0: features only (load_npy_features);
// bit 1: labels as a .npy (else a text file of integers); bits 2-3: num_classes.
#include "fuzz_common.h"
#include "winnow/data/loaders.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  winnow_fuzz::init_torch();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const uint8_t mode = data[0];
  static const int64_t kClasses[4] = {0, 2, 10, -1};
  size_t split = static_cast<size_t>(data[1]) | (static_cast<size_t>(data[2]) << 8);
  data += 3;
  size -= 3;
  if (split > size) split = size;
  static const std::string features = winnow_fuzz::scratch_path("x.npy");
  static const std::string npy_labels = winnow_fuzz::scratch_path("y.npy");
  static const std::string text_labels = winnow_fuzz::scratch_path("y.txt");
  const std::string& labels = (mode & 2) ? npy_labels : text_labels;
  winnow_fuzz::write_file(features, data, split);
  winnow_fuzz::write_file(labels, data + split, size - split);
  winnow_fuzz::expect_success_or_winnow_error([&] {
    if (mode & 1) {
      winnow::load_npy_features(features);
    } else {
      winnow::load_npy(features, labels, kClasses[(mode >> 2) & 3]);
    }
  });
  return 0;
}
