// Multilayer perceptron on the flattened input. The default, one hidden layer of 256 ReLU
// units, is the 784-256-10 MNIST network of Co-teaching+ (Yu et al., ICML 2019) and JoCoR
// (Wei et al., CVPR 2020). With `model.hidden = []` it is multinomial logistic regression.
#include "models/common.h"

namespace winnow {
namespace {

using namespace model_detail;

class Mlp : public Network {
 public:
  Mlp(const ModelSpec& spec, const std::vector<int64_t>& hidden)
      : input_size_(flat_size(spec, "mlp")), widths_{input_size_} {
    int64_t in = input_size_;
    for (size_t i = 0; i < hidden.size(); ++i) {
      hidden_.push_back(
          register_module(fmt::format("fc{}", i + 1), torch::nn::Linear(in, hidden[i])));
      widths_.push_back(hidden[i]);
      in = hidden[i];
    }
    classifier_ = register_module("classifier", torch::nn::Linear(in, spec.num_classes));
    widths_.push_back(spec.num_classes);
  }

  // The last hidden layer after its ReLU (the flattened input when there is none).
  torch::Tensor features(const torch::Tensor& x) override {
    if (x.dim() < 1 || x.numel() != x.size(0) * input_size_) {
      fail("model 'mlp' was built for {} inputs per sample; got a batch of shape {}",
           input_size_, shape_string(x.sizes().vec()));
    }
    torch::Tensor h = x.reshape({x.size(0), input_size_});
    for (auto& layer : hidden_) h = torch::relu(layer->forward(h));
    return h;
  }

  torch::Tensor classify(const torch::Tensor& features) override {
    return classifier_->forward(features);
  }

  std::vector<torch::nn::Linear> relu_mlp_layers() const override {
    std::vector<torch::nn::Linear> layers = hidden_;
    layers.push_back(classifier_);
    return layers;
  }

  std::string describe() const override {
    return fmt::format("mlp {} (relu) params={}", fmt::join(widths_, "-"), count_parameters(*this));
  }

 private:
  int64_t input_size_;
  std::vector<int64_t> widths_;
  std::vector<torch::nn::Linear> hidden_;
  torch::nn::Linear classifier_{nullptr};
};

std::shared_ptr<Network> make_mlp(const ModelSpec& spec, Config& config) {
  auto hidden = config.get<std::vector<int64_t>>("model.hidden", {256});
  for (size_t i = 0; i < hidden.size(); ++i) {
    require(hidden[i] >= 1, "{}: model.hidden[{}] = {}: every hidden width must be >= 1",
            config.source(), i, hidden[i]);
  }
  require_classes(spec, "mlp");
  return std::make_shared<Mlp>(spec, hidden);
}

WINNOW_REGISTER(ModelRegistry, "mlp",
                "multilayer perceptron on the flattened input, ReLU (model.hidden, default "
                "[256]: the 784-256-10 net of Co-teaching+/JoCoR)",
                make_mlp);

}  // namespace
}  // namespace winnow
