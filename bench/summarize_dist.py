#!/usr/bin/python3
"""Table of bench/dist_accuracy.sh: per setting, final and best test accuracy (mean +- sd over
seeds) in 1 process x 2 threads and 2 processes x 1 thread, their paired difference, and the
median training seconds per epoch.

    /usr/bin/python3 bench/summarize_dist.py [bench/runs/dist]
"""
import glob
import json
import os
import statistics
import sys

root = sys.argv[1] if len(sys.argv) > 1 else "bench/runs/dist"


def stats(values):
    if not values:
        return "—"
    sd = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{statistics.mean(values):.2f} ± {sd:.2f}"


print("| setting | seeds | final 1x2 | final 2x1 | 2x1 − 1x2, paired | best 1x2 | best 2x1 | s/epoch 1x2 | s/epoch 2x1 |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for setting in sorted(os.listdir(root)):
    runs = {}
    for arm in ("1x2", "2x1"):
        for path in glob.glob(os.path.join(root, setting, arm, "seed_*", "summary.json")):
            with open(path) as f:
                s = json.load(f)
            if not s.get("complete"):
                continue
            seed = path.split(os.sep)[-2]
            with open(os.path.join(os.path.dirname(path), "metrics.jsonl")) as f:
                seconds = statistics.median(json.loads(line)["epoch_seconds"] for line in f)
            runs.setdefault(seed, {})[arm] = (s["final_test_accuracy"], s["best_test_accuracy"], seconds)
    paired = [r for r in runs.values() if len(r) == 2]
    if not paired:
        continue
    col = lambda arm, i: [r[arm][i] for r in paired]  # noqa: E731
    diff = [r["2x1"][0] - r["1x2"][0] for r in paired]
    print(f"| {setting} | {len(paired)} | {stats(col('1x2', 0))} | {stats(col('2x1', 0))} | {stats(diff)} | "
          f"{stats(col('1x2', 1))} | {stats(col('2x1', 1))} | {statistics.median(col('1x2', 2)):.2f} | "
          f"{statistics.median(col('2x1', 2)):.2f} |")
