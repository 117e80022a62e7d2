#pragma once
// Several networks of one architecture that see the same batch, run as one batched
// computation: an execution detail of the Co-teaching family (method.fused). Each network
// keeps its own parameters, optimizer and checkpoint entries; the fused pass only gathers
// their weights (torch::cat / torch::stack, differentiable) so that gradients land in each
// network's own .grad exactly as separate passes would put them, up to float summation order.
//
// Supported: ReLU multilayer perceptrons of identical widths (Network::relu_mlp_layers),
// where per-op dispatch, not arithmetic, is a large share of a step. The first layer is one
// matrix product with the networks' weights side by side ([B, D] x [D, K*H]: the input is
// read once), every later layer one batched product (bmm over K).
#include <memory>
#include <vector>

#include <torch/torch.h>

#include "winnow/models/network.h"

namespace winnow {

class FusedPeers {
 public:
  // Null unless every network is a ReLU mlp with the same layer widths and the same execution.
  static std::unique_ptr<FusedPeers> make(const std::vector<Network*>& networks);

  // Every network's logits for the same inputs, fp32, [B, C] each, in network order; under the
  // networks' Execution like Network::forward.
  std::vector<torch::Tensor> forward(const torch::Tensor& x) const;

 private:
  // layers_[k][l]: layer l of network k.
  std::vector<std::vector<torch::nn::Linear>> layers_;
  Execution execution_;
};

}  // namespace winnow
