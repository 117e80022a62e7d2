#!/usr/bin/env python3
"""Tables of bench/collaborative.sh: best and final test accuracy per method.

    python3 bench/collab_summary.py runs/collab-bench

Runs are found as ROOT/<model>/<noise>/<method>/seed<n>/summary.json. Each cell is the mean
± sample standard deviation over the seeds (n in brackets). For methods with several networks
the trainer's test accuracy is the test-time network's (the best on the noisy validation
split); the last column gives each network's final test accuracy from metrics.jsonl
(net<k>_test_accuracy) and marks the best one. Standard library only.
"""
import json
import os
import statistics
import sys
from collections import defaultdict


def cell(values):
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f} ({len(values)})"


def last_metrics(directory):
    path = os.path.join(directory, "metrics.jsonl")
    if not os.path.exists(path):
        return {}
    lines = [line for line in open(path) if line.strip()]
    return json.loads(lines[-1]) if lines else {}


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    root = sys.argv[1]
    rows = defaultdict(lambda: defaultdict(list))
    for directory, _, files in os.walk(root):
        if "summary.json" not in files:
            continue
        parts = os.path.relpath(directory, root).split(os.sep)
        if len(parts) != 4 or not parts[3].startswith("seed"):
            continue
        model, noise, method, _ = parts
        summary = json.load(open(os.path.join(directory, "summary.json")))
        key = (model, noise, method)
        rows[key]["best"].append(summary["best_test_accuracy"])
        rows[key]["final"].append(summary["final_test_accuracy"])
        rows[key]["seconds"].append(summary["train_seconds"])
        last = last_metrics(directory)
        nets = sorted(k for k in last if k.startswith("net") and k.endswith("_test_accuracy"))
        if nets:
            values = [last[k] for k in nets]
            best = max(range(len(values)), key=lambda i: values[i])
            rows[key]["nets"].append(" / ".join(f"{'*' if i == best else ''}{v:.2f}" for i, v in enumerate(values)))
    print("| model | noise | method | best test acc | final test acc | train s | final acc per network (* best) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for key in sorted(rows):
        r = rows[key]
        print(f"| {key[0]} | {key[1]} | {key[2]} | {cell(r['best'])} | {cell(r['final'])} | "
              f"{cell(r['seconds'])} | {'; '.join(r['nets']) or '-'} |")


if __name__ == "__main__":
    main()
