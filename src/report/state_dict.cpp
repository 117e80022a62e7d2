#include "winnow/report/state_dict.h"

#include "winnow/report/files.h"

namespace winnow {

void write_state_dict(const std::string& path, const torch::nn::Module& module) {
  c10::Dict<std::string, at::Tensor> state;
  auto add = [&](const std::string& name, const torch::Tensor& t) {
    if (!t.defined()) return;
    // .contiguous() drops channels-last strides: Python sees the usual NCHW layout.
    state.insert(name, t.detach().to(torch::kCPU).contiguous().clone());
  };
  for (const auto& item : module.named_parameters(/*recurse=*/true)) add(item.key(), item.value());
  for (const auto& item : module.named_buffers(/*recurse=*/true)) add(item.key(), item.value());
  // torch::pickle_save writes the zip format torch.load reads (the same as torch.save's).
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(state));
  atomic_write_text(path, std::string(bytes.begin(), bytes.end()));
}

}  // namespace winnow
