#pragma once
// Retrieval metrics of person re-identification: mean average precision (mAP) and the
// cumulative matching characteristic (CMC, Rank-k accuracy), with the semantics of open-reid's
// evaluation (reid/evaluation_metrics/ranking.py) that the asymmetric co-teaching code (Yang et
// al., AAAI 2020, FlyingRoastDuck/ACT_AAAI20) reports its tables with.
//
// winnow has no camera ids, so every gallery item is a valid match candidate for every query
// (open-reid with its default cameras: queries on camera 0, gallery on camera 1). Query and
// gallery are meant to be disjoint sets of samples.
#include <cstdint>
#include <vector>

#include <torch/torch.h>

namespace winnow {

struct RetrievalScores {
  double mean_ap = 0;       // in [0, 1]
  std::vector<double> cmc;  // cmc[k-1] = Rank-k accuracy in [0, 1], k = 1..max_rank
  int64_t queries = 0;      // queries with at least one relevant gallery item; the others are
                            // skipped, as the official evaluation does
};

// distance: floating [Q, G], smaller = more similar; query_ids: integer [Q]; gallery_ids:
// integer [G]. A gallery item is relevant to a query when their ids are equal.
//
// mAP: per query, scikit-learn's average_precision_score(relevant, -distance) (the step
// integral of the precision-recall curve). Gallery items at exactly the same distance form one
// threshold of that curve, so the order among tied items does not matter: a tie group
// contributes (relevant items in it / relevant items in all) * (precision after the whole
// group). Averaged over the queries that have a relevant item.
//
// CMC with open-reid's "market1501" settings (first_match_break, no single-gallery-shot):
// Rank-k = share of those queries whose first relevant item is among the first k after a
// stable sort by distance (ties keep gallery order; open-reid's np.argsort is numpy's default
// quicksort, not stable, so on tied distances its Rank-k may differ). When max_rank > G the tail stays at Rank-G.
//
// Both come from counts per row (no full sort): O(Q G log R) for R relevant items per query,
// on the CPU (a tensor elsewhere is copied over), rows in parallel.
//
// NaN distances are rejected; +-inf are ordinary values (equal infinities tie). Throws
// winnow::Error for bad shapes or types, max_rank < 1, or when no query has a relevant gallery
// item (mAP and CMC are then undefined; open-reid raises "No valid query").
RetrievalScores evaluate_retrieval(const torch::Tensor& distance, const torch::Tensor& query_ids,
                                   const torch::Tensor& gallery_ids, int64_t max_rank = 10);

// Squared euclidean distances between the rows of a [Q, D] and b [G, D]:
// |a_i|^2 + |b_j|^2 - 2 a_i . b_j, as open-reid's pairwise_distance computes them (one matrix
// product). Like it, no clamp at zero: rounding can leave near-duplicates slightly negative,
// which keeps their order. Result [Q, G] in the inputs' floating dtype, on their device.
torch::Tensor squared_euclidean(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace winnow
