#pragma once
// Pieces every label-noise simulator shares: reading and checking `noise.rate`, checking the
// labels a simulator is given, and the seeded generator every draw comes from.
#include <cstdint>
#include <string>

#include <ATen/CPUGeneratorImpl.h>
#include <torch/torch.h>

#include "winnow/core/config.h"
#include "winnow/data/dataset.h"

namespace winnow::noise_detail {

// Reads the required `noise.rate` for noise type `type` and checks lo <= rate < hi_exclusive.
// A missing or out-of-range rate is a winnow::Error naming the key, the type and the range.
double read_rate(Config& config, const std::string& type, double lo, double hi_exclusive);

// Checks that `data.labels` is int64 [N] with values in [0, num_classes) and that
// num_classes >= 2; returns the labels on the CPU. `type` names the simulator in messages.
torch::Tensor checked_labels(const Dataset& data, const std::string& type);

// A CPU generator seeded with `seed`: every draw of a simulator comes from it, so results
// depend on the seed alone and never on the global RNG.
at::Generator make_generator(uint64_t seed);

// A rate as written in describe(), without trailing zeros ("0.4", not "0.400000").
std::string format_rate(double rate);

// The rows of `matrix` ([K, K]) picked by `labels` ([N]), float64 [N, K]: the per-sample rows of a
// class-conditional model.
torch::Tensor rows_for_labels(const torch::Tensor& matrix, const torch::Tensor& labels);

}  // namespace winnow::noise_detail
