// CIFAR binary batches (load_cifar_binary). Input: <mode byte><file>. The mode picks CIFAR-10,
// CIFAR-100 fine or coarse labels, and whether the file is given once or twice (two batches).
#include "fuzz_common.h"
#include "winnow/data/loaders.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  winnow_fuzz::init_torch();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  const bool cifar100 = (mode & 1) != 0;
  const bool fine = (mode & 2) != 0;
  const bool twice = (mode & 4) != 0;
  static const std::string path = winnow_fuzz::scratch_path("data_batch.bin");
  winnow_fuzz::write_file(path, data + 1, size - 1);
  std::vector<std::string> paths{path};
  if (twice) paths.push_back(path);
  winnow_fuzz::expect_success_or_winnow_error([&] { winnow::load_cifar_binary(paths, cifar100, fine); });
  return 0;
}
