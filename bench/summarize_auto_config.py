#!/usr/bin/env python3
"""Table of bench/auto_config.sh's runs: each method with "auto" options against the same run
told the true rate.

    /usr/bin/python3 bench/summarize_auto_config.py [bench/runs/auto_config]
"""
import json
import pathlib
import sys


def fmt(value, digits=2):
    return "-" if value is None else f"{value:.{digits}f}"


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "bench/runs/auto_config")
    print("| labels | method | mode | set | final test | mean last 10 | best test | det. F1 | det. AUROC | s/epoch |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for summary_path in sorted(root.glob("*/*/summary.json")):
        s = json.loads(summary_path.read_text())
        method, _, mode = summary_path.parent.name.rpartition("_")
        d = s.get("detection", {})
        settings = ", ".join(f"{k.split('.')[-1]} {v}" for k, v in s.get("auto", {}).items())
        if mode == "told":
            config = (summary_path.parent / "config.toml").read_text()
            told = [line.split("=")[1].strip() for line in config.splitlines()
                    if line.startswith(("forget_rate", "noise_rate", "asymmetric", "divide_by"))]
            settings = "told: " + ", ".join(told)
        epochs = s.get("epochs") or 1
        print(f"| {summary_path.parent.parent.name} | {method} | {mode} | {settings} | "
              f"{fmt(s.get('final_test_accuracy'))} | {fmt(s.get('mean_last10_test_accuracy'))} | "
              f"{fmt(s.get('best_test_accuracy'))} | {fmt(d.get('f1'), 3)} | {fmt(d.get('auroc'), 3)} | "
              f"{fmt(s.get('train_seconds', 0) / epochs, 1)} |")


if __name__ == "__main__":
    main()
