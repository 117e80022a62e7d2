#pragma once
// Robust losses for training with noisy labels: the options (with each paper's defaults) and
// the functionals that hold the maths. Every functional takes logits [N, K] and int64 targets
// [N] and returns the per-sample loss [N]; the caller reduces. The registered Loss classes
// (src/losses/*.cpp) are thin wrappers that read the options from the [loss] section.
//
// Options follow the LibTorch frontend's pattern: TORCH_ARG gives a getter `q()` and a fluent
// setter `q(0.5)`; validate() throws winnow::Error naming the key, the value and the range.
// (TORCH_ARG leaves a private section behind it, so the methods come first.)
#include <cstdint>
#include <string>
#include <vector>

#include <torch/torch.h>

namespace winnow {

// Mean absolute error (Ghosh, Kumar & Sastry, AAAI 2017): ||e_y - softmax(z)||_1 = 2 - 2 p_y.
// No hyper-parameters.

// Generalized cross entropy L_q (Zhang & Sabuncu, NeurIPS 2018, eq. 6): (1 - p_y^q) / q.
struct GeneralizedCrossEntropyOptions {
  void validate() const;
  TORCH_ARG(double, q) = 0.7;  // q -> 0 gives CE, q = 1 gives MAE / 2
};

// Truncated L_q (Zhang & Sabuncu, NeurIPS 2018, eq. 9 and Alg. 1): samples whose p_y <= k at
// the last pruning step contribute the constant L_q(k) (no gradient); the pruning weights are
// recomputed from the whole training set at the start of epochs e (0-based) with
// e + 1 >= start_prune and (e + 1) % prune_every == 0 (AlanChou/Truncated-Loss, main.py).
struct TruncatedLqOptions {
  void validate() const;
  TORCH_ARG(double, q) = 0.7;
  TORCH_ARG(double, k) = 0.5;
  TORCH_ARG(int64_t, start_prune) = 40;
  TORCH_ARG(int64_t, prune_every) = 10;
};

// Reverse cross entropy (Wang et al., ICCV 2019, eq. 5 with log 0 = A):
// -sum_k p_k log q(k|x) = -A (1 - p_y).
struct ReverseCrossEntropyOptions {
  void validate() const;
  TORCH_ARG(double, log_zero) = -4.0;  // A, the value taken for log 0; must be < 0
};

// Symmetric cross entropy (Wang et al., ICCV 2019, eq. 6): alpha * CE + beta * RCE.
struct SymmetricCrossEntropyOptions {
  void validate() const;
  TORCH_ARG(double, alpha) = 0.1;  // CIFAR-10 values of the paper
  TORCH_ARG(double, beta) = 1.0;
  TORCH_ARG(double, log_zero) = -4.0;
};

// Normalized cross entropy (Ma et al., ICML 2020, eq. 3): log p_y / sum_k log p_k, times scale.
struct NormalizedCrossEntropyOptions {
  void validate() const;
  TORCH_ARG(double, scale) = 1.0;
};

// Active-passive loss NCE+RCE (Ma et al., ICML 2020, eq. 7): alpha * NCE + beta * RCE.
struct NceRceOptions {
  void validate() const;
  TORCH_ARG(double, alpha) = 1.0;  // CIFAR-10 values of the official configs
  TORCH_ARG(double, beta) = 1.0;
  TORCH_ARG(double, log_zero) = -4.0;
};

// Peer loss (Liu & Guo, ICML 2020, eq. 5, alpha-weighted as in Sec. 5):
// l(f(x_i), y_i) - alpha * l(f(x_{n1}), y_{n2}), with l the "stable" cross entropy
// -log(p + epsilon) of the official code. alpha follows `alpha_schedule` when it is not
// empty: a flat list of segments (length, start, end), each numpy.linspace(start, end,
// length) epochs long, concatenated; epochs past the end keep the last value.
struct PeerLossOptions {
  // alpha at `epoch` (0-based).
  double alpha_at(int64_t epoch) const;
  void validate() const;
  TORCH_ARG(double, alpha) = 1.0;
  TORCH_ARG(std::vector<double>, alpha_schedule) = {};
  TORCH_ARG(double, epsilon) = 1e-5;
};

// L_DMI (Xu, Cao, Kong & Wang, NeurIPS 2019, eq. 4): -log |det U|, U = Y^T O / N, the
// empirical joint distribution of the labels and the predictions over the batch. The guard
// computes -log(|det U| + epsilon / N^K) in float64 from slogdet; epsilon = 1e-3 is the
// official code's constant added to det(Y^T O), i.e. to the unnormalised matrix.
struct DmiOptions {
  void validate() const;
  TORCH_ARG(double, epsilon) = 1e-3;
  // Epochs of CE before L_DMI takes over (the paper's recipe). The registered loss "dmi"
  // defaults to train.epochs * 120 / 220, the official split (120 CE + 100 DMI epochs).
  TORCH_ARG(int64_t, ce_epochs) = 0;
};

// Label smoothing (Szegedy et al., CVPR 2016, Sec. 7): cross entropy against
// (1 - epsilon) e_y + epsilon / K.
struct LabelSmoothingOptions {
  void validate() const;
  TORCH_ARG(double, epsilon) = 0.1;
};

// Bootstrapping (Reed et al., ICLR workshop 2015): cross entropy against
// beta e_y + (1 - beta) q, with q = softmax (soft, eq. 6; beta = 0.95) or the one-hot
// argmax prediction (hard, eq. 7; beta = 0.8).
struct BootstrapOptions {
  void validate() const;
  TORCH_ARG(double, beta) = 0.95;
};

namespace functional {

torch::Tensor mean_absolute_error(const torch::Tensor& logits, const torch::Tensor& targets);

torch::Tensor generalized_cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets,
                                        const GeneralizedCrossEntropyOptions& options = {});

// weights: float [N], 1 for a kept sample, 0 for a pruned one.
torch::Tensor truncated_lq(const torch::Tensor& logits, const torch::Tensor& targets,
                           const torch::Tensor& weights, const TruncatedLqOptions& options = {});
// The pruning weights of Alg. 1: 1 where p_y > k, else 0 (float [N]).
torch::Tensor truncated_lq_weights(const torch::Tensor& probabilities, const torch::Tensor& labels,
                                   double k);

torch::Tensor reverse_cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets,
                                    const ReverseCrossEntropyOptions& options = {});

torch::Tensor symmetric_cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets,
                                      const SymmetricCrossEntropyOptions& options = {});

torch::Tensor normalized_cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets,
                                       const NormalizedCrossEntropyOptions& options = {});

torch::Tensor nce_rce(const torch::Tensor& logits, const torch::Tensor& targets,
                      const NceRceOptions& options = {});

// Peer loss with explicit peers: row i is
//   l(logits_i, targets_i) - alpha * l(peer_logits_i, peer_targets_i).
torch::Tensor peer_loss(const torch::Tensor& logits, const torch::Tensor& targets,
                        const torch::Tensor& peer_logits, const torch::Tensor& peer_targets,
                        double alpha, double epsilon = 1e-5);
// Peer loss with peers drawn from the batch: for each i, n1 and n2 are drawn uniformly and
// independently (with replacement) from the batch with `generator` (the global torch
// generator when undefined), and the peer term uses logits[n1] with targets[n2].
torch::Tensor peer_loss_in_batch(const torch::Tensor& logits, const torch::Tensor& targets,
                                 double alpha, double epsilon = 1e-5,
                                 c10::optional<at::Generator> generator = c10::nullopt);

// The batch value of L_DMI, a scalar in the dtype of `logits`.
torch::Tensor dmi(const torch::Tensor& logits, const torch::Tensor& targets, int64_t num_classes,
                  double epsilon = 1e-3);

torch::Tensor label_smoothing_cross_entropy(const torch::Tensor& logits,
                                            const torch::Tensor& targets,
                                            const LabelSmoothingOptions& options = {});

torch::Tensor bootstrap_soft(const torch::Tensor& logits, const torch::Tensor& targets,
                             const BootstrapOptions& options = {});
torch::Tensor bootstrap_hard(const torch::Tensor& logits, const torch::Tensor& targets,
                             const BootstrapOptions& options = BootstrapOptions().beta(0.8));

}  // namespace functional
}  // namespace winnow
