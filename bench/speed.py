#!/usr/bin/python3
"""winnow vs PyTorch Python, same algorithm side by side on this machine.

For each model and method: runs `winnow train` (CE, Adam, batch 128, clean Fashion-MNIST,
10% validation split) and the same algorithm in Python with the same epochs and threads,
alternating, REPEATS times each: method `standard` against bench/reference_standard.py,
`coteaching` (forget rate 0.5) against bench/reference_coteaching.py. Reports the median
training samples/s of each (median over all epochs of all repeats), the ratio, and peak RSS.

    bench/speed.py --models mlp cnn4 --epochs 5 --repeats 2
    bench/speed.py --models mlp --methods standard coteaching --epochs 5 --repeats 3
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


def run_measured(command):
    # wait4 gives the child's own rusage (ru_maxrss in KiB on Linux).
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    if status != 0:
        sys.exit(f"failed: {' '.join(command)}\n{err}")
    return out, usage.ru_maxrss / 1024.0


# method -> (extra winnow settings, Python reference script)
REFERENCES = {
    "standard": ([], "reference_standard.py"),
    "coteaching": (["--set", "method.name=coteaching", "--set", "method.forget_rate=0.5"],
                   "reference_coteaching.py"),
}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="+", default=["mlp", "cnn4"])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--methods", nargs="+", default=["standard"], choices=list(REFERENCES))
    parser.add_argument("--winnow", default=os.path.join(ROOT, "build", "winnow"))
    args = parser.parse_args()

    results = {}
    for model, method in [(m, k) for m in args.models for k in args.methods]:
        winnow_rates, python_rates, winnow_rss, python_rss, accuracy = [], [], [], [], {}
        for repeat in range(args.repeats):
            with tempfile.TemporaryDirectory() as tmp:
                out_dir = os.path.join(tmp, "run")
                _, rss = run_measured([
                    args.winnow, "train", "--quiet", "--out", out_dir,
                    "--set", f"model.name={model}", "--set", f"train.epochs={args.epochs}",
                    "--set", "train.batch_size=128", "--set", f"train.threads={args.threads}",
                    "--set", "optim.name=adam", "--set", "optim.lr=0.001", "--set", "noise.type=none",
                    *REFERENCES[method][0]])
                winnow_rss.append(rss)
                with open(os.path.join(out_dir, "summary.json")) as f:
                    summary = json.load(f)
                train_samples = summary["train_samples"]
                with open(os.path.join(out_dir, "metrics.jsonl")) as f:
                    for line in f:
                        winnow_rates.append(train_samples / json.loads(line)["epoch_seconds"])
                accuracy["winnow"] = summary["final_test_accuracy"]
            out, rss = run_measured([sys.executable, os.path.join(HERE, REFERENCES[method][1]),
                                     "--model", model, "--epochs", str(args.epochs),
                                     "--threads", str(args.threads)])
            python_rss.append(rss)
            ref = json.loads(out)
            python_rates += [ref["train_samples"] / s for s in ref["epoch_seconds"]]
            accuracy["python"] = ref["test_accuracy"]
        w, p = statistics.median(winnow_rates), statistics.median(python_rates)
        results[f"{model} {method}"] = {"winnow_samples_per_s": w, "python_samples_per_s": p, "ratio": w / p,
                          "winnow_peak_rss_mib": max(winnow_rss), "python_peak_rss_mib": max(python_rss),
                          "final_test_accuracy": accuracy, "epochs": args.epochs, "repeats": args.repeats,
                          "threads": args.threads}
        print(f"{model} {method}: winnow {w:,.0f} samples/s, python {p:,.0f} samples/s, ratio {w / p:.2f}x; "
              f"peak RSS {max(winnow_rss):.0f} vs {max(python_rss):.0f} MiB; "
              f"test accuracy {accuracy['winnow']:.2f} vs {accuracy['python']:.2f}", flush=True)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
