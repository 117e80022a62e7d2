#!/usr/bin/env python3
"""Table of bench/dividemix.sh runs: best/last test accuracy, detection AUROC/F1, divide share.

Runs of one setting with several seeds (<method>, <method>_seed2, ...) are one row: the mean,
with the standard deviation after +- when there are several seeds, and n the seed count.
"""
import json, pathlib, re, statistics, sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "bench/runs/dividemix")
rows = {}
for summary in sorted(root.glob("*/*/summary.json")):
    s = json.loads(summary.read_text())
    lines = [json.loads(l) for l in (summary.parent / "metrics.jsonl").read_text().splitlines() if l.strip()]
    acc = [l["test_accuracy"] for l in lines if l.get("test_accuracy") is not None]
    shares = [l["divide_share"] for l in lines if l.get("divide_share") is not None]
    d = s.get("detection") or {}
    method = re.sub(r"_seed\d+$", "", summary.parent.name)
    rows.setdefault((summary.parent.parent.name, method), []).append({
        "epochs": len(lines), "best": max(acc), "last": acc[-1], "auroc": d.get("auroc"), "f1": d.get("f1"),
        "share": sum(shares) / len(shares) if shares else None,
        "secs": sum(l["epoch_seconds"] for l in lines) / max(len(lines), 1)})


def cell(runs, key, digits):
    values = [r[key] for r in runs if r[key] is not None]
    if not values:
        return "-"
    text = f"{statistics.mean(values):.{digits}f}"
    return text + (f" ± {statistics.stdev(values):.{digits}f}" if len(values) > 1 else "")


print("| noise | method | n | epochs | best test | last test | det. AUROC | det. F1 | divide share | s/epoch |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for (noise, method), runs in sorted(rows.items()):
    epochs = "/".join(sorted({str(r["epochs"]) for r in runs}))
    print(f"| {noise} | {method} | {len(runs)} | {epochs} | {cell(runs, 'best', 2)} | {cell(runs, 'last', 2)} | "
          f"{cell(runs, 'auroc', 3)} | {cell(runs, 'f1', 3)} | {cell(runs, 'share', 3)} | {cell(runs, 'secs', 2)} |")
