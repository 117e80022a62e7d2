#!/usr/bin/python3
"""Co-teaching (Han et al., NeurIPS 2018) in PyTorch Python: the reference winnow's
`coteaching` method is timed against. The official code's step: two networks, each ranks the
batch by its own per-sample CE, keeps the R(T) = 1 - forget_rate * min(T / T_k, 1) fraction
with the smallest loss, and each network is updated on the samples its PEER kept (two Adam
optimizers). Data, models, normalisation and split as bench/reference_standard.py.

Prints one JSON object: per-epoch training seconds and the first network's test accuracy.
"""
import argparse
import json
import time

import torch
import torch.nn.functional as F

from reference_standard import CNN4, MLP, load_split, test_accuracy


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", default="mlp", choices=["mlp", "cnn4"])
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--forget-rate", type=float, default=0.5)
    parser.add_argument("--num-gradual", type=int, default=10)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    x, y, xt, yt = load_split()

    make = MLP if args.model == "mlp" else CNN4
    model1, model2 = make(), make()
    optimizer1 = torch.optim.Adam(model1.parameters(), lr=0.001)
    optimizer2 = torch.optim.Adam(model2.parameters(), lr=0.001)
    epoch_seconds = []
    for epoch in range(args.epochs):
        model1.train()
        model2.train()
        # the official schedule: linspace(0, forget_rate, num_gradual), then forget_rate
        remember_rate = 1 - args.forget_rate * min(epoch / max(args.num_gradual - 1, 1), 1)
        start = time.perf_counter()
        perm = torch.randperm(len(x))
        for i in range(0, len(x), args.batch_size):
            idx = perm[i: i + args.batch_size]
            inputs, labels = x.index_select(0, idx), y.index_select(0, idx)
            logits1, logits2 = model1(inputs), model2(inputs)
            loss1 = F.cross_entropy(logits1, labels, reduction="none")
            loss2 = F.cross_entropy(logits2, labels, reduction="none")
            remember = int(remember_rate * len(idx))
            keep1 = torch.argsort(loss1.detach())[:remember]
            keep2 = torch.argsort(loss2.detach())[:remember]
            update1 = F.cross_entropy(logits1[keep2], labels[keep2])  # network 1 learns from 2's pick
            update2 = F.cross_entropy(logits2[keep1], labels[keep1])
            optimizer1.zero_grad()
            update1.backward()
            optimizer1.step()
            optimizer2.zero_grad()
            update2.backward()
            optimizer2.step()
        epoch_seconds.append(time.perf_counter() - start)
    print(json.dumps({"epoch_seconds": epoch_seconds, "train_samples": len(x),
                      "test_accuracy": test_accuracy(model1, xt, yt), "torch": torch.__version__}))


if __name__ == "__main__":
    main()
