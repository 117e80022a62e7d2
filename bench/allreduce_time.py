#!/usr/bin/python3
"""Gloo all-reduce time on this machine's loopback, the cost under `winnow train --nproc`:
2 processes (1 thread each, as in the 2x1 setting of bench/dist.py) all-reduce a buffer of the
size of the mlp's and cnn4's gradients, fp32 and fp16, REPEATS times after a warm-up; median ms
per call and the effective bandwidth (buffer bytes / time). Debian's python3-torch uses the
same LibTorch and Gloo libraries as winnow.

    /usr/bin/python3 bench/allreduce_time.py
"""
import json
import socket
import statistics
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

SIZES = {"mlp (203,530 floats)": 203530, "cnn4 (422,090 floats)": 422090, "4 MiB": 1 << 20}
REPEATS = 200


def worker(rank, port, queue):
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"tcp://127.0.0.1:{port}", rank=rank, world_size=2)
    results = {}
    for name, n in SIZES.items():
        for dtype in (torch.float32, torch.float16):
            t = torch.ones(n, dtype=dtype)
            for _ in range(20):
                dist.all_reduce(t)
            times = []
            for _ in range(REPEATS):
                dist.barrier()
                start = time.perf_counter()
                dist.all_reduce(t)
                times.append(time.perf_counter() - start)
            ms = 1000 * statistics.median(times)
            results[f"{name} {str(dtype).split('.')[-1]}"] = (ms, n * t.element_size() / ms / 1e3)
    if rank == 0:
        queue.put(results)
    dist.destroy_process_group()


def main():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    procs = [ctx.Process(target=worker, args=(r, port, queue)) for r in range(2)]
    for p in procs:
        p.start()
    results = queue.get()
    for p in procs:
        p.join()
    print("| buffer | ms per all-reduce (median) | MB/s |")
    print("| --- | --- | --- |")
    for key, (ms, mbps) in results.items():
        print(f"| {key} | {ms:.2f} | {mbps:.0f} |")


if __name__ == "__main__":
    main()
