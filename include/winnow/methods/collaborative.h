#pragma once
// The maths of collaborative learning, as plain functions (the methods "dml", "distill",
// "grafting" and "dgd" are thin loops around them):
//  - deep mutual learning, Zhang, Xiang, Hospedales & Lu, "Deep Mutual Learning", CVPR 2018;
//  - knowledge distillation, Hinton, Vinyals & Dean, "Distilling the Knowledge in a Neural
//    Network", 2015;
//  - filter grafting, Meng et al., "Filter Grafting for Deep Neural Networks", CVPR 2020,
//    following the official code (github.com/fxmeng/filter-grafting, grafting_cifar/grafting.py).
#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace winnow {

// Per-sample KL(p || q) = sum_c p_c (log p_c - log q_c), shape [N], with 0 log 0 = 0.
// `target_probs` p [N, C] is the distribution followed (detach it when it should receive no
// gradient); `log_probs` is log q [N, C].
torch::Tensor kl_divergence(const torch::Tensor& target_probs, const torch::Tensor& log_probs);

// DML's mimicry term for peer k, per sample [N] (Zhang et al. 2018, eq. 3 and 10):
//  - "pairwise": mean over the peers j != k of KL(p_j || p_k);
//  - "ensemble": KL(mean_{j != k} p_j || p_k), the ensemble-teacher variant.
// `probs` are every peer's softmax outputs (detached by the caller: the peers' predictions
// are targets); `log_probs_k` is log_softmax of peer k, which carries the gradient.
torch::Tensor mutual_learning_term(const std::vector<torch::Tensor>& probs, size_t k,
                                   const torch::Tensor& log_probs_k, const std::string& variant);

// Hinton et al. 2015, per sample [N]:
//   (1 - alpha) CE(student, y) + alpha T^2 KL(softmax(t / T) || softmax(s / T)).
// The T^2 keeps the soft term's gradient on the scale of the hard one when T changes
// (its gradient scales as 1 / T^2, section 2). The teacher's logits are detached here:
// gradients flow only into the student.
torch::Tensor distillation_loss(const torch::Tensor& student_logits, const torch::Tensor& teacher_logits,
                                const torch::Tensor& labels, double alpha, double temperature);

// Entropy of a weight tensor (Meng et al. 2020, eq. 4): the values' range [min, max] is cut
// into `bins` equal intervals, p_b the fraction of values in interval b, H = -sum p_b log p_b
// (natural log). A constant tensor has entropy 0. The official code uses 10 intervals per
// layer over the whole tensor, which is the default of the methods.
double weight_entropy(const torch::Tensor& weights, int64_t bins);

// Grafting coefficient of network i's layer against network i-1's (Meng et al. 2020, eq. 7,
// as the official code computes it): alpha = A / pi * arctan(c (H_i - H_{i-1})) + 0.5.
// The paper prints A * arctan(...) + 0.5; with its A = 0.4 that leaves [0, 1], and the
// official code divides by pi, so alpha lies in (0.5 - A/2, 0.5 + A/2).
double grafting_alpha(double entropy_self, double entropy_other, double A, double c);

struct GraftOptions {
  double A = 0.4;       // Meng et al. 2020, section 4: A = 0.4, c = 500
  double c = 500.0;
  int64_t bins = 10;    // official code: entropy(x, n=10)
};

// One grafting step over a ring of networks with identical structure: network i becomes
// alpha W_i + (1 - alpha) W_{i-1} (i-1 taken modulo N, all from the weights before the
// step), layer by layer. A layer is a module: its alpha comes from the entropy of its weight
// (its first parameter with two or more dimensions); the module's other parameters (bias)
// and floating-point buffers (batch-norm statistics) use the same alpha, and a module
// without such a weight (batch norm) uses the alpha of the layer before it, as the official
// code does. Returns alpha per network, per layer, in parameter order.
std::vector<std::vector<double>> graft_ring(const std::vector<torch::nn::Module*>& networks,
                                            const GraftOptions& options);

}  // namespace winnow
