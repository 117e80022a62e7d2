// Pre-activation ResNet-18 (He et al., ECCV 2016, "Identity Mappings in Deep Residual
// Networks") for 32x32 images, as DivideMix's PreResNet18 (Li et al., ICLR 2020): a 3x3
// stem convolution (stride 1, no max pool) followed by BN-ReLU, four stages of two
// pre-activation basic blocks (64, 128, 256, 512 channels; stride 2 from the second stage;
// 1x1 projection shortcuts without BN, applied to the pre-activated input), global average
// pooling and a linear classifier. DivideMix pools with a fixed 4x4 window (the final map of
// a 32x32 input); adaptive pooling gives the same there and also fits 28x28 inputs.
// Torch's default initialisation, as in the DivideMix code.
#include "models/common.h"
#include "models/resnet18_body.h"

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
    torch::Tensor out = torch::relu(dist::batch_norm(bn1_, x));
    torch::Tensor shortcut = shortcut_.is_empty() ? x : shortcut_->forward(out);
    out = conv1_->forward(out);
    out = conv2_->forward(torch::relu(dist::batch_norm(bn2_, out)));
    return out + shortcut;
  }

 private:
  torch::nn::BatchNorm2d bn1_;
  torch::nn::Conv2d conv1_;
  torch::nn::BatchNorm2d bn2_;
  torch::nn::Conv2d conv2_;
  torch::nn::Sequential shortcut_{nullptr};
};

WINNOW_REGISTER(ModelRegistry, "preact_resnet18",
                "pre-activation ResNet-18 for 32x32 images (He et al. 2016), as DivideMix's "
                "PreResNet18: 3x3 stem, no max pool",
                [](const ModelSpec& spec, Config&) -> std::shared_ptr<Network> {
                  require_classes(spec, "preact_resnet18");
                  return std::make_shared<ResNet18Body<PreActBlock>>(spec, "preact_resnet18");
                });

}  // namespace
}  // namespace winnow
