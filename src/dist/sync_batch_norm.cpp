#include "winnow/dist/sync_batch_norm.h"

#include "winnow/dist/process_group.h"

namespace winnow::dist {
namespace {

bool& sync_flag() {
  static bool on = false;
  return on;
}

// y = sum over ranks of x; the gradient of a sum shared by every rank is, on each rank, the sum
// of the ranks' gradients with respect to it.
class AllReduceSum : public torch::autograd::Function<AllReduceSum> {
 public:
  static torch::Tensor forward(torch::autograd::AutogradContext*, const torch::Tensor& x) {
    std::vector<torch::Tensor> t{x.clone().contiguous()};
    all_reduce_sum(t);
    return t[0];
  }
  static torch::autograd::tensor_list backward(torch::autograd::AutogradContext*,
                                               torch::autograd::tensor_list grads) {
    std::vector<torch::Tensor> t{grads[0].contiguous().clone()};
    all_reduce_sum(t);
    return {t[0]};
  }
};

}  // namespace

void set_sync_batch_norm(bool on) { sync_flag() = on; }
bool sync_batch_norm() { return sync_flag() && world_size() > 1; }

torch::Tensor synced_batch_norm(const torch::Tensor& input, torch::Tensor& running_mean, torch::Tensor& running_var,
                                torch::Tensor& num_batches_tracked, const torch::Tensor& weight,
                                const torch::Tensor& bias, double momentum, double eps) {
  // Statistics in fp32 whatever the autocast precision (as torch's batch norm keeps them).
  auto x = input.to(torch::kFloat32);
  const int64_t channels = x.size(1);
  std::vector<int64_t> reduce_dims{0};
  for (int64_t d = 2; d < x.dim(); ++d) reduce_dims.push_back(d);
  const double local_count = static_cast<double>(x.numel() / channels);
  // [sum (C), sum of squares (C), count (1)] of this rank, summed over the ranks.
  auto stats = torch::cat({x.sum(reduce_dims), (x * x).sum(reduce_dims),
                           torch::full({1}, local_count, x.options())});
  auto global = AllReduceSum::apply(stats);
  auto count = global.slice(0, 2 * channels, 2 * channels + 1);
  auto mean = global.slice(0, 0, channels) / count;
  auto variance = (global.slice(0, channels, 2 * channels) / count - mean * mean).clamp_min(0);
  {
    // Tensor arithmetic throughout: no host sync (.item()) in a layer's forward pass.
    torch::NoGradGuard no_grad;
    const auto n = count.detach();
    running_mean.mul_(1 - momentum).add_(mean.detach() * momentum);
    running_var.mul_(1 - momentum).add_(variance.detach() * n / (n - 1).clamp_min(1) * momentum);
    num_batches_tracked.add_(1);
  }
  std::vector<int64_t> shape(x.dim(), 1);
  shape[1] = channels;
  auto y = (x - mean.view(shape)) * torch::rsqrt(variance.view(shape) + eps);
  if (weight.defined()) y = y * weight.view(shape) + bias.view(shape);
  return y.to(input.scalar_type());
}

}  // namespace winnow::dist
