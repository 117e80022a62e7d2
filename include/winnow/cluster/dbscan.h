#pragma once
// DBSCAN (Ester, Kriegel, Sander & Xu, KDD 1996) on a precomputed distance matrix, as
// asymmetric co-teaching clusters its re-ranked target distances (Yang et al., AAAI 2020,
// Sec. 3.1; official code: sklearn.cluster.DBSCAN(eps, min_samples=4, metric="precomputed")).
#include <cstdint>

#include <torch/torch.h>

namespace winnow {

// Labels 0..C-1 for clusters, -1 for noise, with scikit-learn's DBSCAN(metric="precomputed")
// semantics: i's neighbourhood is every j (i itself included only if distance[i][i] <= eps)
// with distance[i][j] <= eps; i is a core sample when its neighbourhood has >= min_samples
// members; clusters are numbered in the order of their lowest-index core sample, and a border
// sample reachable from several clusters joins the first of them. `distance`: floating [N, N],
// finite, >= 0, N >= 1, read row by row (it need not be symmetric). A float64 matrix is
// compared with eps in double; any other floating type is compared in float32 with eps
// rounded to float32, as numpy compares a float32 matrix with a Python float. Returns int64 [N]
// on the CPU.
torch::Tensor dbscan_precomputed(const torch::Tensor& distance, double eps, int64_t min_samples);

// ACT's eps rule (official selftrainingACT.py): the mean of the smallest round(rho * P) of the
// P non-zero entries of the strict upper triangle of `distance` (numpy's round: halves to
// even). rho in (0, 1]; throws when round(rho * P) is 0 (too few distances for this rho).
double dbscan_eps_from_rho(const torch::Tensor& distance, double rho);

}  // namespace winnow
