#!/usr/bin/python3
"""Training-step time of winnow against the same step in PyTorch Python, in one run.

For each model (mlp and cnn4 on 1x28x28, cnn9 on 3x32x32; batch 128, 10 classes, synthetic
inputs) and method (standard: CE + Adam; coteaching: the official Co-teaching step, two
networks, per-sample CE, small-loss exchange at forget rate 0.5 x 5/10, two Adam steps), it
alternates REPEATS times: winnow's step under each --precisions value
(build/bench/winnow_step_time, the real method on a Batcher), then Python's fp32 step (and
bf16 autocast + channels-last with --python-bf16). Each measurement is the median of STEPS
steps after WARMUP; the table gives the median over repeats and the ratio
python_fp32_ms / winnow_ms (above 1: winnow is faster).

    cmake -S . -B build -DWINNOW_BUILD_BENCH=ON && cmake --build build --target winnow_step_time
    /usr/bin/python3 bench/step_time.py --models mlp cnn4 cnn9 --methods standard coteaching --repeats 3
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from reference_standard import CNN4, CNN9, MLP  # noqa: E402


def python_steps(model, method, steps, warmup, bf16):
    torch.manual_seed(1)
    make = {"mlp": MLP, "cnn4": CNN4, "cnn9": CNN9}[model]
    shape = (3, 32, 32) if model == "cnn9" else (1, 28, 28)
    n = 128 * (steps + warmup)
    x = torch.randn(n, *shape)
    y = torch.randint(0, 10, (n,))
    nets = [make() for _ in range(2 if method == "coteaching" else 1)]
    if bf16 and model != "mlp":
        nets = [net.to(memory_format=torch.channels_last) for net in nets]
    optims = [torch.optim.Adam(net.parameters(), lr=0.001) for net in nets]
    perm = torch.randperm(n)
    times = []
    for i in range(steps + warmup):
        start = time.perf_counter()
        idx = perm[i * 128:(i + 1) * 128]
        inputs, labels = x.index_select(0, idx), y.index_select(0, idx)
        if bf16 and model != "mlp":
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            logits = [net(inputs) for net in nets]
        logits = [out.float() for out in logits]
        if method == "standard":
            optims[0].zero_grad()
            F.cross_entropy(logits[0], labels).backward()
            optims[0].step()
        else:
            remember = int((1 - 0.5 * 5 / 9) * len(idx))
            loss1 = F.cross_entropy(logits[0], labels, reduction="none")
            loss2 = F.cross_entropy(logits[1], labels, reduction="none")
            keep1 = torch.argsort(loss1.detach())[:remember]
            keep2 = torch.argsort(loss2.detach())[:remember]
            update1 = F.cross_entropy(logits[0][keep2], labels[keep2])
            update2 = F.cross_entropy(logits[1][keep1], labels[keep1])
            for opt, update in zip(optims, (update1, update2)):
                opt.zero_grad()
                update.backward()
                opt.step()
        if i >= warmup:
            times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", nargs="+", default=["mlp", "cnn4", "cnn9"])
    parser.add_argument("--methods", nargs="+", default=["standard", "coteaching"])
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"])
    parser.add_argument("--python-bf16", action="store_true", help="also time Python under bf16 autocast")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--binary", default=os.path.join(os.path.dirname(HERE), "build", "bench", "winnow_step_time"))
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    steps = {"mlp": 200, "cnn4": 20, "cnn9": 5}
    warmups = {"mlp": 20, "cnn4": 3, "cnn9": 2}

    rows = []
    for model in args.models:
        for method in args.methods:
            timings = {}
            for _ in range(args.repeats):
                for precision in args.precisions:
                    out = subprocess.run([args.binary, model, method, precision, str(steps[model]), str(args.threads),
                                          str(warmups[model])], check=True, capture_output=True, text=True).stdout
                    timings.setdefault(f"winnow {precision}", []).append(json.loads(out)["median_step_ms"])
                timings.setdefault("python fp32", []).append(
                    python_steps(model, method, steps[model], warmups[model], False))
                if args.python_bf16:
                    timings.setdefault("python bf16", []).append(
                        python_steps(model, method, steps[model], warmups[model], True))
            medians = {k: statistics.median(v) for k, v in timings.items()}
            row = {"model": model, "method": method, "threads": args.threads, "repeats": args.repeats,
                   "steps": steps[model], "median_step_ms": medians,
                   "ratio_vs_python_fp32": {k: medians["python fp32"] / v for k, v in medians.items()
                                            if k != "python fp32"}}
            rows.append(row)
            cells = "  ".join(f"{k} {v:.2f} ms" for k, v in medians.items())
            ratios = "  ".join(f"{k} {r:.2f}x" for k, r in row["ratio_vs_python_fp32"].items())
            print(f"{model} {method}: {cells}  | vs python fp32: {ratios}", flush=True)
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
