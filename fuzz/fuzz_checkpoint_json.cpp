// The checkpoint record (load_checkpoint: checkpoint/trainer.json, then timing.json and the
// state archive it names). A valid checkpoint of a small MLP is written once; each input is
// written over trainer.json (and, after a NUL byte, over timing.json; without one, timing.json
// is the valid one) and the checkpoint is loaded into the method.
#include "method_fixture.h"

namespace {
winnow_fuzz::MethodFixture* fixture = nullptr;
std::string valid_timing;
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  winnow_fuzz::init_torch();
  fixture = new winnow_fuzz::MethodFixture();
  std::ifstream in(fixture->timing_json(), std::ios::binary);
  valid_timing.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto parts = winnow_fuzz::split_nul(data, size, 2);
  winnow_fuzz::write_file(fixture->trainer_json(), parts[0]);
  winnow_fuzz::write_file(fixture->timing_json(), parts.size() > 1 ? parts[1] : valid_timing);
  winnow_fuzz::expect_success_or_winnow_error([&] { winnow::load_checkpoint(fixture->run_dir, *fixture->method); });
  return 0;
}
