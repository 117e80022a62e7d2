#!/usr/bin/python3
"""The `standard` method (one network, cross entropy, Adam) in PyTorch Python: the
reference winnow's speed is compared against. Same data (Fashion-MNIST from the Debian
package, the same normalisation and 10% held-out split), same models (mlp 784-256-10,
cnn4), same batch size and thread count. Data stays in memory as tensors and batches are
slices of a permutation, as in winnow, so the comparison measures the framework, not a
DataLoader.

Prints one JSON object: per-epoch training seconds and the final test accuracy.
"""
import argparse
import gzip
import json
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

ROOT = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def load(split):
    x = torch.from_numpy(read_idx(f"{ROOT}/{split}-images-idx3-ubyte.gz").copy()).float().div_(255).unsqueeze(1)
    y = torch.from_numpy(read_idx(f"{ROOT}/{split}-labels-idx1-ubyte.gz").astype(np.int64))
    return x, y


def load_split():
    """Training part (90%, the rest is held out as winnow's validation split) and test set,
    normalised by the training part's mean and standard deviation."""
    x, y = load("train")
    xt, yt = load("t10k")
    order = torch.randperm(len(x))
    train = order[len(x) // 10:].sort().values
    x, y = x[train], y[train]
    mean, std = x.mean(), x.std()
    return (x - mean) / std, y, (xt - mean) / std, yt


def test_accuracy(model, xt, yt):
    model.eval()
    with torch.no_grad():
        correct = sum((model(xt[i: i + 1024]).argmax(1) == yt[i: i + 1024]).sum().item()
                      for i in range(0, len(xt), 1024))
    return 100.0 * correct / len(xt)


class MLP(nn.Module):
    def __init__(self, hidden=256):
        super().__init__()
        self.fc1 = nn.Linear(784, hidden)
        self.fc2 = nn.Linear(hidden, 10)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x.flatten(1))))


class CNN4(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(32)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(64)
        self.fc1 = nn.Linear(64 * 7 * 7, 128)
        self.bn3 = nn.BatchNorm1d(128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        x = F.max_pool2d(F.relu(self.bn2(self.conv2(x))), 2)
        x = F.relu(self.bn3(self.fc1(x.flatten(1))))
        return self.fc2(x)


class CNN9(nn.Module):
    """The Co-teaching 9-layer CNN as winnow's cnn9 (src/models/cnn9.cpp): 3x conv128,
    pool, dropout2d 0.25, 3x conv256, pool, dropout2d, conv512 3x3 pad 0, conv256, conv128
    (3x3, pad 0), global average pool, fc."""

    def __init__(self, channels=3, classes=10):
        super().__init__()
        widths = [(channels, 128), (128, 128), (128, 128), (128, 256), (256, 256), (256, 256),
                  (256, 512), (512, 256), (256, 128)]
        self.convs = nn.ModuleList(nn.Conv2d(a, b, 3, padding=1 if i < 6 else 0) for i, (a, b) in enumerate(widths))
        self.bns = nn.ModuleList(nn.BatchNorm2d(b) for _, b in widths)
        self.fc = nn.Linear(128, classes)

    def forward(self, x):
        for i, (conv, bn) in enumerate(zip(self.convs, self.bns)):
            x = F.leaky_relu(bn(conv(x)), 0.01)
            if i in (2, 5):
                x = F.dropout2d(F.max_pool2d(x, 2), 0.25, self.training)
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="mlp", choices=["mlp", "cnn4"])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    x, y, xt, yt = load_split()

    model = MLP() if args.model == "mlp" else CNN4()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    epoch_seconds = []
    for epoch in range(args.epochs):
        model.train()
        start = time.perf_counter()
        perm = torch.randperm(len(x))
        for i in range(0, len(x), args.batch_size):
            idx = perm[i: i + args.batch_size]
            logits = model(x.index_select(0, idx))
            loss = F.cross_entropy(logits, y.index_select(0, idx), reduction="none").mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        epoch_seconds.append(time.perf_counter() - start)
    print(json.dumps({"epoch_seconds": epoch_seconds, "train_samples": len(x),
                      "test_accuracy": test_accuracy(model, xt, yt), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
