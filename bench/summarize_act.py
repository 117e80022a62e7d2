#!/usr/bin/env python3
"""Tables of bench/act.sh: target mAP / Rank-1 per arm and direction (mean +- sd over seeds),
the ACT - baseline gap against two pooled standard deviations, the label precision of the
outliers ACT selected and rejected, clustering quality and the cost of a round.

    /usr/bin/python3 bench/summarize_act.py [bench/runs/act]
"""
import json
import math
import pathlib
import statistics
import sys

ARMS = ["source_only", "baseline", "baseline_same", "ablation", "act"]
NAMES = {"a2b": "{0..4} -> {5..9}", "b2a": "{5..9} -> {0..4}"}


def mean_sd(values):
    if not values:
        return float("nan"), float("nan")
    return statistics.mean(values), (statistics.stdev(values) if len(values) > 1 else 0.0)


def cell(values):
    m, s = mean_sd(values)
    return "n/a" if math.isnan(m) else f"{m:.1f} ± {s:.1f}"


def load(root):
    runs = {}
    for summary in sorted(root.glob("*/*/*/summary.json")):
        model, direction, name = summary.parts[-4], summary.parts[-3], summary.parts[-2]
        arm, _, seed = name.rpartition("-s")
        s = json.loads(summary.read_text())
        if not s.get("complete"):
            continue
        lines = [json.loads(l) for l in (summary.parent / "metrics.jsonl").read_text().splitlines()]
        runs.setdefault((model, direction, arm), {})[int(seed)] = (s, lines)
    return runs


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "bench/runs/act")
    runs = load(root)
    models = sorted({k[0] for k in runs})
    for model in models:
        for direction in ("a2b", "b2a"):
            arms = {arm: runs.get((model, direction, arm), {}) for arm in ARMS}
            if not any(arms.values()):
                continue
            print(f"\n### {model}, {NAMES[direction]}\n")
            print("| arm | seeds | rounds | mAP | Rank-1 | pairwise F (last round) | clusters | outliers | s/round |")
            print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
            for arm, by_seed in arms.items():
                if not by_seed:
                    continue
                maps = [s["target_map"] for s, _ in by_seed.values()]
                rank1 = [s["target_rank1"] for s, _ in by_seed.values()]
                rounds = {s["rounds"] for s, _ in by_seed.values()}
                last = [[l for l in lines if l.get("phase") == "round"][-1] for _, lines in by_seed.values()]
                f = [l["pairwise_f"] for l in last if "pairwise_f" in l]
                clusters = [l["clusters"] for l in last if "clusters" in l]
                outliers = [l["outliers"] for l in last if "outliers" in l]
                per_round = [
                    (s["train_seconds"] + s["cluster_seconds"]) / s["rounds"] for s, _ in by_seed.values() if s["rounds"]
                ]
                fmt = lambda v, d=0: "n/a" if not v else f"{statistics.mean(v):.{d}f}"
                print(f"| {arm} | {','.join(map(str, sorted(by_seed)))} | {'/'.join(map(str, sorted(rounds)))} | "
                      f"{cell(maps)} | {cell(rank1)} | {fmt(f, 3)} | {fmt(clusters)} | {fmt(outliers)} | "
                      f"{fmt(per_round, 1)} |")
            act, base = arms["act"], arms["baseline_same"]
            common = sorted(set(act) & set(base))
            if common:
                a = [act[k][0]["target_map"] for k in common]
                b = [base[k][0]["target_map"] for k in common]
                _, sa = mean_sd(a)
                _, sb = mean_sd(b)
                pooled = math.sqrt((sa * sa + sb * sb) / 2)
                gap = statistics.mean(a) - statistics.mean(b)
                print(f"\nACT - baseline_same mAP gap: {gap:+.2f} points over seeds {common} "
                      f"(2 pooled sd = {2 * pooled:.2f}; paired differences {[round(x - y, 2) for x, y in zip(a, b)]})")
            if act:
                sel, rej = [], []
                for _, lines in act.values():
                    for l in lines:
                        if l.get("phase") == "round" and l.get("selected_outlier_precision") is not None:
                            sel.append(l["selected_outlier_precision"])
                            if l.get("rejected_outlier_precision") is not None:
                                rej.append(l["rejected_outlier_precision"])
                if sel:
                    print(f"ACT outliers, pseudo-label precision over rounds and seeds: selected "
                          f"{statistics.mean(sel):.3f}, rejected {statistics.mean(rej) if rej else float('nan'):.3f} "
                          f"({len(sel)} rounds; the last round keeps all)")


if __name__ == "__main__":
    main()
