#!/usr/bin/python3
"""The `standard` method under PyTorch's DistributedDataParallel (Gloo, CPU): the reference for
winnow's `--nproc`. N processes with THREADS threads each; every rank trains on its shard of
each global batch of 128 from one seeded permutation (as winnow does), DDP averages the
gradients. Same data as bench/reference_standard.py (Fashion-MNIST, normalised, 90% split; the
first SUBSET samples of the training part), same models. --bf16: autocast + channels-last.

Prints one JSON object from rank 0: samples per second of training time (epochs after the
first) and the final test accuracy.

    /usr/bin/python3 bench/reference_ddp.py --model cnn4 --nproc 2 --threads 1 --subset 12000 --epochs 2
"""
import argparse
import json
import os
import socket
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reference_standard import CNN4, MLP, load_split, test_accuracy  # noqa: E402


def worker(rank, args, port):
    torch.set_num_threads(args.threads)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=args.nproc)
    torch.manual_seed(args.seed)
    x, y, xt, yt = load_split()
    x, y = x[: args.subset], y[: args.subset]
    model = MLP() if args.model == "mlp" else CNN4()
    conv = args.bf16 and args.model != "mlp"
    if conv:
        model = model.to(memory_format=torch.channels_last)
    ddp = DistributedDataParallel(model) if args.nproc > 1 else model
    optimizer = torch.optim.Adam(ddp.parameters(), lr=0.001)
    seconds = []
    for epoch in range(args.epochs):
        ddp.train()
        generator = torch.Generator().manual_seed(args.seed * 1000 + epoch)
        perm = torch.randperm(len(x), generator=generator)
        start = time.perf_counter()
        for i in range(0, len(x) - 2 * args.nproc + 1, 128):
            idx = perm[i: i + 128]
            n = len(idx)
            idx = idx[rank * n // args.nproc: (rank + 1) * n // args.nproc]
            inputs = x.index_select(0, idx)
            if conv:
                inputs = inputs.contiguous(memory_format=torch.channels_last)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.bf16):
                logits = ddp(inputs)
            loss = F.cross_entropy(logits.float(), y.index_select(0, idx))
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        seconds.append(time.perf_counter() - start)
    if rank == 0:
        later = seconds[1:] or seconds
        print(json.dumps({"samples_per_second": len(x) / (sum(later) / len(later)), "epoch_seconds": seconds,
                          "test_accuracy": test_accuracy(model, xt, yt), "torch": torch.__version__}), flush=True)
    dist.destroy_process_group()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="mlp", choices=["mlp", "cnn4"])
    parser.add_argument("--nproc", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--subset", type=int, default=54000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--bf16", action="store_true")
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    mp.spawn(worker, args=(args, port), nprocs=args.nproc, join=True)


if __name__ == "__main__":
    main()
