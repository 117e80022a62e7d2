#!/usr/bin/python3
"""Table of bench/precision.sh: per setting, fp32 against bf16 (final and best test accuracy,
mean +- sd over seeds, the paired difference and seconds per epoch).

    /usr/bin/python3 bench/summarize_precision.py [bench/runs/precision]
"""
import json
import os
import statistics
import sys


def load(folder):
    runs = {}
    for seed in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        path = os.path.join(folder, seed, "summary.json")
        if seed.startswith("seed_") and os.path.exists(path):
            with open(path) as f:
                summary = json.load(f)
            if summary.get("complete"):
                with open(os.path.join(folder, seed, "metrics.jsonl")) as f:
                    seconds = [json.loads(line)["epoch_seconds"] for line in f]
                runs[seed] = (summary, statistics.median(seconds))
    return runs


def cell(values):
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "bench/runs/precision"
    print("| setting | seeds | final fp32 | final bf16 | bf16 − fp32 (paired) | best fp32 | best bf16 "
          "| s/epoch fp32 | s/epoch bf16 |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for setting in sorted(os.listdir(root)):
        fp32, bf16 = load(os.path.join(root, setting, "fp32")), load(os.path.join(root, setting, "bf16"))
        seeds = sorted(set(fp32) & set(bf16))
        if not seeds:
            continue
        final = {p: [r[s][0]["final_test_accuracy"] for s in seeds] for p, r in (("fp32", fp32), ("bf16", bf16))}
        best = {p: [r[s][0]["best_test_accuracy"] for s in seeds] for p, r in (("fp32", fp32), ("bf16", bf16))}
        secs = {p: [r[s][1] for s in seeds] for p, r in (("fp32", fp32), ("bf16", bf16))}
        diff = [b - a for a, b in zip(final["fp32"], final["bf16"])]
        print(f"| {setting} | {len(seeds)} | {cell(final['fp32'])} | {cell(final['bf16'])} | {cell(diff)} "
              f"| {cell(best['fp32'])} | {cell(best['bf16'])} | {cell(secs['fp32'])} | {cell(secs['bf16'])} |")


if __name__ == "__main__":
    main()
