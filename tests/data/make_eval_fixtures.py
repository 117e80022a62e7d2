#!/usr/bin/python3
"""Writes tests/data/eval_fixtures.json: reference values for winnow's retrieval metrics
(include/winnow/eval/retrieval.h) and cluster-quality metrics
(include/winnow/eval/cluster_quality.h), computed with scikit-learn.

Run from the repository root with Debian's Python and scikit-learn (1.2.1 when written):

    /usr/bin/python3 tests/data/make_eval_fixtures.py

References:
  - mAP: per query, sklearn.metrics.average_precision_score(gallery_id == query_id, -distance),
    averaged over the queries that have a relevant gallery item, as open-reid's mean_ap
    (reid/evaluation_metrics/ranking.py in the ACT code) does when no camera filter applies.
  - CMC ("market1501" settings, first match breaks): a brute-force loop here over a stable sort.
  - NMI: sklearn.metrics.normalized_mutual_info_score(average_method="arithmetic").
  - ARI: sklearn.metrics.adjusted_rand_score.
  - Pairwise precision / recall / F: a brute-force loop over all pairs here.
Predicted label -1 means "unassigned"; each such sample becomes a singleton cluster of its own
(a fresh label) before it reaches sklearn or the pair loop.
"""
import itertools
import json
import sys

import numpy as np
import sklearn
from sklearn.metrics import (adjusted_rand_score, average_precision_score,
                             normalized_mutual_info_score)


def retrieval_reference(distance, query_ids, gallery_ids, max_rank):
    aps = []
    cmc = np.zeros(max_rank)
    for q in range(distance.shape[0]):
        relevant = gallery_ids == query_ids[q]
        if not relevant.any():
            continue  # no relevant gallery item: skipped, as open-reid does
        aps.append(average_precision_score(relevant, -distance[q]))
        order = np.argsort(distance[q], kind="stable")
        first = int(np.nonzero(relevant[order])[0][0])
        if first < max_rank:
            cmc[first:] += 1
    return {"mean_ap": float(np.mean(aps)), "per_query_ap": [float(a) for a in aps],
            "cmc": [float(c) for c in cmc / len(aps)], "queries": len(aps)}


def retrieval_fixture(rng, name, q, g, ids, levels, max_rank):
    # Distances on a coarse grid of multiples of 1/8 (exact in float32) so that ties occur.
    distance = rng.integers(0, levels, size=(q, g)).astype(np.float64) / 8.0
    query_ids = rng.integers(0, ids, size=q)
    gallery_ids = rng.integers(0, ids, size=g)
    ref = retrieval_reference(distance, query_ids, gallery_ids, max_rank)
    return {"name": name, "distance": distance.tolist(), "query_ids": query_ids.tolist(),
            "gallery_ids": gallery_ids.tolist(), "max_rank": max_rank, **ref}


def singletons_for_unassigned(predicted):
    """-1 (unassigned) becomes a fresh label per sample, above every real label."""
    out = predicted.copy()
    fresh = max(int(predicted.max()) + 1, 0)
    for i in np.nonzero(predicted < 0)[0]:
        out[i] = fresh
        fresh += 1
    return out


def pairwise_brute_force(predicted, truth):
    tp = same_pred = same_true = 0
    for i, j in itertools.combinations(range(len(truth)), 2):
        p = predicted[i] == predicted[j]
        t = truth[i] == truth[j]
        same_pred += p
        same_true += t
        tp += p and t
    precision = tp / same_pred if same_pred else 0.0  # 0/0 := 0, as winnow defines it
    recall = tp / same_true if same_true else 0.0
    f = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return precision, recall, f


def pairwise_blocks(predicted, truth, block=2000):
    """The same pair counts as pairwise_brute_force, by comparing blocks of rows of the N x N
    'same label' matrices (numpy), for inputs too large for a Python loop."""
    tp = same_pred = same_true = 0
    for start in range(0, len(truth), block):
        p = predicted[start:start + block, None] == predicted[None, :]
        t = truth[start:start + block, None] == truth[None, :]
        same_pred += int(p.sum())
        same_true += int(t.sum())
        tp += int((p & t).sum())
    n = len(truth)  # drop the diagonal, then count each unordered pair once
    tp, same_pred, same_true = (tp - n) // 2, (same_pred - n) // 2, (same_true - n) // 2
    precision = tp / same_pred if same_pred else 0.0
    recall = tp / same_true if same_true else 0.0
    f = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    return precision, recall, f


def large_formula_fixture():
    """N = 60000 labels from a formula the C++ test repeats (the labels are not stored): 70% of
    the samples keep a relabelled class, the rest land in a pseudo-random cluster or -1."""
    n = 60000
    i = np.arange(n, dtype=np.int64)
    truth = (i * 7919) % 37
    predicted = np.where((i * 2654435761) % 97 < 68, (truth * 5) % 37, (i * 31337) % 47 - 1)
    expanded = singletons_for_unassigned(predicted)
    precision, recall, f = pairwise_blocks(expanded, truth)
    return {
        "name": "large_formula", "n": n,
        "formula": "truth = (i*7919) % 37; predicted = (i*2654435761) % 97 < 68 ? (truth*5) % 37 "
                   ": (i*31337) % 47 - 1, for i in [0, n)",
        "pairwise_precision": precision, "pairwise_recall": recall, "pairwise_f": f,
        "nmi": float(normalized_mutual_info_score(truth, expanded, average_method="arithmetic")),
        "ari": float(adjusted_rand_score(truth, expanded)),
        "clusters": int(len(np.unique(predicted[predicted >= 0]))),
        "unassigned": int((predicted < 0).sum()),
    }


def cluster_fixture(name, predicted, truth):
    predicted = np.asarray(predicted, dtype=np.int64)
    truth = np.asarray(truth, dtype=np.int64)
    expanded = singletons_for_unassigned(predicted)
    precision, recall, f = pairwise_brute_force(expanded, truth)
    return {
        "name": name, "predicted": predicted.tolist(), "truth": truth.tolist(),
        "pairwise_precision": precision, "pairwise_recall": recall, "pairwise_f": f,
        "nmi": float(normalized_mutual_info_score(truth, expanded, average_method="arithmetic")),
        "ari": float(adjusted_rand_score(truth, expanded)),
        "clusters": int(len(np.unique(predicted[predicted >= 0]))),
        "unassigned": int((predicted < 0).sum()),
    }


def noisy_clustering(rng, n, classes, flip, unassigned):
    """Truth in [0, classes); the prediction is a relabelled copy with some samples moved to a
    random cluster and some left unassigned (-1), as DBSCAN leaves outliers."""
    truth = rng.integers(0, classes, size=n)
    names = rng.permutation(classes) + 3  # cluster ids need not match class ids
    predicted = names[truth]
    moved = rng.random(n) < flip
    predicted[moved] = rng.integers(0, classes + 2, size=moved.sum()) + 3
    predicted[rng.random(n) < unassigned] = -1
    return predicted, truth


def main():
    rng = np.random.default_rng(20200207)  # ACT: AAAI 2020
    retrieval = [
        retrieval_fixture(rng, "small_many_ties", 8, 30, 5, 6, 10),
        retrieval_fixture(rng, "medium_some_ties", 20, 60, 12, 40, 10),
        retrieval_fixture(rng, "few_ids_rank_beyond_gallery", 6, 8, 3, 4, 12),
        retrieval_fixture(rng, "sparse_relevance", 25, 50, 40, 200, 5),
    ]
    clusters = []
    for n, classes, flip, unassigned in [(300, 12, 0.15, 0.1), (250, 40, 0.3, 0.0),
                                         (200, 5, 0.5, 0.3), (300, 60, 0.05, 0.2)]:
        p, t = noisy_clustering(rng, n, classes, flip, unassigned)
        clusters.append(cluster_fixture(f"noisy_n{n}_k{classes}", p, t))
    n = 40
    truth = rng.integers(0, 6, size=n)
    clusters += [
        cluster_fixture("single_cluster_vs_classes", np.zeros(n, np.int64), truth),
        cluster_fixture("all_singletons_vs_classes", np.arange(n), truth),
        cluster_fixture("all_unassigned_vs_classes", -np.ones(n, np.int64), truth),
        cluster_fixture("single_cluster_both", np.full(n, 7), np.full(n, 2)),
        cluster_fixture("all_singletons_both", np.arange(n)[::-1].copy(), np.arange(n)),
        cluster_fixture("identical_relabelled", (truth * 5 + 1) % 31, truth),
        cluster_fixture("independent", rng.integers(0, 6, size=n), truth),
    ]
    doc = {
        "source": (f"scikit-learn {sklearn.__version__} (Debian python3-sklearn), numpy "
                   f"{np.__version__}, Python {sys.version.split()[0]}: "
                   "/usr/bin/python3 tests/data/make_eval_fixtures.py"),
        "retrieval": retrieval,
        "cluster": clusters,
        "cluster_large": large_formula_fixture(),
    }
    with open("tests/data/eval_fixtures.json", "w") as out:
        json.dump(doc, out, separators=(",", ":"))
        out.write("\n")


if __name__ == "__main__":
    main()
