// Pre-activation ResNet-18 (He et al., ECCV 2016, "Identity Mappings in Deep Residual
// Networks") for 32x32 images, as DivideMix's PreResNet18 (Li et al., ICLR 2020): a 3x3
// stem convolution (stride 1, no max pool) followed by BN-ReLU, four stages of two
// pre-activation basic blocks (64, 128, 256, 512 channels; stride 2 from the second stage;
// 1x1 projection shortcuts without BN, applied to the pre-activated input), global average
// pooling and a linear classifier. DivideMix pools with a fixed 4x4 window (the final map of
// a 32x32 input); adaptive pooling gives the same there and also fits 28x28 inputs.
// Torch's default initialisation, as in the DivideMix code.
#include "models/common.h"

namespace winnow {
namespace {

using namespace model_detail;

// BN-ReLU-conv3x3-BN-ReLU-conv3x3 plus the shortcut (He et al. 2016, Fig. 1b).
class PreActBlock : public torch::nn::Module {
 public:
  PreActBlock(int64_t in, int64_t planes, int64_t stride)
      : bn1_(register_module("bn1", torch::nn::BatchNorm2d(in))),
        conv1_(register_module("conv1", conv3x3(in, planes, stride))),
        bn2_(register_module("bn2", torch::nn::BatchNorm2d(planes))),
        conv2_(register_module("conv2", conv3x3(planes, planes, 1))) {
    if (stride != 1 || in != planes) {
      // Named shortcut.0 as in the PyTorch code, whose shortcut is an nn.Sequential.
      shortcut_ = register_module(
          "shortcut", torch::nn::Sequential(torch::nn::Conv2d(
                          torch::nn::Conv2dOptions(in, planes, 1).stride(stride).bias(false))));
    }
  }

  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor out = torch::relu(bn1_->forward(x));
    torch::Tensor shortcut = shortcut_.is_empty() ? x : shortcut_->forward(out);
    out = conv1_->forward(out);
    out = conv2_->forward(torch::relu(bn2_->forward(out)));
    return out + shortcut;
  }

 private:
  torch::nn::BatchNorm2d bn1_;
  torch::nn::Conv2d conv1_;
  torch::nn::BatchNorm2d bn2_;
  torch::nn::Conv2d conv2_;
  torch::nn::Sequential shortcut_{nullptr};
};

class PreActResNet18 : public Network {
 public:
  explicit PreActResNet18(const ModelSpec& spec) : shape_(image_shape(spec, "preact_resnet18")) {
    conv1_ = register_module("conv1", conv3x3(shape_.channels, 64, 1));
    bn1_ = register_module("bn1", torch::nn::BatchNorm2d(64));
    int64_t in = 64;
    const int64_t planes[4] = {64, 128, 256, 512};
    for (int stage = 0; stage < 4; ++stage) {
      torch::nn::Sequential layer;
      for (int block = 0; block < 2; ++block) {
        int64_t stride = (stage > 0 && block == 0) ? 2 : 1;
        layer->push_back(std::make_shared<PreActBlock>(in, planes[stage], stride));
        in = planes[stage];
      }
      layers_.push_back(register_module(fmt::format("layer{}", stage + 1), layer));
    }
    classifier_ = register_module("classifier", torch::nn::Linear(512, spec.num_classes));
  }

  // The 512 channels of the last stage, globally average-pooled.
  torch::Tensor features(const torch::Tensor& x) override {
    check_image_batch(x, shape_, /*exact_size=*/false, "preact_resnet18");
    torch::Tensor h = torch::relu(bn1_->forward(conv1_->forward(x)));
    for (auto& layer : layers_) h = layer->forward(h);
    return torch::adaptive_avg_pool2d(h, {1, 1}).flatten(1);
  }

  torch::Tensor classify(const torch::Tensor& features) override {
    return classifier_->forward(features);
  }

  std::string describe() const override {
    return fmt::format("preact_resnet18 input={} classes={} params={}", image_string(shape_),
                       classifier_->options.out_features(), count_parameters(*this));
  }

 private:
  ImageShape shape_;
  torch::nn::Conv2d conv1_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr};
  std::vector<torch::nn::Sequential> layers_;
  torch::nn::Linear classifier_{nullptr};
};

WINNOW_REGISTER(ModelRegistry, "preact_resnet18",
                "pre-activation ResNet-18 for 32x32 images (He et al. 2016), as DivideMix's "
                "PreResNet18: 3x3 stem, no max pool",
                [](const ModelSpec& spec, Config&) -> std::shared_ptr<Network> {
                  require_classes(spec, "preact_resnet18");
                  return std::make_shared<PreActResNet18>(spec);
                });

}  // namespace
}  // namespace winnow
