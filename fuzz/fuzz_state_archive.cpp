// The checkpoint's state archive (torch::serialize::InputArchive::load_from, then Method::load
// into a small standard MLP method), loaded through load_checkpoint with a valid trainer.json.
// Input: <mode byte><bytes>.
//   mode even: the bytes are the whole state file (a zip archive as LibTorch writes it): the zip
//              structure, winnow's CRC check of every record (core/zip_check.h), then LibTorch;
//   mode odd:  the valid archive with one tensor record (data/<n>; mode / 2 picks which)
//              replaced by the bytes and re-zipped with valid CRCs, so Method::load meets tensors
//              of the wrong size or with any values.
// Every failure must reach the caller as a winnow::Error naming the file (load_checkpoint turns
// LibTorch's c10::Error and std::exception into one).
//
// Not fuzzed: forged pickle or TorchScript records with valid CRCs. LibTorch 1.13's importer
// crashes on some of them (SIGSEGV in torch::jit::ScriptTypeParser::parseClassConstant, found
// by this harness before the CRC check existed), inside torch, where winnow cannot catch it; a
// file damaged on disk no longer gets that far, as its CRCs fail first.
#include <caffe2/serialize/inline_container.h>

#include <new>

#include "method_fixture.h"

// LibTorch's unpickler sizes a buffer from a length field of the archive (Unpickler::readBytes:
// std::string::resize(length), up to 2^64) before it finds the data too short. Outside the
// fuzzer a length beyond the machine's memory is a std::bad_alloc (load_checkpoint turns it
// into a winnow::Error), but under AddressSanitizer operator new reports every failed or huge
// allocation as a crash. These replacements (ASan's are weak) throw std::bad_alloc above
// 256 MiB instead, as an allocation that fails would, so the harness checks winnow's handling of
// it rather than stopping at torch's. They go through malloc/free, which ASan still checks.
namespace {
constexpr size_t kMaxAllocation = size_t{256} << 20;
void* checked_allocate(size_t size) {
  if (size > kMaxAllocation) throw std::bad_alloc();
  void* p = std::malloc(size == 0 ? 1 : size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}
}  // namespace

void* operator new(size_t size) { return checked_allocate(size); }
void* operator new[](size_t size) { return checked_allocate(size); }
void* operator new(size_t size, const std::nothrow_t&) noexcept {
  return size > kMaxAllocation ? nullptr : std::malloc(size == 0 ? 1 : size);
}
void* operator new[](size_t size, const std::nothrow_t&) noexcept {
  return size > kMaxAllocation ? nullptr : std::malloc(size == 0 ? 1 : size);
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace {
winnow_fuzz::MethodFixture* fixture = nullptr;
std::vector<std::string> record_names;
std::vector<std::string> record_data;
std::vector<size_t> tensor_records;  // indices into record_names of the tensors' data
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  winnow_fuzz::init_torch();
  fixture = new winnow_fuzz::MethodFixture();
  caffe2::serialize::PyTorchStreamReader reader(fixture->state_file);
  for (const auto& name : reader.getAllRecords()) {
    // The writer adds the version record itself when it closes the archive.
    if (name == "version" || name == ".data/version") continue;
    auto [bytes, size] = reader.getRecord(name);
    record_names.push_back(name);
    record_data.emplace_back(static_cast<const char*>(bytes.get()), size);
    if (name.rfind("data/", 0) == 0) tensor_records.push_back(record_names.size() - 1);
  }
  // fuzz/make_corpus.py's seeds: the valid archive, and each record in the odd-mode layout.
  if (const char* seeds = std::getenv("WINNOW_FUZZ_WRITE_SEEDS")) {
    std::filesystem::create_directories(seeds);
    std::ifstream in(fixture->state_file, std::ios::binary);
    const std::string archive((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    winnow_fuzz::write_file(std::string(seeds) + "/archive", std::string(1, '\0') + archive);
    for (size_t k = 0; k < tensor_records.size(); ++k) {
      std::string name = record_names[tensor_records[k]];
      for (char& c : name) c = (c == '/' || c == '.') ? '_' : c;
      winnow_fuzz::write_file(std::string(seeds) + "/record_" + name,
                              std::string(1, static_cast<char>(2 * k + 1)) + record_data[tensor_records[k]]);
    }
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  ++data;
  --size;
  if (mode % 2 == 0) {
    winnow_fuzz::write_file(fixture->state_file, data, size);
  } else {
    const size_t replaced = tensor_records[(mode / 2) % tensor_records.size()];
    caffe2::serialize::PyTorchStreamWriter writer(fixture->state_file);
    for (size_t i = 0; i < record_names.size(); ++i) {
      if (i == replaced) {
        writer.writeRecord(record_names[i], data, size);
      } else {
        writer.writeRecord(record_names[i], record_data[i].data(), record_data[i].size());
      }
    }
    writer.writeEndOfFile();
  }
  winnow_fuzz::expect_success_or_winnow_error([&] { winnow::load_checkpoint(fixture->run_dir, *fixture->method); });
  return 0;
}
