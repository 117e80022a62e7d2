#include "winnow/models/network.h"

namespace winnow {

std::shared_ptr<Network> make_model(const ModelSpec& spec, Config& config) {
  std::string name = config.get<std::string>("model.name", "mlp");
  auto network = ModelRegistry::instance().get(name).factory(spec, config);
  Execution execution = spec.execution;
  execution.channels_last = execution.channels_last && network->convolutional();
  network->set_execution(execution);
  if (execution.channels_last) {
    // Weights in NHWC too: a convolution's output follows its weight's layout, so every
    // activation after the first convolution is channels-last. Canonical NHWC strides are set
    // by copying into a fresh NHWC tensor: contiguous(ChannelsLast) leaves a weight with one
    // input channel as it is (its NCHW strides count as channels-last too), and then the
    // first convolution, and every layer after it, stays NCHW (cnn4 bf16: forward 12.5 ->
    // 6 ms, as in PyTorch's Module.to(memory_format)).
    torch::NoGradGuard no_grad;
    for (auto& p : network->parameters()) {
      if (p.dim() == 4) {
        p.set_data(torch::empty_like(p, p.options(), at::MemoryFormat::ChannelsLast).copy_(p));
      }
    }
  }
  return network;
}

}  // namespace winnow
