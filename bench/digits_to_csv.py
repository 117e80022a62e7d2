#!/usr/bin/python3
"""Writes scikit-learn's digits (sklearn.datasets.load_digits: 1,797 8x8 images, 64 features
with values 0..16, 10 classes) as two CSV files in the format winnow's CSV loader reads
(data.format = "csv", data.label_column = "label"): a header row f0..f63,label, one sample a
line, the features as integers and the class in the last column.

    /usr/bin/python3 bench/digits_to_csv.py OUT_DIR [--seed 0] [--test-fraction 0.25]

OUT_DIR/digits_train.csv gets a seeded, class-stratified 75% (1,347 samples) and
OUT_DIR/digits_test.csv the other 25% (450). The same seed always gives the same split. The
files feed the small-data rows of the noise-estimation benchmark (winnow inspect against
bench/cleanlab_reference.py --csv OUT_DIR/digits_train.csv); the numbers go to
bench/RESULTS.md. Needs python3-sklearn and python3-numpy (Debian).
"""
import argparse
import os

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def write_csv(path, x, y):
    header = ",".join([f"f{i}" for i in range(x.shape[1])] + ["label"])
    rows = np.concatenate([x.astype(np.int64), y.astype(np.int64)[:, None]], axis=1)
    np.savetxt(path, rows, fmt="%d", delimiter=",", header=header, comments="")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--test-fraction", type=float, default=0.25)
    args = parser.parse_args()

    digits = load_digits()
    x, y = digits.data, digits.target
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=args.test_fraction, stratify=y, random_state=args.seed)
    os.makedirs(args.out_dir, exist_ok=True)
    for name, xs, ys in [("digits_train.csv", x_train, y_train), ("digits_test.csv", x_test, y_test)]:
        path = os.path.join(args.out_dir, name)
        write_csv(path, xs, ys)
        print(f"{path}: {len(ys)} samples, {xs.shape[1]} features, {len(np.unique(ys))} classes")


if __name__ == "__main__":
    main()
