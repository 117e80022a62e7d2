// Network's non-virtual entry points: the forward pass under the network's Execution
// (core/execution.h), fp32 out.
#include "winnow/models/network.h"

namespace winnow {

torch::Tensor Network::prepare_input(const torch::Tensor& x) const {
  if (!execution_.channels_last || x.dim() != 4) return x;
  return x.contiguous(at::MemoryFormat::ChannelsLast);
}

namespace {
torch::Tensor to_fp32(const torch::Tensor& t) { return t.scalar_type() == torch::kFloat ? t : t.to(torch::kFloat); }
}  // namespace

torch::Tensor Network::forward(const torch::Tensor& x) {
  AutocastScope autocast(execution_.precision, x.device());
  return to_fp32(classify(features(prepare_input(x))));
}

torch::Tensor Network::embed(const torch::Tensor& x) {
  AutocastScope autocast(execution_.precision, x.device());
  return to_fp32(features(prepare_input(x)));
}

}  // namespace winnow
