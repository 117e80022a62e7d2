#pragma once
// The key torch::optim::Optimizer::state() files a parameter's state under: its TensorImpl
// printed by an ostream (as c10::guts::to_string does) up to LibTorch 1.13, the raw pointer
// from 2.0. Optimizers written here use it so that LibTorch's own save/load and the
// built-in optimizers' state stay interchangeable.
#include <sstream>
#include <string>
#include <type_traits>

#include <torch/torch.h>

namespace winnow::detail {

using StateMap = std::decay_t<decltype(std::declval<torch::optim::Optimizer&>().state())>;
using StateKey = StateMap::key_type;

// A template so that the branch for the other LibTorch is discarded, not compiled.
template <typename Key = StateKey>
Key state_key_of(const torch::Tensor& parameter) {
  if constexpr (std::is_same_v<Key, std::string>) {
    std::ostringstream key;
    key << parameter.unsafeGetTensorImpl();
    return key.str();
  } else {
    return parameter.unsafeGetTensorImpl();
  }
}

}  // namespace winnow::detail
