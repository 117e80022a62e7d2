#pragma once
// The pure pieces of DivideMix (Li, Socher & Hoi, ICLR 2020): co-divide's clean probability
// from per-sample losses, the labelled/unlabelled split each network trains on (from its
// PEER's probabilities), and MixMatch with co-refinement and co-guessing (Sec. 3.2, Alg. 1).
// Functions of tensors only, so tests can check each by hand.
#include <cstdint>
#include <deque>

#include <torch/torch.h>

#include "winnow/methods/gmm.h"

namespace winnow {

// Sharpening (Alg. 1 lines 9 and 13; MixMatch Eq. 7): p_c^(1/T) / sum_c' p_c'^(1/T), row-wise.
torch::Tensor sharpen(const torch::Tensor& probabilities, double temperature);

// Co-refinement (Alg. 1 lines 8-9): w y + (1 - w) mean_m p_m, then sharpened. `one_hot` [B, C]
// (given labels), `clean_probability` w [B], `probabilities_views` the softmax of the network
// being trained over each augmented view, [M, B, C].
torch::Tensor co_refine(const torch::Tensor& one_hot, const torch::Tensor& clean_probability,
                        const torch::Tensor& probabilities_views, double temperature);

// Co-guessing (Alg. 1 lines 12-13): the mean of both networks' softmax over every view,
// sharpened. `probabilities_both` [K, B, C] (K = networks x views).
torch::Tensor co_guess(const torch::Tensor& probabilities_both, double temperature);

// MixUp as DivideMix's Alg. 1 lines 15-17: lambda' = max(lambda, 1 - lambda), then
// x' = lambda' x + (1 - lambda') x[perm] and likewise for the targets.
struct Mixed {
  torch::Tensor inputs, targets;
};
Mixed mixup(const torch::Tensor& inputs, const torch::Tensor& targets, double lambda, const torch::Tensor& perm);

// lambda' = max(lambda, 1 - lambda) with lambda ~ Beta(alpha, alpha), drawn from `generator`
// (as a ratio of two Gamma(alpha) draws).
double sample_mix_lambda(double alpha, torch::Generator& generator);

// DivideMix's losses (Eqs. 9-12): Lx = -mean_b sum_c t log softmax(logits);
// Lu = mean over all entries of (softmax(logits) - t)^2 (as the official code: mean over
// batch and classes); the uniform-prior regulariser sum_c pi_c log(pi_c / mean_b p_c).
torch::Tensor mixmatch_labelled_loss(const torch::Tensor& logits, const torch::Tensor& targets);
torch::Tensor mixmatch_unlabelled_loss(const torch::Tensor& logits, const torch::Tensor& targets);
torch::Tensor uniform_prior_penalty(const torch::Tensor& logits);

// Warm-up confidence penalty for asymmetric noise (Sec. 3.3, Pereyra et al. 2017): the mean
// negative entropy sum_c p log p.
torch::Tensor negative_entropy(const torch::Tensor& logits);

// The official linear_rampup: lambda_u * clip((current - warm_up) / rampup, 0, 1), with
// current = epoch + batch / batches_per_epoch.
double lambda_u_ramp(double lambda_u, double current, double warm_up, double rampup_length);

// (l - min) / (max - min) as float64 on the CPU; a constant vector maps to zeros.
torch::Tensor min_max_normalise(const torch::Tensor& losses);

// Co-divide for one network (Sec. 3.1): per-sample losses min-max normalised to [0, 1], a
// two-component GMM, the clean probability = posterior of the low-mean component.
torch::Tensor clean_probability(const torch::Tensor& losses, const GmmOptions& options, GmmFit* fit = nullptr);

// The same GMM on values already in [0, 1] (normalised or averaged normalised losses).
torch::Tensor clean_probability_of_normalised(const torch::Tensor& normalised, const GmmOptions& options,
                                              GmmFit* fit = nullptr);

// The official code's loss averaging (Train_cifar.py, eval_train, used there at 90% noise):
// the GMM is fit to the mean of the last `length` epochs' min-max normalised losses, which
// damps the epoch-to-epoch swings of a network that is starting to fit wrong labels.
// length 1 is no averaging. Fewer epochs than `length` so far: the mean of those there are.
class LossHistory {
 public:
  explicit LossHistory(int64_t length = 1);
  // Appends one epoch's normalised losses [N] and returns the mean over the kept epochs.
  torch::Tensor push(const torch::Tensor& normalised);
  // For checkpoints: the kept epochs as [epochs, N] (a [0] tensor when empty), and back.
  torch::Tensor stacked() const;
  void restore(const torch::Tensor& stacked);
  int64_t size() const { return static_cast<int64_t>(epochs_.size()); }

 private:
  int64_t length_;
  std::deque<torch::Tensor> epochs_;
};

// The split each network trains on: network k is trained on the division made from its
// PEER's clean probabilities (Alg. 1 line 4: "(X_k, U_k) from W^(1-k)"), so the networks'
// errors do not confirm themselves. Labelled where the peer's probability > threshold.
struct Division {
  torch::Tensor labelled;    // int64 indices
  torch::Tensor unlabelled;  // int64 indices
  torch::Tensor clean_probability;  // float [N]: the peer's probabilities (w for co-refine)
};
struct CoDivision {
  Division first, second;  // what network 0 / network 1 train on
};
CoDivision co_divide(const torch::Tensor& probability_first, const torch::Tensor& probability_second,
                     double p_threshold);
// The same with a labelled set of a given size: the `labelled_count` samples of highest peer
// probability (exact ties: the earlier sample first).
CoDivision co_divide_top(const torch::Tensor& probability_first, const torch::Tensor& probability_second,
                         int64_t labelled_count);

}  // namespace winnow
