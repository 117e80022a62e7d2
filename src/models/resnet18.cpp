// ResNet-18 (He et al., CVPR 2016) in its CIFAR form, the one the noisy-label literature trains
// on 32x32 images (e.g. the APL and CDR code): a 3x3 stride-1 stem convolution - BN - ReLU with
// no max pool, four stages of two basic blocks (64, 128, 256, 512 channels; stride 2 from the
// second stage; 1x1 convolution + BN projection shortcuts where the shape changes), global
// average pooling and a linear classifier. Adaptive pooling makes 28x28 inputs work too.
// Torch's default initialisation.
#include "models/common.h"
#include "models/resnet18_body.h"

namespace winnow {
namespace {

using namespace model_detail;

// conv3x3-BN-ReLU-conv3x3-BN, plus the shortcut, then ReLU (He et al. 2016, Fig. 2).
class BasicBlock : public torch::nn::Module {
 public:
  BasicBlock(int64_t in, int64_t planes, int64_t stride)
      : conv1_(register_module("conv1", conv3x3(in, planes, stride))),
        bn1_(register_module("bn1", torch::nn::BatchNorm2d(planes))),
        conv2_(register_module("conv2", conv3x3(planes, planes, 1))),
        bn2_(register_module("bn2", torch::nn::BatchNorm2d(planes))) {
    if (stride != 1 || in != planes) {
      // shortcut.0 (conv) and shortcut.1 (BN), as the usual PyTorch nn.Sequential.
      shortcut_ = register_module(
          "shortcut",
          torch::nn::Sequential(
              torch::nn::Conv2d(torch::nn::Conv2dOptions(in, planes, 1).stride(stride).bias(false)),
              torch::nn::BatchNorm2d(planes)));
    }
  }

  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor out = torch::relu(dist::batch_norm(bn1_, conv1_->forward(x)));
    out = dist::batch_norm(bn2_, conv2_->forward(out));
    if (shortcut_.is_empty()) return torch::relu(out + x);
    // The projection's conv and BN one by one, so the BN can synchronise like the others.
    auto* bn = shortcut_[1]->as<torch::nn::BatchNorm2dImpl>();
    return torch::relu(out + dist::batch_norm(bn, shortcut_[0]->as<torch::nn::Conv2dImpl>()->forward(x)));
  }

 private:
  torch::nn::Conv2d conv1_;
  torch::nn::BatchNorm2d bn1_;
  torch::nn::Conv2d conv2_;
  torch::nn::BatchNorm2d bn2_;
  torch::nn::Sequential shortcut_{nullptr};
};

WINNOW_REGISTER(ModelRegistry, "resnet18",
                "ResNet-18 for 32x32 images (He et al. 2016), CIFAR form: 3x3 stride-1 stem, no "
                "max pool, basic blocks",
                [](const ModelSpec& spec, Config&) -> std::shared_ptr<Network> {
                  require_classes(spec, "resnet18");
                  return std::make_shared<ResNet18Body<BasicBlock>>(spec, "resnet18");
                });

}  // namespace
}  // namespace winnow
