#pragma once
// The CIFAR-form ResNet-18 skeleton that resnet18.cpp and preact_resnet18.cpp share: a 3x3
// stride-1 stem convolution - BN - ReLU (no max pool), four stages of two residual blocks
// (64, 128, 256, 512 channels; stride 2 on the first block of stages 2-4), global average
// pooling and a linear classifier. Only the block differs between the two (He et al., CVPR
// 2016, Fig. 2 against ECCV 2016, Fig. 1b), so it is the template parameter.
//
// Module names (conv1, bn1, layer1..layer4, classifier) follow the PyTorch code of the papers'
// implementations, and stay fixed: checkpoints store parameters by these names.
#include <memory>
#include <string>
#include <vector>

#include "models/common.h"

namespace winnow::model_detail {

// Block: a torch::nn::Module constructible as Block(in_channels, planes, stride) with
// forward(x).
template <typename Block>
class ResNet18Body : public Network {
 public:
  ResNet18Body(const ModelSpec& spec, std::string name)
      : name_(std::move(name)), shape_(image_shape(spec, name_)) {
    conv1_ = register_module("conv1", conv3x3(shape_.channels, 64, 1));
    bn1_ = register_module("bn1", torch::nn::BatchNorm2d(64));
    int64_t in = 64;
    const int64_t planes[4] = {64, 128, 256, 512};
    for (int stage = 0; stage < 4; ++stage) {
      torch::nn::Sequential layer;
      for (int block = 0; block < 2; ++block) {
        int64_t stride = (stage > 0 && block == 0) ? 2 : 1;
        layer->push_back(std::make_shared<Block>(in, planes[stage], stride));
        in = planes[stage];
      }
      layers_.push_back(register_module(fmt::format("layer{}", stage + 1), layer));
    }
    classifier_ = register_module("classifier", torch::nn::Linear(512, spec.num_classes));
  }

  // The 512 channels of the last stage, globally average-pooled. The papers' code pools with
  // a fixed 4x4 window (the last map of a 32x32 input); adaptive pooling is the same there and
  // also fits 28x28 inputs.
  torch::Tensor features(const torch::Tensor& x) override {
    check_image_batch(x, shape_, /*exact_size=*/false, name_.c_str());
    torch::Tensor h = torch::relu(dist::batch_norm(bn1_, conv1_->forward(x)));
    for (auto& layer : layers_) h = layer->forward(h);
    return torch::adaptive_avg_pool2d(h, {1, 1}).flatten(1);
  }

  torch::Tensor classify(const torch::Tensor& features) override {
    return classifier_->forward(features);
  }

  bool convolutional() const override { return true; }

  std::string describe() const override {
    return fmt::format("{} input={} classes={} params={}", name_, image_string(shape_),
                       classifier_->options.out_features(), count_parameters(*this));
  }

 private:
  std::string name_;
  ImageShape shape_;
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  std::vector<torch::nn::Sequential> layers_;
  torch::nn::Linear classifier_{nullptr};
};

}  // namespace winnow::model_detail
