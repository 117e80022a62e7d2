// The 4-layer MNIST network of the SCE and APL papers (Wang et al., ICCV 2019, "Symmetric
// Cross Entropy for Robust Learning with Noisy Labels"; Ma et al., ICML 2020, "Normalized
// Loss Functions for Deep Learning with Noisy Labels"), as in the APL code's ToyModel('MNIST'):
// conv32 3x3 pad1 - BN - ReLU - maxpool2, conv64 3x3 pad1 - BN - ReLU - maxpool2,
// fc128 - BN1d - ReLU, fc K.
// Initialisation follows that code: convolution weights Kaiming-uniform (fan-in, ReLU gain),
// linear weights Xavier-uniform, biases and batch-norm parameters at torch's defaults.
#include "models/common.h"

namespace winnow {
namespace {

using namespace model_detail;

class Cnn4 : public Network {
 public:
  explicit Cnn4(const ModelSpec& spec) : shape_(image_shape(spec, "cnn4")) {
    // Two (3x3 pad 1 convolution, 2x2 pool) stages per axis: size / 4.
    auto out = [](int64_t size) { return window_out(window_out(size, 2, 2), 2, 2); };
    int64_t h = out(shape_.height), w = out(shape_.width);
    require(h >= 1 && w >= 1,
            "model 'cnn4': input {} is too small (two 2x2 pools need at least 4x4 pixels)",
            shape_string(spec.input_shape));
    flat_ = 64 * h * w;
    using torch::nn::Conv2dOptions;
    conv1_ = register_module("conv1",
                             torch::nn::Conv2d(Conv2dOptions(shape_.channels, 32, 3).padding(1)));
    bn1_ = register_module("bn1", torch::nn::BatchNorm2d(32));
    conv2_ = register_module("conv2", torch::nn::Conv2d(Conv2dOptions(32, 64, 3).padding(1)));
    bn2_ = register_module("bn2", torch::nn::BatchNorm2d(64));
    fc1_ = register_module("fc1", torch::nn::Linear(flat_, 128));
    bn3_ = register_module("bn3", torch::nn::BatchNorm1d(128));
    classifier_ = register_module("classifier", torch::nn::Linear(128, spec.num_classes));

    torch::NoGradGuard no_grad;
    for (auto* conv : {&conv1_, &conv2_}) {
      torch::nn::init::kaiming_uniform_((*conv)->weight, 0.0, torch::kFanIn, torch::kReLU);
    }
    for (auto* linear : {&fc1_, &classifier_}) torch::nn::init::xavier_uniform_((*linear)->weight);
  }

  // The 128 units after fc1 - BN - ReLU.
  torch::Tensor features(const torch::Tensor& x) override {
    check_image_batch(x, shape_, /*exact_size=*/true, "cnn4");
    torch::Tensor h = torch::max_pool2d(torch::relu(dist::batch_norm(bn1_, conv1_->forward(x))), 2);
    h = torch::max_pool2d(torch::relu(dist::batch_norm(bn2_, conv2_->forward(h))), 2);
    return torch::relu(dist::batch_norm(bn3_, fc1_->forward(h.flatten(1))));
  }

  torch::Tensor classify(const torch::Tensor& features) override {
    return classifier_->forward(features);
  }

  bool convolutional() const override { return true; }

  std::string describe() const override {
    return fmt::format("cnn4 input={} flatten={} classes={} params={}", image_string(shape_),
                       flat_, classifier_->options.out_features(), count_parameters(*this));
  }

 private:
  ImageShape shape_;
  int64_t flat_ = 0;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
  torch::nn::BatchNorm1d bn3_{nullptr};
  torch::nn::Linear fc1_{nullptr}, classifier_{nullptr};
};

WINNOW_REGISTER(ModelRegistry, "cnn4",
                "4-layer CNN of SCE/APL for MNIST: 2x (conv3x3-BN-ReLU-pool), fc128-BN-ReLU, fc",
                [](const ModelSpec& spec, Config&) -> std::shared_ptr<Network> {
                  require_classes(spec, "cnn4");
                  return std::make_shared<Cnn4>(spec);
                });

}  // namespace
}  // namespace winnow
