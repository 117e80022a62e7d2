#include "winnow/adapt/reid_network.h"

#include "winnow/core/error.h"
#include "winnow/losses/triplet.h"
#include "winnow/methods/method.h"

namespace winnow {

ReIdNetworkImpl::ReIdNetworkImpl(std::shared_ptr<Network> backbone, const std::vector<int64_t>& input_shape,
                                 int64_t embedding_dim, int64_t source_classes)
    : backbone_(std::move(backbone)) {
  require(embedding_dim >= 1, "method.embedding_dim = {}: must be >= 1", embedding_dim);
  require(source_classes >= 2, "the source domain has {} class; the classifier needs at least 2", source_classes);
  register_module("backbone", backbone_);
  {
    // The backbone's feature width, from one dummy sample (eval mode: no batch-norm update).
    torch::NoGradGuard no_grad;
    backbone_->eval();
    std::vector<int64_t> shape = {1};
    shape.insert(shape.end(), input_shape.begin(), input_shape.end());
    feature_dim_ = backbone_->embed(torch::zeros(shape)).size(1);
    backbone_->train();
  }
  embed_ = register_module("embed", torch::nn::Linear(feature_dim_, embedding_dim));
  embed_bn_ = register_module("embed_bn", torch::nn::BatchNorm1d(embedding_dim));
  classifier_ = register_module("classifier", torch::nn::Linear(embedding_dim, source_classes));
}

ReIdOutput ReIdNetworkImpl::forward(const torch::Tensor& x) {
  ReIdOutput out;
  out.pooled = backbone_->embed(x);
  out.embedding = torch::relu(embed_bn_->forward(embed_->forward(out.pooled)));
  out.logits = classifier_->forward(out.embedding);
  return out;
}

std::string ReIdNetworkImpl::describe() const {
  return fmt::format("{} -> pooled {} -> embedding {} (linear, BN, ReLU)", backbone_->describe(), feature_dim_,
                     embed_->options.out_features());
}

ReIdLoss reid_triplet_loss(const ReIdOutput& out, const torch::Tensor& labels, double margin) {
  auto pooled = batch_hard_triplet(out.pooled, labels, margin);
  auto embedding = batch_hard_triplet(out.embedding, labels, margin);
  return ReIdLoss{pooled.loss + embedding.loss, pooled.separated.logical_and(embedding.separated)};
}

torch::Tensor extract_features(ReIdNetwork& network, const torch::Tensor& inputs, torch::Device device,
                               int64_t batch_size) {
  torch::NoGradGuard no_grad;
  const bool was_training = network->is_training();
  network->eval();
  auto features = map_batches(inputs, batch_size, device,
                              [&](const torch::Tensor& x) { return network->features(x); });
  network->train(was_training);
  return features.to(torch::kCPU);
}

}  // namespace winnow
