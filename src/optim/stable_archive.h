#pragma once
// An optimizer's state written in LibTorch's own archive layout (torch/optim/serialize.h:
// "state", "param_groups", "pytorch_version"), but keyed by position instead of by memory
// address. LibTorch files each parameter's state under its TensorImpl address printed as text,
// and writes the state in hash-map order, so two identical runs wrote different bytes.
// Here a parameter's key is "<group>.<index>" and entries are written in parameter order, so
// identical runs write identical files. LibTorch's load() reads them unchanged: it maps saved
// keys to the live parameters by their position in each group, not by the keys' text.
#include <string>

#include <torch/torch.h>

#include "state_key.h"

namespace winnow::detail {

inline void save_with_stable_keys(const torch::optim::Optimizer& optimizer, torch::serialize::OutputArchive& archive) {
  archive.write("pytorch_version", c10::IValue("1.5.0"));
  torch::serialize::OutputArchive state_archive(archive.compilation_unit());
  torch::serialize::OutputArchive groups_archive(archive.compilation_unit());
  const auto& groups = optimizer.param_groups();
  groups_archive.write("param_groups/size", torch::tensor(static_cast<int64_t>(groups.size())));
  for (size_t g = 0; g < groups.size(); ++g) {
    const auto& params = groups[g].params();
    torch::serialize::OutputArchive group_archive(archive.compilation_unit());
    group_archive.write("params/size", torch::tensor(static_cast<int64_t>(params.size())));
    for (size_t i = 0; i < params.size(); ++i) {
      const std::string key = std::to_string(g) + "." + std::to_string(i);
      group_archive.write("params/" + std::to_string(i), c10::IValue(key));
      const auto found = optimizer.state().find(state_key_of(params[i]));
      if (found == optimizer.state().end()) continue;  // no step taken for it yet
      torch::serialize::OutputArchive param_state(archive.compilation_unit());
      found->second->serialize(param_state);
      state_archive.write(key, param_state);
    }
    torch::serialize::OutputArchive options(archive.compilation_unit());
    groups[g].options().serialize(options);
    group_archive.write("options", options);
    groups_archive.write("param_groups/" + std::to_string(g), group_archive);
  }
  archive.write("state", state_archive);
  archive.write("param_groups", groups_archive);
}

}  // namespace winnow::detail
