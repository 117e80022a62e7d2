#!/usr/bin/env python3
"""Table of bench/inspect.sh's runs for bench/RESULTS.md.

    /usr/bin/python3 bench/summarize_inspect.py [bench/runs/inspect]

One row per (noise setting, protocol): winnow's estimate and flags (estimate.json of
`winnow inspect`), cleanlab on winnow's probabilities (cleanlab_on_winnow.jsonl) and
cleanlab's own 5-fold protocol (cleanlab_crossval.jsonl): detection precision / recall / F1 /
AUROC, the absolute error of the noise rate, the relative L1 error of T, and the cost in
training epochs over the whole training set.
"""
import json
import pathlib
import sys


def read_jsonl(path):
    if not path.exists():
        return None
    lines = [line for line in path.read_text().splitlines() if line.strip()]
    return json.loads(lines[-1]) if lines else None


def fmt(value, digits=3):
    return "-" if value is None else f"{value:.{digits}f}"


def row(setting, name, cost, d, rate_error, t_error, rate):
    return (f"| {setting} | {name} | {fmt(d.get('precision'))} | {fmt(d.get('recall'))} | {fmt(d.get('f1'))} | "
            f"{fmt(d.get('auroc'))} | {fmt(rate)} | {fmt(rate_error)} | {fmt(t_error)} | {fmt(cost, 0)} |")


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "bench/runs/inspect")
    print("| labels | estimator | precision | recall | F1 | AUROC | est. rate | rate error | T error | epochs |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for setting in sorted(p for p in root.iterdir() if p.is_dir() and (p / "labels.txt").exists()):
        for protocol in sorted(p for p in setting.iterdir() if (p / "estimate.json").exists()):
            e = json.loads((protocol / "estimate.json").read_text())
            truth = e.get("against_truth", {})
            name = f"winnow {protocol.name}"
            cost = e.get("cost_epochs")
            detector = e.get("detector", "confident_learning")
            if detector != "confident_learning":
                # The method's run after the estimate: its epochs times its networks.
                networks = 2 if detector.startswith(("dividemix", "coteaching", "jocor")) else 1
                name += f" + {detector.split(':')[0]} detector"
                cost += networks * e.get("detector_epochs", 0)
            print(row(setting.name, name, cost, truth.get("detection", {}), truth.get("rate_error"),
                      truth.get("transition_relative_l1_error"), e.get("noise_rate")))
            c = read_jsonl(protocol / "cleanlab_on_winnow.jsonl")
            if c:
                print(row(setting.name, f"cleanlab on winnow {protocol.name} P", e.get("cost_epochs"), c,
                          c.get("rate_error"), c.get("transition_relative_l1_error"),
                          c.get("noise_rate")))
        c = read_jsonl(setting / "cleanlab_crossval.jsonl")
        if c:
            print(row(setting.name, "cleanlab 5-fold x 10 (PyTorch)", c.get("cost_epochs"), c, c.get("rate_error"),
                      c.get("transition_relative_l1_error"), c.get("noise_rate")))


if __name__ == "__main__":
    main()
