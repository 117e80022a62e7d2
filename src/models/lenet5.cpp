// LeNet-5 (LeCun et al., Proc. IEEE 1998) with ReLU and max pooling in place of the original
// scaled tanh and trainable subsampling, as the noisy-label literature uses it:
// conv6 5x5 - ReLU - maxpool2 - conv16 5x5 - ReLU - maxpool2 - fc120 - ReLU - fc84 - ReLU - fc K.
// The original takes 32x32 inputs; images smaller than that (MNIST's 28x28) get a 2-pixel
// zero padding in the first convolution so that the feature maps have the original sizes.
// Torch's default initialisation.
#include "models/common.h"

namespace winnow {
namespace {

using namespace model_detail;

class LeNet5 : public Network {
 public:
  explicit LeNet5(const ModelSpec& spec) : shape_(image_shape(spec, "lenet5")) {
    padding_ = (shape_.height < 32 || shape_.width < 32) ? 2 : 0;
    // conv 5x5 (padding) - pool 2 - conv 5x5 - pool 2, per spatial axis.
    auto out = [&](int64_t size) {
      return window_out(window_out(window_out(window_out(size, 5, 1, padding_), 2, 2), 5), 2, 2);
    };
    int64_t h = out(shape_.height), w = out(shape_.width);
    require(h >= 1 && w >= 1,
            "model 'lenet5': input {} is too small (two 5x5 convolutions and two 2x2 pools "
            "need at least 12x12 pixels)",
            shape_string(spec.input_shape));
    flat_ = 16 * h * w;
    conv1_ = register_module("conv1", torch::nn::Conv2d(
        torch::nn::Conv2dOptions(shape_.channels, 6, 5).padding(padding_)));
    conv2_ = register_module("conv2", torch::nn::Conv2d(torch::nn::Conv2dOptions(6, 16, 5)));
    fc1_ = register_module("fc1", torch::nn::Linear(flat_, 120));
    fc2_ = register_module("fc2", torch::nn::Linear(120, 84));
    classifier_ = register_module("classifier", torch::nn::Linear(84, spec.num_classes));
  }

  // The 84 units after fc2's ReLU.
  torch::Tensor features(const torch::Tensor& x) override {
    check_image_batch(x, shape_, /*exact_size=*/true, "lenet5");
    torch::Tensor h = torch::max_pool2d(torch::relu(conv1_->forward(x)), 2);
    h = torch::max_pool2d(torch::relu(conv2_->forward(h)), 2);
    h = torch::relu(fc1_->forward(h.flatten(1)));
    return torch::relu(fc2_->forward(h));
  }

  torch::Tensor classify(const torch::Tensor& features) override {
    return classifier_->forward(features);
  }

  bool convolutional() const override { return true; }

  std::string describe() const override {
    return fmt::format("lenet5 input={} padding={} flatten={} classes={} params={}",
                       image_string(shape_), padding_, flat_, classifier_->options.out_features(),
                       count_parameters(*this));
  }

 private:
  ImageShape shape_;
  int64_t padding_ = 0;
  int64_t flat_ = 0;
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::Linear fc1_{nullptr}, fc2_{nullptr}, classifier_{nullptr};
};

WINNOW_REGISTER(ModelRegistry, "lenet5",
                "LeNet-5 with ReLU and max pooling (LeCun et al. 1998); 28x28 inputs padded to "
                "act like 32x32",
                [](const ModelSpec& spec, Config&) -> std::shared_ptr<Network> {
                  require_classes(spec, "lenet5");
                  return std::make_shared<LeNet5>(spec);
                });

}  // namespace
}  // namespace winnow
