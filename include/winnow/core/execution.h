#pragma once
// How work runs: a network's numeric precision and memory format (train.precision,
// train.channels_last), and the process-wide runtime settings. Precision and layout are
// execution details: weights, optimizer state and checkpoints stay
// fp32 and contiguous whatever is chosen here.
//
// bf16 is ATen's autocast (the dispatcher casts convolutions and matrix products to bfloat16,
// keeps reductions and normalisation statistics in fp32), entered and left around each
// Network::forward, so that only the network runs in low precision: its logits and features
// come back as fp32 and every loss, per-sample score, GMM and determinant after it is computed
// in fp32. The master weights stay fp32 (autocast casts a copy per forward; the cast cache is
// off, so a weight updated in place by the optimizer is never read stale). fp16 is not
// offered: without bf16's 8-bit exponent it needs a gradient scaler, which LibTorch's C++ API
// does not have; every GPU with fast fp16 since Ampere has bf16.
#include <string>

#include <torch/torch.h>

namespace winnow {

enum class Precision { kFp32, kBf16 };

std::string precision_name(Precision precision);

struct Execution {
  Precision precision = Precision::kFp32;
  // Conv models take their input in NHWC (channels-last) layout; oneDNN's bf16 convolutions
  // are fastest there.
  bool channels_last = false;
};

// True when this CPU does bfloat16 arithmetic natively (AVX-512 BF16 or AMX-BF16 in
// /proc/cpuinfo); elsewhere ATen emulates bf16 and it is slower than fp32.
bool cpu_has_native_bf16();

// Resolves train.precision ("fp32", "bf16" or "auto") and train.channels_last ("auto", "on",
// "off") for a model on a device. "auto" is a rule, not a timing probe, so that one machine
// always makes the same choice (and a run is reproducible):
//   precision bf16 where it was measured to pay (bench/RESULTS.md, issue 17): convolutional
//     models on a CPU with native bf16 (cnn4 3-5x faster per step), and every model on CUDA;
//     fp32 otherwise: the mlp's step is too small for the casts to pay, and a CPU without
//     native bf16 emulates it;
//   channels_last on for convolutional models under bf16 on CPU (oneDNN's bf16 kernels are
//     NHWC; in fp32 it made no difference here).
Execution resolve_execution(const std::string& precision, const std::string& channels_last, bool convolutional,
                            torch::Device device, bool native_bf16);

// Turns autocast on for `device` with `precision` for its lifetime (nothing for fp32) and
// restores the previous state after. Thread-local, like autocast itself.
class AutocastScope {
 public:
  AutocastScope(Precision precision, torch::Device device);
  ~AutocastScope();
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool active_ = false;
  bool cuda_ = false;
  bool previous_enabled_ = false;
  bool previous_cache_ = true;
  at::ScalarType previous_dtype_ = at::kBFloat16;
};

// Process-wide settings every run applies first: `threads` intra-op threads, and glibc's
// allocator told to keep freed blocks up to 32 MiB in the heap. By default glibc serves any
// block over 128 KiB (a batch of 128 Fashion-MNIST images is 400 KiB) with a fresh mmap and
// returns it on free, so every step page-faults its activations and gradients in again; it
// raises that threshold by itself only after a large block happens to be freed. Measured on
// this project's 2-core VM (bench/RESULTS.md, issue 17): an mlp step 4.7 -> 1.4 ms and a cnn4
// step 190 -> 35 ms. 32 MiB is the largest threshold glibc accepts.
void configure_runtime(int64_t threads);

}  // namespace winnow
