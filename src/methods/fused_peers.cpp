#include "winnow/methods/fused_peers.h"

namespace winnow {

std::unique_ptr<FusedPeers> FusedPeers::make(const std::vector<Network*>& networks) {
  if (networks.size() < 2) return nullptr;
  auto fused = std::unique_ptr<FusedPeers>(new FusedPeers());
  for (Network* network : networks) {
    auto layers = network->relu_mlp_layers();
    if (layers.empty()) return nullptr;
    if (!fused->layers_.empty()) {
      const auto& first = fused->layers_.front();
      if (layers.size() != first.size()) return nullptr;
      for (size_t l = 0; l < layers.size(); ++l) {
        if (!layers[l]->weight.sizes().equals(first[l]->weight.sizes()) || !layers[l]->bias.defined() ||
            !first[l]->bias.defined()) {
          return nullptr;
        }
      }
      const Execution& e = networks.front()->execution();
      if (network->execution().precision != e.precision) return nullptr;
    }
    fused->layers_.push_back(std::move(layers));
  }
  fused->execution_ = networks.front()->execution();
  return fused;
}

std::vector<torch::Tensor> FusedPeers::forward(const torch::Tensor& x) const {
  AutocastScope autocast(execution_.precision, x.device());
  const int64_t peers = static_cast<int64_t>(layers_.size());
  const int64_t batch = x.size(0);
  const auto& shape = layers_.front();
  auto gather = [&](size_t l, bool stacked) {
    std::vector<torch::Tensor> weights, biases;
    for (const auto& layers : layers_) {
      weights.push_back(layers[l]->weight);
      biases.push_back(layers[l]->bias);
    }
    return stacked ? std::pair{torch::stack(weights), torch::stack(biases)}
                   : std::pair{torch::cat(weights), torch::cat(biases)};
  };
  // Layer 1 for all networks at once: [B, D] x [D, K*H1] (Linear computes x W^T + b).
  auto [w1, b1] = gather(0, false);
  const int64_t width = shape[0]->weight.size(0);
  torch::Tensor h = torch::addmm(b1, x.reshape({batch, -1}), w1.t()).view({batch, peers, width}).transpose(0, 1);
  // Layers 2..L: one batched product per layer, [K, B, H_l] x [K, H_l, H_{l+1}].
  for (size_t l = 1; l < shape.size(); ++l) {
    auto [w, b] = gather(l, true);
    h = torch::baddbmm(b.unsqueeze(1), torch::relu(h), w.transpose(1, 2));
  }
  if (h.scalar_type() != torch::kFloat) h = h.to(torch::kFloat);
  return h.unbind(0);
}

}  // namespace winnow
