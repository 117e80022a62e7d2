#!/usr/bin/env python3
"""Writes tests/data/dbscan_fixtures.json: scikit-learn's DBSCAN(metric="precomputed") labels
on small distance matrices, for tests/test_cluster.cpp.

Run with Debian's Python (it has scikit-learn 1.2.1):
    /usr/bin/python3 tests/data/make_dbscan_fixtures.py > tests/data/dbscan_fixtures.json

Every matrix is stored exactly (JSON numbers written with repr round-trip to the same float64).
No distance lies within 1e-6 of eps unless it equals eps exactly (the "ties" fixtures), so the
labels do not depend on rounding, in float64 or float32; the script checks that sklearn gives
the same labels for the float32 copy of each matrix.
"""
import json
import sys

import numpy as np
import sklearn
from sklearn.cluster import DBSCAN


def euclidean(points):
    p = np.asarray(points, dtype=np.float64)
    diff = p[:, None, :] - p[None, :, :]
    return np.sqrt((diff ** 2).sum(-1))


def fixture(name, description, distance, eps, min_samples):
    distance = np.asarray(distance, dtype=np.float64)
    gap = np.abs(distance - eps)
    assert np.all((gap == 0) | (gap > 1e-6)), f"{name}: a distance lies within 1e-6 of eps"
    labels = DBSCAN(eps=eps, min_samples=min_samples, metric="precomputed").fit_predict(distance)
    labels32 = DBSCAN(eps=eps, min_samples=min_samples, metric="precomputed").fit_predict(
        distance.astype(np.float32))
    assert np.array_equal(labels, labels32), f"{name}: float32 labels differ"
    return {
        "name": name,
        "description": description,
        "eps": eps,
        "min_samples": min_samples,
        "distance": distance.tolist(),
        "labels": labels.astype(int).tolist(),
    }


def main():
    fixtures = []

    # Two blobs joined by a bridge sample that is a border of both. The right-hand blob's
    # samples come first, so it becomes cluster 0 and takes the bridge (index 4).
    right = [(4, 0), (5, 0), (6, 0), (5, 1)]
    left = [(0, 0), (1, 0), (2, 0), (1, 1)]
    points = right + [(3, 0)] + left + [(10, 10)]
    fixtures.append(fixture(
        "shared_border", "two 4-sample blobs, a bridge (index 4) within eps of a core of each "
        "but not core itself, one far sample", euclidean(points), 1.5, 4))

    # The same samples in another order: the left blob is found first and takes the bridge.
    order = [5, 0, 4, 6, 1, 7, 2, 8, 3, 9]
    fixtures.append(fixture(
        "shared_border_reordered", "shared_border with the samples permuted",
        euclidean([points[i] for i in order]), 1.5, 4))

    rng = np.random.default_rng(20240601)
    scattered = np.round(rng.uniform(0, 20, size=(12, 2)), 2)
    fixtures.append(fixture(
        "all_noise", "12 scattered samples, min_samples larger than any neighbourhood",
        euclidean(scattered), 1.0, 3))

    fixtures.append(fixture(
        "min_samples_1", "every sample is core: clusters are the connected components of the "
        "eps-graph, isolated samples become their own clusters",
        euclidean(scattered), 4.0, 1))

    fixtures.append(fixture(
        "one_cluster", "eps larger than every distance", euclidean(scattered), 100.0, 2))

    chain = [(0, 0), (1, 0), (2, 0), (3, 0), (5, 0), (6, 0), (6, 1), (5, 1)]
    fixtures.append(fixture(
        "ties_at_eps", "integer points with distances exactly eps = 1: they count as neighbours "
        "(<=); the ends of the chain are borders", euclidean(chain), 1.0, 3))
    fixtures.append(fixture(
        "ties_below_eps", "ties_at_eps with eps = 0.99: nothing is within eps but the sample "
        "itself", euclidean(chain), 0.99, 2))

    # A non-zero diagonal: sklearn counts j == i only when distance[i][i] <= eps. Two copies of
    # a 4-sample diamond where every sample is core with a zero diagonal; in the first, sample 1
    # loses its self-count (no longer core, joins through sample 3); in the second, samples 5
    # and 7 lose theirs and nothing is core any more.
    diamond = [(0, 0), (1, 0), (2, 0), (1, 1)]
    d = euclidean(diamond + [(x, y + 5) for x, y in diamond])
    d[1, 1] = 3.0
    d[5, 5] = 3.0
    d[7, 7] = 3.0
    d[2, 2] = 0.5
    fixtures.append(fixture(
        "nonzero_diagonal", "diagonal entries above eps (1, 5, 7) remove the sample from its own "
        "neighbourhood; one below eps (2) changes nothing", d, 1.5, 4))

    # Gaussian blobs on a 0.01 grid, shuffled, with noise around them.
    centres = np.array([[0.0, 0.0], [6.0, 1.0], [2.0, 7.0]])
    blob = np.concatenate([c + rng.normal(0, 0.8, size=(15, 2)) for c in centres])
    noise = rng.uniform(-4, 10, size=(10, 2))
    mixed = np.round(np.concatenate([blob, noise]), 2)
    mixed = mixed[rng.permutation(len(mixed))]
    fixtures.append(fixture(
        "blobs", "3 shuffled Gaussian blobs of 15 plus 10 uniform samples, on a 0.01 grid",
        euclidean(mixed), 0.9, 4))
    fixtures.append(fixture(
        "blobs_asymmetric", "blobs with a random non-negative noise added to every entry, so "
        "the matrix is not symmetric (rows are read as they are)",
        euclidean(mixed) + np.round(rng.uniform(0, 0.3, size=(55, 55)), 3), 1.0, 5))

    doc = {
        "source": (
            f"Generated by tests/data/make_dbscan_fixtures.py with scikit-learn {sklearn.__version__}"
            f" and numpy {np.__version__} on Python {sys.version.split()[0]} (Debian's python3): "
            "/usr/bin/python3 tests/data/make_dbscan_fixtures.py > tests/data/dbscan_fixtures.json."
            " labels = sklearn.cluster.DBSCAN(eps, min_samples, metric='precomputed')"
            ".fit_predict(distance) on the float64 matrix; the float32 copy gives the same labels."),
        "fixtures": fixtures,
    }
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
