// A user's own labels (load_label_override): one integer per line, or a .npy. Input: <mode
// byte><size byte><file>. The mode picks the file name's ending (.txt, .npy, .npy.gz, none),
// keep_as_truth and the data set's class count; the size byte is the data set's sample count.
#include "fuzz_common.h"
#include "winnow/data/loaders.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  winnow_fuzz::init_torch();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint8_t mode = data[0];
  const int64_t samples = data[1];
  static const char* const kNames[4] = {"labels.txt", "labels.npy", "labels.npy.gz", "labels"};
  static const int64_t kClasses[4] = {2, 3, 10, 256};
  const std::string path = winnow_fuzz::scratch_path(kNames[mode & 3]);
  winnow_fuzz::write_file(path, data + 2, size - 2);
  winnow::Dataset set;
  set.name = "fuzz";
  set.num_classes = kClasses[(mode >> 2) & 3];
  set.inputs = torch::zeros({samples, 2});
  set.labels = torch::arange(samples, torch::kInt64).remainder(set.num_classes);
  const bool keep_as_truth = (mode & 16) != 0;
  winnow_fuzz::expect_success_or_winnow_error([&] { winnow::load_label_override(set, path, keep_as_truth); });
  return 0;
}
