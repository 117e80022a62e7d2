#!/usr/bin/python3
"""Table and curves of bench/cdr.sh: CE (optim sgd) against CDR on Fashion-MNIST.

Reads RUNS/<model>/<noise>/<sgd|cdr|cdr-official>/seed<k>/{summary.json,metrics.jsonl} and writes into OUT:
  cdr_table.md    per model x noise x optimizer: test accuracy at the epoch of best (noisy)
                  validation accuracy (CDR's reporting rule), the last epoch's, the best;
                  mean and standard deviation over seeds
  cdr_curves.svg  test accuracy per epoch (mean over seeds), CE against CDR, one panel per
                  model x noise; CE's late decay is the memorisation of the noise

Only the standard library (json, statistics); the SVG is written by hand.

    bench/cdr_report.py --runs runs/cdr-bench --out bench
"""
import argparse
import json
import os
import statistics
import sys

LABELS = {"sgd": "CE", "cdr": "CDR (paper)", "cdr-official": "CDR (official)"}
COLOURS = {"sgd": "#d62728", "cdr": "#1f77b4", "cdr-official": "#2ca02c"}


def load_runs(root):
    """{(model, noise, optimizer): [(summary, [metrics lines])...]} of every finished run."""
    runs = {}
    for model in sorted(os.listdir(root)):
        for noise in sorted(os.listdir(os.path.join(root, model))):
            for optimizer in sorted(os.listdir(os.path.join(root, model, noise))):
                base = os.path.join(root, model, noise, optimizer)
                for seed in sorted(os.listdir(base)):
                    folder = os.path.join(base, seed)
                    summary_path = os.path.join(folder, "summary.json")
                    if not os.path.isfile(summary_path):
                        continue
                    with open(summary_path) as f:
                        summary = json.load(f)
                    with open(os.path.join(folder, "metrics.jsonl")) as f:
                        metrics = [json.loads(line) for line in f if line.strip()]
                    runs.setdefault((model, noise, optimizer), []).append((summary, metrics))
    return runs


def mean_sd(values):
    values = [v for v in values if v is not None]
    if not values:
        return "n/a"
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.mean(values):.2f} ± {statistics.stdev(values):.2f}"


def table(runs):
    lines = [
        "| model | noise | method | seeds | epochs | test acc @ best val | best val epoch | last | best test |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for (model, noise, optimizer), group in sorted(runs.items()):
        summaries = [s for s, _ in group]
        epochs = sorted({s["epochs"] for s in summaries})
        val_epochs = ", ".join(str(s["best_val_epoch"]) for s in summaries)
        lines.append(
            f"| {model} | {noise} | {LABELS.get(optimizer, optimizer)} | {len(summaries)} | "
            f"{','.join(map(str, epochs))} | {mean_sd([s['test_accuracy_at_best_val'] for s in summaries])} | "
            f"{val_epochs} | {mean_sd([s['final_test_accuracy'] for s in summaries])} | "
            f"{mean_sd([s['best_test_accuracy'] for s in summaries])} |")
    return "\n".join(lines) + "\n"


def mean_curve(group, key):
    """Mean over seeds of metrics[key] per epoch (epochs all seeds reached)."""
    length = min(len(m) for _, m in group)
    curve = []
    for e in range(length):
        values = [m[e].get(key) for _, m in group if m[e].get(key) is not None]
        curve.append(statistics.mean(values) if values else None)
    return curve


def svg(runs):
    panels = sorted({(model, noise) for model, noise, _ in runs})
    width, height, columns = 420, 280, min(3, max(1, len(panels)))
    rows = (len(panels) + columns - 1) // columns
    left, right, top, bottom = 50, 15, 30, 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{columns * width}" height="{rows * height}" '
           f'font-family="sans-serif" font-size="11">',
           f'<rect width="100%" height="100%" fill="white"/>']
    for index, (model, noise) in enumerate(panels):
        x0, y0 = (index % columns) * width, (index // columns) * height
        curves = {o: mean_curve(g, "test_accuracy") for (m, n, o), g in runs.items() if (m, n) == (model, noise)}
        values = [v for c in curves.values() for v in c if v is not None]
        epochs = max(len(c) for c in curves.values())
        low = max(0.0, 5 * int(min(values) // 5)) if values else 0.0
        high = min(100.0, 5 * int(max(values) // 5) + 5) if values else 100.0
        pw, ph = width - left - right, height - top - bottom

        def px(e):
            return x0 + left + (pw * (e - 1) / max(1, epochs - 1))

        def py(v):
            return y0 + top + ph * (1 - (v - low) / max(1e-9, high - low))

        out.append(f'<text x="{x0 + width / 2}" y="{y0 + 18}" text-anchor="middle" font-size="13">'
                   f'{model}, {noise}: test accuracy per epoch</text>')
        out.append(f'<rect x="{x0 + left}" y="{y0 + top}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>')
        step = 5 if high - low <= 40 else 10
        tick = low
        while tick <= high + 1e-9:
            out.append(f'<line x1="{x0 + left}" x2="{x0 + left + pw}" y1="{py(tick):.1f}" y2="{py(tick):.1f}" '
                       f'stroke="#ddd"/>')
            out.append(f'<text x="{x0 + left - 4}" y="{py(tick) + 4:.1f}" text-anchor="end">{tick:g}</text>')
            tick += step
        for e in sorted({1, epochs} | set(range(10, epochs + 1, 10))):
            out.append(f'<text x="{px(e):.1f}" y="{y0 + top + ph + 14}" text-anchor="middle">{e}</text>')
        out.append(f'<text x="{x0 + left + pw / 2}" y="{y0 + height - 8}" text-anchor="middle">epoch</text>')
        for n, (optimizer, curve) in enumerate(sorted(curves.items())):
            points = " ".join(f"{px(e + 1):.1f},{py(v):.1f}" for e, v in enumerate(curve) if v is not None)
            colour = COLOURS.get(optimizer, "#2ca02c")
            out.append(f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="1.6"/>')
            out.append(f'<line x1="{x0 + left + pw - 120}" x2="{x0 + left + pw - 100}" y1="{y0 + top + ph - 30 + 14 * n}" '
                       f'y2="{y0 + top + ph - 30 + 14 * n}" stroke="{colour}" stroke-width="2"/>')
            out.append(f'<text x="{x0 + left + pw - 95}" y="{y0 + top + ph - 26 + 14 * n}">'
                       f'{LABELS.get(optimizer, optimizer)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", required=True, help="folder bench/cdr.sh wrote its runs into")
    parser.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    args = parser.parse_args()
    runs = load_runs(args.runs)
    if not runs:
        sys.exit(f"no finished runs under {args.runs}")
    text = table(runs)
    with open(os.path.join(args.out, "cdr_table.md"), "w") as f:
        f.write(text)
    with open(os.path.join(args.out, "cdr_curves.svg"), "w") as f:
        f.write(svg(runs))
    print(text, end="")
    print(f"wrote {os.path.join(args.out, 'cdr_table.md')} and {os.path.join(args.out, 'cdr_curves.svg')}")


if __name__ == "__main__":
    main()
