#!/usr/bin/env python3
"""Gathers the summary.json files of bench/losses.sh into markdown tables.

    python3 bench/summarize.py bench/out/losses [--metric final_test_accuracy]

The runs are found by their layout, ROOT/<model>/<noise type>_<rate>/<loss>/seed_<seed>/
summary.json. For every model and metric there is one table: a row per loss, a column per
noise setting, each cell the mean ± sample standard deviation over the seeds, with the
number of seeds in brackets when it differs from the most common count. Only the standard
library is used (json, statistics).
"""
import argparse
import json
import os
import statistics
import sys
from collections import Counter, defaultdict

METRICS = ["final_test_accuracy", "best_test_accuracy", "mean_last10_test_accuracy"]
# Also available with --metric: the label-noise detection scores of the final model.
EXTRA_METRICS = ["test_accuracy_at_best_val", "detection.f1", "detection.auroc"]


def lookup(summary, metric):
    """summary[metric], with a dotted name reaching into nested objects (detection.f1)."""
    value = summary
    for key in metric.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def find_runs(root):
    """Yields (model, noise, loss, seed, summary dict) for every summary.json under root."""
    for directory, _, files in os.walk(root):
        if "summary.json" not in files:
            continue
        parts = os.path.relpath(directory, root).split(os.sep)
        if len(parts) != 4 or not parts[3].startswith("seed_"):
            print(f"summarize.py: skipping {directory} (not <model>/<noise>/<loss>/seed_<n>)",
                  file=sys.stderr)
            continue
        model, noise, loss, seed = parts
        path = os.path.join(directory, "summary.json")
        try:
            with open(path) as f:
                summary = json.load(f)
        except (OSError, json.JSONDecodeError) as e:
            print(f"summarize.py: skipping {path}: {e}", file=sys.stderr)
            continue
        yield model, noise, loss, seed[len("seed_"):], summary


def noise_key(noise):
    """Sorts noise settings by type, then by rate as a number."""
    kind, _, rate = noise.rpartition("_")
    try:
        return (kind, float(rate))
    except ValueError:
        return (noise, 0.0)


def cell(values, usual_count):
    if not values:
        return "–"
    mean = statistics.mean(values)
    text = f"{mean:.2f}"
    if len(values) >= 2:
        text += f" ± {statistics.stdev(values):.2f}"
    if len(values) != usual_count:
        text += f" ({len(values)})"
    return text


def tables(runs, metrics):
    # values[model][metric][loss][noise] = [value per seed]
    values = defaultdict(lambda: defaultdict(lambda: defaultdict(lambda: defaultdict(list))))
    for model, noise, loss, _seed, summary in runs:
        for metric in metrics:
            value = lookup(summary, metric)
            if isinstance(value, (int, float)):
                values[model][metric][loss][noise].append(float(value))
    out = []
    for model in sorted(values):
        for metric in metrics:
            by_loss = values[model][metric]
            if not by_loss:
                continue
            noises = sorted({n for per_noise in by_loss.values() for n in per_noise}, key=noise_key)
            counts = Counter(len(v) for per_noise in by_loss.values() for v in per_noise.values())
            usual = counts.most_common(1)[0][0]
            out.append(f"### {model}: {metric} (mean ± sd over {usual} seeds)\n")
            out.append("| loss | " + " | ".join(n.replace("_", " ") for n in noises) + " |")
            out.append("| --- |" + " ---: |" * len(noises))
            # CE (the baseline) first, the rest by name.
            for loss in sorted(by_loss, key=lambda l: (l != "ce", l)):
                row = [cell(by_loss[loss].get(n, []), usual) for n in noises]
                out.append(f"| {loss} | " + " | ".join(row) + " |")
            out.append("")
    return "\n".join(out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", help="the OUT folder of bench/losses.sh")
    parser.add_argument("--metric", choices=METRICS + EXTRA_METRICS, action="append",
                        help="metric to tabulate (repeatable; default: all three)")
    args = parser.parse_args()
    if not os.path.isdir(args.root):
        sys.exit(f"summarize.py: {args.root} is not a folder")
    runs = list(find_runs(args.root))
    if not runs:
        sys.exit(f"summarize.py: no summary.json under {args.root}")
    print(tables(runs, args.metric or METRICS))


if __name__ == "__main__":
    main()
