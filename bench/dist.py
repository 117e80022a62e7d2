#!/usr/bin/python3
"""Multi-process data parallelism (issue 18): 1 process x 2 threads against 2 processes x 1
thread on this machine, through `winnow train` (and `--nproc 2`).

For each model it alternates REPEATS times between the two settings (same data, seed, global
batch 128) and reads each run's folder:
  - throughput: training samples per second of training time (summary.json; evaluation excluded);
  - communication share: rank 0's seconds inside the training step's collectives over the
    epoch's training seconds (metrics.jsonl, epochs after the first);
  - all-reduce megabytes per step (the gradients, fp32; a ring all-reduce sends
    2 (N - 1) / N of that per rank) and the projection for N machines at a given bandwidth.
Medians over repeats. The target: 2x1 >= 0.9x the throughput of 1x2 on cnn4.

    /usr/bin/python3 bench/dist.py --models mlp cnn4 --repeats 3
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# (data subset, epochs) per model: under a minute per run on 2 cores.
SIZES = {"mlp": (54000, 3), "cnn4": (54000, 3)}


def run(cli, model, processes, threads, out, method, extra, subset=None):
    default_subset, epochs = SIZES[model]
    subset = subset or default_subset
    args = [cli, "train", "--quiet", "--out", out,
            "--set", "data.name=fashion-mnist", f"--set", f"data.subset={subset}",
            "--set", "noise.type=symmetric", "--set", "noise.rate=0.4",
            "--set", f"model.name={model}", "--set", f"method.name={method}",
            "--set", f"train.epochs={epochs}", "--set", "train.batch_size=128",
            "--set", f"train.threads={threads}", "--set", "train.eval_batch_size=256"] + extra
    if processes > 1:
        args[2:2] = ["--nproc", str(processes)]
    subprocess.run(args, check=True)
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    with open(os.path.join(out, "metrics.jsonl")) as f:
        metrics = [json.loads(line) for line in f]
    steps = -(-int(summary["train_samples"]) // 128)
    later = metrics[1:] or metrics
    comm = [m.get("communication_seconds", 0.0) / m["epoch_seconds"] for m in later]
    megabytes = [m.get("all_reduce_megabytes", 0.0) / steps for m in later]
    seconds = statistics.median(m["epoch_seconds"] for m in later)
    return {"samples_per_second": int(summary["train_samples"]) / seconds, "comm_share": statistics.median(comm),
            "mb_per_step": statistics.median(megabytes), "final_test_accuracy": summary["final_test_accuracy"],
            "step_ms": 1000 * statistics.median(m["epoch_seconds"] for m in later) / steps}


def python_ddp(model, processes, threads, subset=None):
    default_subset, epochs = SIZES[model]
    subset = subset or default_subset
    args = [sys.executable, os.path.join(HERE, "reference_ddp.py"), "--model", model, "--nproc", str(processes),
            "--threads", str(threads), "--subset", str(subset), "--epochs", str(epochs)]
    if model != "mlp":
        args.append("--bf16")  # what winnow's precision = auto picks for conv models on this CPU
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=["mlp", "cnn4"])
    parser.add_argument("--method", default="standard")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cli", default=os.path.join(ROOT, "build", "winnow"))
    parser.add_argument("--bandwidth-gbit", type=float, default=10.0, help="link speed for the projection")
    parser.add_argument("--set", action="append", default=[], help="extra --set for every run")
    parser.add_argument("--subset", type=int, default=None, help="training samples (default: SIZES)")
    parser.add_argument("--python", action="store_true", help="also PyTorch DDP (bench/reference_ddp.py), 1x2 and 2x1")
    args = parser.parse_args()
    extra = [x for kv in args.set for x in ("--set", kv)]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in args.models:
            results = {"1x2": [], "2x1": []}
            for r in range(args.repeats):
                for name, (p, t) in (("1x2", (1, 2)), ("2x1", (2, 1))):
                    out = os.path.join(tmp, f"{model}-{name}-{r}")
                    res = run(args.cli, model, p, t, out, args.method, extra, args.subset)
                    results[name].append(res)
                    print(f"{model} {name} repeat {r}: {res}", file=sys.stderr, flush=True)
                    if args.python:
                        ref = python_ddp(model, p, t, args.subset)
                        results.setdefault("ddp " + name, []).append(ref)
                        print(f"{model} DDP {name} repeat {r}: {ref}", file=sys.stderr, flush=True)
            med = {k: {f: statistics.median(x[f] for x in v) for f in v[0] if isinstance(v[0][f], (int, float))}
                   for k, v in results.items()}
            rows.append((model, med))
    print(f"| model | 1x2 samples/s | 2x1 samples/s | 2x1 / 1x2 | step 1x2 | step 2x1 | comm share (2x1) "
          f"| all-reduce MB/step | ring wire MB/step/rank, N=2 / 8 / 64 | comm ms/step at {args.bandwidth_gbit:g} Gbit/s, N=64 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for model, med in rows:
        a, b = med["1x2"], med["2x1"]
        s = b["mb_per_step"]
        wire = [2 * (n - 1) / n * s for n in (2, 8, 64)]
        ms = wire[2] * 8 / (args.bandwidth_gbit * 1000) * 1000
        if "ddp 2x1" in med:
            d1, d2 = med["ddp 1x2"]["samples_per_second"], med["ddp 2x1"]["samples_per_second"]
            print(f"PyTorch DDP {model}: 1x2 {d1:.0f} samples/s, 2x1 {d2:.0f} samples/s ({d2 / d1:.2f}x); "
                  f"winnow / DDP: 1x2 {a['samples_per_second'] / d1:.2f}x, 2x1 {b['samples_per_second'] / d2:.2f}x")
        print(f"| {model} | {a['samples_per_second']:.0f} | {b['samples_per_second']:.0f} | "
              f"{b['samples_per_second'] / a['samples_per_second']:.2f}x | {a['step_ms']:.1f} ms | {b['step_ms']:.1f} ms | "
              f"{100 * b['comm_share']:.1f}% | {s:.2f} | {wire[0]:.2f} / {wire[1]:.2f} / {wire[2]:.2f} | {ms:.2f} |")


if __name__ == "__main__":
    main()

