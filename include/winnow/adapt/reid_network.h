#pragma once
// The network of re-identification by clustering: any winnow model as the backbone, whose
// penultimate features are the "pooled" features (ResNet's pool5 in the official ACT code),
// followed by an embedding (linear, batch norm, ReLU) and a classifier over the source
// identities. The pooled features are what retrieval and clustering compare; the triplet loss
// acts on both the pooled and the embedding features; the classifier is used only while
// training on the labelled source.
#include <cstdint>
#include <memory>
#include <string>

#include <torch/torch.h>

#include "winnow/models/network.h"

namespace winnow {

struct ReIdOutput {
  torch::Tensor pooled;     // [B, F] backbone features
  torch::Tensor embedding;  // [B, E]
  torch::Tensor logits;     // [B, S] over the source identities
};

class ReIdNetworkImpl : public torch::nn::Module {
 public:
  // `input_shape` is one sample's shape (to size the embedding from the backbone's features).
  ReIdNetworkImpl(std::shared_ptr<Network> backbone, const std::vector<int64_t>& input_shape,
                  int64_t embedding_dim, int64_t source_classes);
  ReIdOutput forward(const torch::Tensor& x);
  // The pooled features alone (retrieval, clustering), computed as in forward(): under the
  // backbone's Execution (train.precision, channels-last), fp32 out.
  torch::Tensor features(const torch::Tensor& x) { return backbone_->embed(x); }
  int64_t feature_dim() const { return feature_dim_; }
  std::string describe() const;

 private:
  std::shared_ptr<Network> backbone_;
  torch::nn::Linear embed_{nullptr};
  torch::nn::BatchNorm1d embed_bn_{nullptr};
  torch::nn::Linear classifier_{nullptr};
  int64_t feature_dim_ = 0;
};
TORCH_MODULE(ReIdNetwork);

// Per-sample loss of the adaptation rounds, as ACT's trainer: the batch-hard triplet loss on the
// pooled plus that on the embedding features (each per anchor). `separated`: both triplets of
// the anchor are separated (its nearest negative farther than its farthest positive).
struct ReIdLoss {
  torch::Tensor loss;       // [B]
  torch::Tensor separated;  // bool [B]
};
ReIdLoss reid_triplet_loss(const ReIdOutput& out, const torch::Tensor& labels, double margin);

// Pooled features of `inputs` in eval mode without gradients, in batches, on the CPU.
torch::Tensor extract_features(ReIdNetwork& network, const torch::Tensor& inputs, torch::Device device,
                               int64_t batch_size);

}  // namespace winnow
