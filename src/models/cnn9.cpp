// The 9-layer CNN of Co-teaching (Han et al., NeurIPS 2018, Table 3), also used by
// Co-teaching+ and JoCoR on CIFAR:
//   3x [conv128 3x3 pad1 - BN - LeakyReLU(0.01)], maxpool2, dropout 0.25,
//   3x [conv256 3x3 pad1 - BN - LeakyReLU], maxpool2, dropout 0.25,
//   conv512 3x3 pad0 - BN - LReLU, conv256 - BN - LReLU, conv128 - BN - LReLU,
//   global average pool, fc K.
// The last two convolutions: the authors' code (bhanML/Co-teaching, model.py) makes them 3x3
// with no padding, and that code produced the published numbers, so that is the default;
// `model.tail_kernel = 1` gives the 1x1 convolutions of the Pi-model network (Laine & Aila,
// ICLR 2017) that this architecture descends from.
// Dropout is channel-wise (dropout2d, as the authors' code calls it) and active in training
// only; that code passes no `training` flag, whose default changed between PyTorch versions.
// Torch's default initialisation (the authors' code does not change it).
#include "models/common.h"

namespace winnow {
namespace {

using namespace model_detail;

class Cnn9 : public Network {
 public:
  Cnn9(const ModelSpec& spec, double dropout, int64_t tail_kernel)
      : shape_(image_shape(spec, "cnn9")), dropout_(dropout), tail_kernel_(tail_kernel) {
    // Two 2x2 pools, then a 3x3 convolution without padding and two tail convolutions.
    auto out = [&](int64_t size) {
      int64_t s = window_out(window_out(window_out(size, 2, 2), 2, 2), 3);
      return window_out(window_out(s, tail_kernel_), tail_kernel_);
    };
    require(out(shape_.height) >= 1 && out(shape_.width) >= 1,
            "model 'cnn9': input {} is too small (two 2x2 pools and the unpadded convolutions "
            "need at least {} pixels per side)",
            shape_string(spec.input_shape), 4 * (3 + 2 * (tail_kernel_ - 1)));
    const int64_t channels[9][2] = {{shape_.channels, 128}, {128, 128}, {128, 128},
                                    {128, 256},             {256, 256}, {256, 256},
                                    {256, 512},             {512, 256}, {256, 128}};
    for (int i = 0; i < 9; ++i) {
      int64_t kernel = i < 7 ? 3 : tail_kernel_;
      int64_t padding = i < 6 ? 1 : 0;
      convs_.push_back(register_module(
          fmt::format("c{}", i + 1),
          torch::nn::Conv2d(torch::nn::Conv2dOptions(channels[i][0], channels[i][1], kernel)
                                .padding(padding))));
      bns_.push_back(register_module(fmt::format("bn{}", i + 1),
                                     torch::nn::BatchNorm2d(channels[i][1])));
    }
    classifier_ = register_module("classifier", torch::nn::Linear(128, spec.num_classes));
  }

  // The 128 channels of the last convolution, globally average-pooled.
  torch::Tensor features(const torch::Tensor& x) override {
    check_image_batch(x, shape_, /*exact_size=*/false, "cnn9");
    namespace F = torch::nn::functional;
    torch::Tensor h = x;
    for (size_t i = 0; i < convs_.size(); ++i) {
      h = torch::leaky_relu(dist::batch_norm(bns_[i], convs_[i]->forward(h)), 0.01);
      if (i == 2 || i == 5) {
        h = torch::max_pool2d(h, 2);
        h = F::dropout2d(h, F::Dropout2dFuncOptions().p(dropout_).training(is_training()));
      }
    }
    return torch::adaptive_avg_pool2d(h, {1, 1}).flatten(1);
  }

  torch::Tensor classify(const torch::Tensor& features) override {
    return classifier_->forward(features);
  }

  bool convolutional() const override { return true; }

  std::string describe() const override {
    return fmt::format("cnn9 input={} dropout={} tail_kernel={} classes={} params={}",
                       image_string(shape_), dropout_, tail_kernel_,
                       classifier_->options.out_features(), count_parameters(*this));
  }

 private:
  ImageShape shape_;
  double dropout_;
  int64_t tail_kernel_;
  std::vector<torch::nn::Conv2d> convs_;
  std::vector<torch::nn::BatchNorm2d> bns_;
  torch::nn::Linear classifier_{nullptr};
};

std::shared_ptr<Network> make_cnn9(const ModelSpec& spec, Config& config) {
  double dropout = config.get<double>("model.dropout", 0.25);
  int64_t tail_kernel = config.get<int64_t>("model.tail_kernel", 3);
  require(dropout >= 0.0 && dropout < 1.0, "{}: model.dropout = {}: must be in [0, 1)",
          config.source(), dropout);
  require(tail_kernel == 1 || tail_kernel == 3,
          "{}: model.tail_kernel = {}: must be 3 (Co-teaching code) or 1 (1x1, Pi-model)",
          config.source(), tail_kernel);
  require_classes(spec, "cnn9");
  return std::make_shared<Cnn9>(spec, dropout, tail_kernel);
}

WINNOW_REGISTER(ModelRegistry, "cnn9",
                "9-layer CNN of Co-teaching (Han et al. 2018): conv-BN-LeakyReLU x9, global "
                "average pool, fc (model.dropout, model.tail_kernel)",
                make_cnn9);

}  // namespace
}  // namespace winnow
