#!/usr/bin/env python3
"""Image folders on real data: Fashion-MNIST (Debian's dataset-fashion-mnist) written out as
PNG files, then trained from them (data.format = "folder") against the same run on the IDX
files.

  /usr/bin/python3 bench/image_folder.py [--out /tmp/fmnist_png] [--epochs 5]

Writes (once) OUT/train/<class>/<index>.png, OUT/test/<class>/<index>.png and list files
OUT/train.txt / OUT/test.txt of "path label" lines in the IDX order with integer labels. Then:
  1. `winnow train` on the IDX files (data.name = fashion-mnist);
  2. the same run from the list files: the same pixels, labels and order, so the metrics must
     be identical to the last digit;
  3. the same run from the class folders (sorted by class, then file: another sample order,
     so close but not identical numbers), once without and twice with data.cache (cold, warm).
Prints each run's final test accuracy, detection F1 and the time to load the data (the
run's wall time minus its training time) as a table.
"""
import argparse
import gzip
import json
import os
import struct
import subprocess
import sys
import time
import zlib

import numpy as np

ROOT = "/usr/share/datasets/fashion-mnist"
CLASSES = ["T-shirt_top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle_boot"]


def read_idx(path):
    with gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb") as f:
        data = f.read()
    magic, = struct.unpack(">I", data[:4])
    dims = magic & 0xFF
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def idx_file(split, kind):
    for name in (f"{split}-{kind}-idx{3 if kind == 'images' else 1}-ubyte.gz",
                 f"{split}-{kind}-idx{3 if kind == 'images' else 1}-ubyte"):
        path = os.path.join(ROOT, name)
        if os.path.exists(path):
            return path
    sys.exit(f"no {split} {kind} under {ROOT} (apt install dataset-fashion-mnist)")


def png_bytes(image):
    """A greyscale 8-bit PNG, written by hand (no imaging library needed)."""
    height, width = image.shape
    raw = b"".join(b"\x00" + image[y].tobytes() for y in range(height))

    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b"")


def write_split(out, split, images, labels):
    lines = []
    for i, (image, label) in enumerate(zip(images, labels)):
        rel = os.path.join(split, CLASSES[label], f"{i:05d}.png")
        path = os.path.join(out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(png_bytes(image))
        lines.append(f"{rel} {label}\n")
    with open(os.path.join(out, f"{split}.txt"), "w") as f:
        f.writelines(lines)


def run(winnow, out_dir, sets):
    cmd = [winnow, "train", "--quiet", "--out", out_dir] + [a for s in sets for a in ("--set", s)]
    start = time.monotonic()
    subprocess.run(cmd, check=True)
    wall = time.monotonic() - start
    summary = json.load(open(os.path.join(out_dir, "summary.json")))
    return summary, wall


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="/tmp/fmnist_png")
    parser.add_argument("--runs", default="/tmp/fmnist_png_runs")
    parser.add_argument("--winnow", default="./build/winnow")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()

    if not os.path.exists(os.path.join(args.out, "test.txt")):
        start = time.monotonic()
        for split, name in (("train", "train"), ("test", "t10k")):
            write_split(args.out, split, read_idx(idx_file(name, "images")), read_idx(idx_file(name, "labels")))
        print(f"wrote 70,000 PNG files under {args.out} in {time.monotonic() - start:.0f} s")

    common = ["noise.type=symmetric", "noise.rate=0.4", "model.name=mlp", f"train.epochs={args.epochs}",
              f"train.threads={args.threads}", "train.seed=1"]
    folder = ["data.name=custom", "data.format=folder"]
    cache = os.path.join(args.runs, "cache")
    configs = [
        ("IDX files (data.name = fashion-mnist)", []),
        ("list files, IDX order, integer labels", folder + [f"data.train={args.out}/train.txt",
                                                            f"data.test={args.out}/test.txt"]),
        ("class folders", folder + [f"data.train={args.out}/train", f"data.test={args.out}/test"]),
        ("class folders, cache cold", folder + [f"data.train={args.out}/train", f"data.test={args.out}/test",
                                                f"data.cache={cache}"]),
        ("class folders, cache warm", folder + [f"data.train={args.out}/train", f"data.test={args.out}/test",
                                                f"data.cache={cache}"]),
    ]
    subprocess.run(["rm", "-rf", args.runs], check=True)
    print(f"| input | final test | best test | det. F1 | wall - train s (load, eval, start-up) |")
    print(f"| --- | --- | --- | --- | --- |")
    for i, (name, sets) in enumerate(configs):
        summary, wall = run(args.winnow, os.path.join(args.runs, str(i)), common + sets)
        load = wall - summary["train_seconds"]
        print(f"| {name} | {summary['final_test_accuracy']:.2f} | {summary['best_test_accuracy']:.2f} | "
              f"{summary['detection']['f1']:.4f} | {load:.1f} |", flush=True)


if __name__ == "__main__":
    main()
