#!/usr/bin/env python3
"""Table of bench/dividemix.sh runs: best/last test accuracy, detection AUROC/F1, divide share."""
import json, pathlib, sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "bench/runs/dividemix")
print("| noise | method | epochs | best test | last test | det. AUROC | det. F1 | divide share | s/epoch |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
for summary in sorted(root.glob("*/*/summary.json")):
    s = json.loads(summary.read_text())
    lines = [json.loads(l) for l in (summary.parent / "metrics.jsonl").read_text().splitlines() if l.strip()]
    acc = [l["test_accuracy"] for l in lines if l.get("test_accuracy") is not None]
    shares = [l["divide_share"] for l in lines if l.get("divide_share") is not None]
    secs = sum(l["epoch_seconds"] for l in lines) / max(len(lines), 1)
    d = s.get("detection") or {}
    f = lambda v: "-" if v is None else f"{v:.3f}" if isinstance(v, float) and v <= 1 else f"{v:.2f}"
    print(f"| {summary.parent.parent.name} | {summary.parent.name} | {len(lines)} | {max(acc):.2f} | {acc[-1]:.2f} | "
          f"{f(d.get('auroc'))} | {f(d.get('f1'))} | {f(sum(shares) / len(shares)) if shares else '-'} | {secs:.2f} |")
