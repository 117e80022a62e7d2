#pragma once
// The pure pieces of small-loss sample selection, shared by Co-teaching (Han et al.,
// NeurIPS 2018), Co-teaching+ (Yu et al., ICML 2019) and JoCoR (Wei et al., CVPR 2020):
// the forget-rate schedule, "keep the R(T) fraction with the smallest loss", the
// disagreement set, the co-teaching exchange and JoCoR's joint loss. No state, no training
// loop: each is a function of tensors, so tests can check it by hand.
#include <cstdint>

#include <torch/torch.h>

namespace winnow {

// Forget rate tau * min(T^c / T_k, 1) for 0-based `epoch` (Co-teaching, Sec. 3 and Alg. 1:
// R(T) = 1 - tau * min(T^c / T_k, 1) is updated at the end of epoch T, so the epoch after T
// completed epochs keeps the fraction R(T); the first epoch keeps everything). `tau` in
// [0, 1), `num_gradual` (T_k) >= 1, `exponent` (c) > 0.
//
// The official code (bhanML/Co-teaching, and the Co-teaching+ and JoCoR code after it) uses
// a table linspace(0, tau^c, T_k) indexed by the 0-based epoch: it reaches its plateau one
// epoch earlier (epoch T_k - 1 instead of T_k), and for c != 1 ramps linearly up to tau^c
// instead of following T^c. We follow the paper's formula.
double scheduled_forget_rate(int64_t epoch, double tau, int64_t num_gradual, double exponent);

// How many of `n` samples a forget rate keeps: floor((1 - forget_rate) n), as the official
// code's int(remember_rate * n), but at least one of a non-empty set (the official code
// would divide by zero on a small last batch; Co-teaching+'s code then keeps the whole set).
// A tolerance of 1e-9 keeps (1 - 0.4) * 10 from rounding down to 5.
int64_t keep_count(int64_t n, double forget_rate);

// Positions of the `count` smallest entries of `losses` ([N]), ascending by loss; ties go
// to the lower position (stable sort), so the choice is deterministic.
torch::Tensor select_small_loss(const torch::Tensor& losses, int64_t count);

// Co-teaching+'s disagreement set: bool [N], true where argmax(logits_a) != argmax(logits_b).
torch::Tensor disagreement_mask(const torch::Tensor& logits_a, const torch::Tensor& logits_b);

// One co-teaching exchange among `candidates` (int64 positions into the batch): each network
// keeps the `keep_count` candidates with its smallest losses, and each is then updated on the
// samples its peer kept (Co-teaching, Alg. 1, steps 4-6).
struct Exchange {
  torch::Tensor kept_by_first;   // int64 positions into the batch
  torch::Tensor kept_by_second;
  // What each network is updated on: the peer's choice.
  const torch::Tensor& update_first() const { return kept_by_second; }
  const torch::Tensor& update_second() const { return kept_by_first; }
};
Exchange co_teaching_exchange(const torch::Tensor& losses_first, const torch::Tensor& losses_second,
                              const torch::Tensor& candidates, double forget_rate);

// JoCoR's per-sample joint loss (Wei et al., CVPR 2020, Eqs. 1-4):
//   (1 - lambda) (CE(p1, y) + CE(p2, y)) + lambda (KL(p1 || p2) + KL(p2 || p1)),
// given the two per-sample supervised losses (CE in the paper) and both logits. Neither KL
// side is detached: as in the authors' code, the co-regularisation pulls both networks
// towards each other. Returns [N].
torch::Tensor jocor_joint_loss(const torch::Tensor& supervised_first, const torch::Tensor& supervised_second,
                               const torch::Tensor& logits_first, const torch::Tensor& logits_second,
                               double co_lambda);

// Per-sample KL(p || q) with p = softmax(logits_p), q = softmax(logits_q). Returns [N].
torch::Tensor kl_divergence_per_sample(const torch::Tensor& logits_p, const torch::Tensor& logits_q);

}  // namespace winnow
