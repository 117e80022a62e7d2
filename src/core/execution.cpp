#include "winnow/core/execution.h"

#include <ATen/autocast_mode.h>
#include <malloc.h>
#include <torch/version.h>

#include <fstream>
#include <sstream>

#include "winnow/core/error.h"

namespace winnow {
namespace {

// Autocast's thread-local switches: per device type since LibTorch 2.4, which deprecated the
// CPU/GPU-named functions of 1.x.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
bool autocast_enabled(c10::DeviceType type) { return at::autocast::is_autocast_enabled(type); }
void set_autocast_enabled(c10::DeviceType type, bool on) { at::autocast::set_autocast_enabled(type, on); }
at::ScalarType autocast_dtype(c10::DeviceType type) { return at::autocast::get_autocast_dtype(type); }
void set_autocast_dtype(c10::DeviceType type, at::ScalarType dtype) { at::autocast::set_autocast_dtype(type, dtype); }
#else
bool autocast_enabled(c10::DeviceType type) {
  return type == c10::DeviceType::CUDA ? at::autocast::is_enabled() : at::autocast::is_cpu_enabled();
}
void set_autocast_enabled(c10::DeviceType type, bool on) {
  type == c10::DeviceType::CUDA ? at::autocast::set_enabled(on) : at::autocast::set_cpu_enabled(on);
}
at::ScalarType autocast_dtype(c10::DeviceType type) {
  return type == c10::DeviceType::CUDA ? at::autocast::get_autocast_gpu_dtype() : at::autocast::get_autocast_cpu_dtype();
}
void set_autocast_dtype(c10::DeviceType type, at::ScalarType dtype) {
  type == c10::DeviceType::CUDA ? at::autocast::set_autocast_gpu_dtype(dtype) : at::autocast::set_autocast_cpu_dtype(dtype);
}
#endif

}  // namespace

std::string precision_name(Precision precision) {
  return precision == Precision::kBf16 ? "bf16" : "fp32";
}

bool cpu_has_native_bf16() {
  static const bool native = [] {
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpuinfo, line)) {
      if (line.rfind("flags", 0) != 0) continue;
      std::istringstream flags(line.substr(line.find(':') + 1));
      std::string flag;
      while (flags >> flag) {
        if (flag == "avx512_bf16" || flag == "amx_bf16") return true;
      }
      return false;
    }
    return false;
  }();
  return native;
}

Execution resolve_execution(const std::string& precision, const std::string& channels_last, bool convolutional,
                            torch::Device device, bool native_bf16) {
  Execution e;
  if (precision == "bf16") {
    e.precision = Precision::kBf16;
  } else if (precision == "auto") {
    e.precision = (device.is_cuda() || (convolutional && native_bf16)) ? Precision::kBf16 : Precision::kFp32;
  } else {
    require(precision == "fp32", "train.precision = \"{}\": expected \"fp32\", \"bf16\" or \"auto\"", precision);
  }
  if (channels_last == "on") {
    e.channels_last = convolutional;
  } else if (channels_last == "auto") {
    e.channels_last = convolutional && e.precision == Precision::kBf16 && !device.is_cuda();
  } else {
    require(channels_last == "off", "train.channels_last = \"{}\": expected \"on\", \"off\" or \"auto\"",
            channels_last);
  }
  return e;
}

void configure_runtime(int64_t threads) {
#if defined(__GLIBC__)
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
#endif
  torch::set_num_threads(static_cast<int>(threads));
}

AutocastScope::AutocastScope(Precision precision, torch::Device device) {
  if (precision == Precision::kFp32) return;
  active_ = true;
  cuda_ = device.is_cuda();
  const auto type = cuda_ ? c10::DeviceType::CUDA : c10::DeviceType::CPU;
  previous_cache_ = at::autocast::is_autocast_cache_enabled();
  previous_enabled_ = autocast_enabled(type);
  previous_dtype_ = autocast_dtype(type);
  // No cast cache: a cached bf16 copy of a weight would outlive the optimizer's in-place
  // update of that weight within one scope, and a copy per forward costs little.
  at::autocast::set_autocast_cache_enabled(false);
  set_autocast_dtype(type, at::kBFloat16);
  set_autocast_enabled(type, true);
}

AutocastScope::~AutocastScope() {
  if (!active_) return;
  const auto type = cuda_ ? c10::DeviceType::CUDA : c10::DeviceType::CPU;
  set_autocast_enabled(type, previous_enabled_);
  set_autocast_dtype(type, previous_dtype_);
  at::autocast::set_autocast_cache_enabled(previous_cache_);
}

}  // namespace winnow
