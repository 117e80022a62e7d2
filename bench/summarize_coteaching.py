#!/usr/bin/env python3
"""Gathers the runs of bench/coteaching.sh into one markdown table per model.

    python3 bench/summarize_coteaching.py bench/runs/coteaching [--last 10]

Layout: ROOT/<model>/<noise type>_<rate>/<method>/seed_<seed>/{summary.json,metrics.jsonl}.
A row per (noise, method); each cell is the mean ± sample standard deviation over seeds:
  - final: test accuracy after the last epoch (%);
  - last-N: mean test accuracy over the last N epochs (%), the papers' way of reporting;
  - average net: the same for the average of the two networks' softmax (two-network
    methods; the summary's test accuracy is the first network's, the papers' convention);
  - label precision: the selection's "pure ratio" averaged over the last N epochs (two-network
    methods: the fraction of selected samples whose given label is true);
  - detection F1 / AUROC: the trainer's noisy-label detection from samples.csv.
Only the standard library is used (json, statistics).
"""
import argparse
import json
import os
import statistics
import sys
from collections import defaultdict

METHOD_ORDER = ["standard", "coteaching", "coteaching_plus", "jocor"]
COLUMNS = ["final", "last", "average_last", "label_precision", "f1", "auroc"]


def mean_last(metrics, key, last):
    values = [m[key] for m in metrics[-last:] if isinstance(m.get(key), (int, float))]
    return statistics.mean(values) if values else None


def find_runs(root, last):
    for directory, _, files in os.walk(root):
        if "summary.json" not in files:
            continue
        parts = os.path.relpath(directory, root).split(os.sep)
        if len(parts) != 4 or not parts[3].startswith("seed_"):
            print(f"summarize_coteaching.py: skipping {directory}", file=sys.stderr)
            continue
        model, noise, method, _seed = parts
        try:
            with open(os.path.join(directory, "summary.json")) as f:
                summary = json.load(f)
            with open(os.path.join(directory, "metrics.jsonl")) as f:
                metrics = [json.loads(line) for line in f if line.strip()]
        except (OSError, json.JSONDecodeError) as e:
            print(f"summarize_coteaching.py: skipping {directory}: {e}", file=sys.stderr)
            continue
        detection = summary.get("detection") or {}
        row = {
            "final": summary.get("final_test_accuracy"),
            "last": mean_last(metrics, "test_accuracy", last),
            "average_last": mean_last(metrics, "test_accuracy_average", last),
            "label_precision": mean_last(metrics, "label_precision", last),
            "f1": detection.get("f1"),
            "auroc": detection.get("auroc"),
        }
        yield model, noise, method, row, len(metrics)


def noise_key(noise):
    kind, _, rate = noise.rpartition("_")
    try:
        return (kind, float(rate))
    except ValueError:
        return (noise, 0.0)


def cell(values, scale=1.0, digits=2):
    values = [v * scale for v in values if isinstance(v, (int, float))]
    if not values:
        return "–"
    text = f"{statistics.mean(values):.{digits}f}"
    if len(values) >= 2:
        text += f" ± {statistics.stdev(values):.{digits}f}"
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", help="the OUT folder of bench/coteaching.sh")
    parser.add_argument("--last", type=int, default=10, help="epochs averaged for last-N columns")
    args = parser.parse_args()
    if not os.path.isdir(args.root):
        sys.exit(f"summarize_coteaching.py: {args.root} is not a folder")
    # cells[model][(noise, method)][column] = [value per seed]
    cells = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    epochs = defaultdict(set)
    for model, noise, method, row, n_epochs in find_runs(args.root, args.last):
        epochs[model].add(n_epochs)
        for column in COLUMNS:
            cells[model][(noise, method)][column].append(row[column])
    if not cells:
        sys.exit(f"summarize_coteaching.py: no summary.json under {args.root}")
    order = {m: i for i, m in enumerate(METHOD_ORDER)}
    n = args.last
    for model in sorted(cells):
        print(f"### {model} on Fashion-MNIST ({'/'.join(map(str, sorted(epochs[model])))} epochs; "
              f"mean ± sd over seeds)\n")
        print(f"| noise | method | seeds | final test acc | last-{n} test acc | last-{n} average-net acc "
              f"| label precision (last {n}) | detection F1 | detection AUROC |")
        print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        keys = sorted(cells[model], key=lambda k: (noise_key(k[0]), order.get(k[1], len(order)), k[1]))
        for noise, method in keys:
            c = cells[model][(noise, method)]
            print(f"| {noise.replace('_', ' ')} | {method} | {len(c['final'])} | {cell(c['final'])} "
                  f"| {cell(c['last'])} | {cell(c['average_last'])} | {cell(c['label_precision'], 100)} "
                  f"| {cell(c['f1'], 1, 3)} | {cell(c['auroc'], 1, 3)} |")
        print()


if __name__ == "__main__":
    main()
