#pragma once
// model.pt: a network's weights as a plain PyTorch state dict. Python's torch.load(path)
// returns a dict from parameter and buffer names ("fc1.weight", "bn1.running_mean", ...) to
// tensors; python/winnow_torch.py defines the torch.nn modules whose load_state_dict takes it.
#include <string>

#include <torch/torch.h>

namespace winnow {

// Writes every parameter and buffer of `module` (on the CPU, fp32, contiguous in the default
// layout, whatever the training used) with torch.save's format, atomically.
void write_state_dict(const std::string& path, const torch::nn::Module& module);

}  // namespace winnow
