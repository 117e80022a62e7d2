#!/usr/bin/python3
"""cleanlab (Northcutt et al., "Confident Learning", JAIR 2021) as the reference winnow's noise
estimation (`winnow inspect`) is compared against. cleanlab is not part of winnow and no code
of it is copied here: the script imports it from a checkout named by --cleanlab (default: the
environment variable CLEANLAB_PATH). To get one:

    git clone https://github.com/cleanlab/cleanlab /tmp/cleanlab-src
    # or, from a bare mirror:  git --git-dir=MIRROR --work-tree=/tmp/cleanlab-src checkout -f HEAD
    #                          git --git-dir=MIRROR rev-parse HEAD > /tmp/cleanlab-src/COMMIT
    export CLEANLAB_PATH=/tmp/cleanlab-src

(the commit is read from `git rev-parse HEAD` in that folder, else from its COMMIT file, else
from $CLEANLAB_COMMIT). Debian packages it needs: python3-numpy python3-sklearn
python3-pandas python3-tqdm python3-termcolor, and python3-torch for --crossval.

Two modes, each printing one JSON object per line on stdout (one per input; --jsonl FILE
appends them to FILE too) and a readable summary on stderr:

1. --probabilities DIR [DIR ...]: cleanlab on winnow's own out-of-sample probabilities. DIR is
   a `winnow inspect --out DIR` folder: samples.csv (given_label, true_label per training
   sample, `index` = position in the training file) and probabilities.npy (float32 [N, K],
   rows in increasing `index` order). Same probabilities, so this isolates the estimator.

       /usr/bin/python3 bench/cleanlab_reference.py --probabilities runs/inspect_sym40

2. --crossval: cleanlab's own protocol. K-fold stratified cross-validation (sklearn
   StratifiedKFold, shuffled, seeded) of an MLP IN-256-10 (ReLU; winnow's `mlp`), inputs
   normalised per channel (images) or per feature (CSV) by the mean and population std of
   the samples used, Adam lr 1e-3, batch 128 (slices of a permutation, as
   bench/reference_standard.py), --epochs per fold; the held-out softmax probabilities go to
   cleanlab. Data: Fashion-MNIST's training file from Debian's dataset-fashion-mnist (default)
   or a CSV (--csv FILE --label-column label, e.g. from bench/digits_to_csv.py); true labels
   from the data file, given labels from --labels FILE (one integer a line for every sample
   of the data file: the file winnow got as data.noisy_labels). --samples DIR/samples.csv
   keeps only the samples winnow trained on (its `index` column; winnow holds out 10% as a
   noisy validation split), and checks that its given labels equal the label file's. Several
   --labels files give one run each, with one --samples file for all or one per label file.

       /usr/bin/python3 bench/cleanlab_reference.py --crossval --labels sym40.txt \
           --samples runs/inspect_sym40/samples.csv --folds 5 --epochs 10 --threads 1
       /usr/bin/python3 bench/cleanlab_reference.py --crossval --csv digits/digits_train.csv \
           --label-column label --labels digits_sym40.txt --samples runs/digits/samples.csv

Reported per run: protocol, setting (--setting, default the label file / folder name), n,
true_noise_rate (share with given != true), noise_rate (cleanlab.count.num_label_issues / n)
and rate_error (|noise_rate - true_noise_rate|), matrix_noise_rate (the rate implied by
cleanlab's prior and noise matrix), transition_relative_l1_error (sum|T_est - T| / sum|T|,
T[true][given] = P(given | true), the true T from the (true, given) counts and T_est the
transpose of cleanlab's noise_matrix from estimate_py_and_noise_matrices_from_probabilities),
precision / recall / f1 of cleanlab.filter.find_label_issues (--filter-by, default
prune_by_noise_rate) against given != true, auroc of 1 - self_confidence
(cleanlab.rank.get_label_quality_scores) for the wrong labels, flagged, cost_epochs
(folds * epochs * (folds - 1) / folds; for --probabilities winnow's own, from estimate.json)
and seconds. The numbers go to bench/RESULTS.md (noise estimation against cleanlab).
"""
import argparse
import json
import os
import subprocess
import sys
import time

# BLAS threads for numpy/cleanlab must be fixed before numpy is imported.
_threads = "1"
for _i, _a in enumerate(sys.argv):
    if _a == "--threads" and _i + 1 < len(sys.argv):
        _threads = sys.argv[_i + 1]
    elif _a.startswith("--threads="):
        _threads = _a.split("=", 1)[1]
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, _threads)

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

FASHION_ROOT = "/usr/share/datasets/fashion-mnist"
CLEANLAB_HOWTO = """cleanlab not found{where}. Get a checkout and point --cleanlab (or CLEANLAB_PATH) at it:
    git clone https://github.com/cleanlab/cleanlab /tmp/cleanlab-src
  or, from a bare mirror MIRROR (e.g. the `fetch` of github:cleanlab/cleanlab):
    mkdir -p /tmp/cleanlab-src && git --git-dir=MIRROR --work-tree=/tmp/cleanlab-src checkout -f HEAD
    git --git-dir=MIRROR rev-parse HEAD > /tmp/cleanlab-src/COMMIT
  then: export CLEANLAB_PATH=/tmp/cleanlab-src
  Debian dependencies: apt-get install -y python3-numpy python3-sklearn python3-pandas python3-tqdm python3-termcolor python3-torch"""


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


# ---- cleanlab ---------------------------------------------------------------------------------

def import_cleanlab(path):
    """Imports cleanlab from the checkout at `path`; returns (module, version, commit)."""
    if not path:
        sys.exit(CLEANLAB_HOWTO.format(where=" (neither --cleanlab nor CLEANLAB_PATH is set)"))
    if not os.path.isfile(os.path.join(path, "cleanlab", "__init__.py")):
        sys.exit(CLEANLAB_HOWTO.format(where=f" at {path} (no cleanlab/__init__.py there)"))
    sys.path.insert(0, os.path.abspath(path))
    try:
        import cleanlab
        import cleanlab.count
        import cleanlab.filter
        import cleanlab.rank
    except ImportError as error:
        sys.exit(f"importing cleanlab from {path} failed: {error}\n" + CLEANLAB_HOWTO.format(where=""))
    commit = None
    try:
        commit = subprocess.run(["git", "-C", path, "rev-parse", "HEAD"], capture_output=True, text=True,
                                check=True).stdout.strip() or None
    except (OSError, subprocess.CalledProcessError):
        pass
    if commit is None and os.path.isfile(os.path.join(path, "COMMIT")):
        with open(os.path.join(path, "COMMIT")) as f:
            commit = f.read().strip() or None
    commit = commit or os.environ.get("CLEANLAB_COMMIT")
    return cleanlab, getattr(cleanlab, "__version__", None), commit


def run_cleanlab(cleanlab, given, true, probs, filter_by):
    """cleanlab's estimates on (given labels, out-of-sample probabilities), scored against
    `true` when it is not None. Returns a dict of the reported numbers."""
    n, k = probs.shape
    start = time.perf_counter()
    label_issues = int(cleanlab.count.num_label_issues(labels=given, pred_probs=probs))
    py, noise_matrix, _, _ = cleanlab.count.estimate_py_and_noise_matrices_from_probabilities(given, probs)
    flagged_mask = cleanlab.filter.find_label_issues(given, probs, filter_by=filter_by, n_jobs=1)
    quality = cleanlab.rank.get_label_quality_scores(given, probs, method="self_confidence")
    seconds = time.perf_counter() - start

    t_est = np.asarray(noise_matrix).T  # cleanlab: [given][true]; here [true][given]
    out = {
        "n": n,
        "classes": k,
        "true_noise_rate": None,
        "noise_rate": label_issues / n,
        "rate_error": None,
        "label_issues": label_issues,
        "matrix_noise_rate": float(np.sum(py * (1.0 - np.diag(noise_matrix)))),
        "transition_relative_l1_error": None,
        "precision": None, "recall": None, "f1": None, "auroc": None,
        "flagged": int(flagged_mask.sum()),
        "noisy": None,
        "filter_by": filter_by,
        "cleanlab_seconds": seconds,
        "transition_matrix": t_est.round(6).tolist(),
    }
    if true is None:
        return out
    wrong = given != true
    counts = np.zeros((k, k))
    np.add.at(counts, (true, given), 1)
    t_true = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    true_rate = float(wrong.mean())
    tp = int((flagged_mask & wrong).sum())
    flagged, noisy = int(flagged_mask.sum()), int(wrong.sum())
    precision = tp / flagged if flagged else None
    recall = tp / noisy if noisy else None
    f1 = (2 * precision * recall / (precision + recall)
          if precision is not None and recall is not None and precision + recall > 0 else 0.0)
    auroc = float(roc_auc_score(wrong, 1.0 - quality)) if 0 < noisy < n else None
    out.update({
        "true_noise_rate": true_rate,
        "rate_error": abs(out["noise_rate"] - true_rate),
        "transition_relative_l1_error": float(np.abs(t_est - t_true).sum() / np.abs(t_true).sum()),
        "precision": precision, "recall": recall, "f1": f1, "auroc": auroc, "noisy": noisy,
    })
    return out


# ---- inputs -----------------------------------------------------------------------------------

def read_label_file(path):
    labels = np.loadtxt(path, dtype=np.int64, ndmin=1)
    if labels.ndim != 1:
        sys.exit(f"{path}: expected one integer label a line")
    return labels


def read_samples(path):
    """winnow's samples.csv, sorted by `index`."""
    samples = pd.read_csv(path)
    for column in ("index", "given_label"):
        if column not in samples.columns:
            sys.exit(f"{path}: no '{column}' column (columns: {', '.join(samples.columns)})")
    samples = samples.sort_values("index", kind="stable").reset_index(drop=True)
    if samples["index"].duplicated().any():
        sys.exit(f"{path}: repeated values in the index column")
    return samples


def true_labels_of(samples):
    """The true_label column as int64, or None when it is missing or empty (own data)."""
    if "true_label" not in samples.columns or samples["true_label"].isna().any():
        return None
    return samples["true_label"].to_numpy(dtype=np.int64)


def load_data(args):
    """(inputs as float32 tensor [N, C, ...] or [N, F], true labels int64 array, per-channel?)."""
    import torch
    if args.csv:
        frame = pd.read_csv(args.csv)
        if args.label_column not in frame.columns:
            sys.exit(f"{args.csv}: no column '{args.label_column}' (columns: {', '.join(frame.columns[:10])} ...)")
        y = frame[args.label_column].to_numpy(dtype=np.int64)
        x = torch.from_numpy(frame.drop(columns=[args.label_column]).to_numpy(dtype=np.float32))
        return x, y
    from reference_standard import read_idx  # the same IDX reader as the speed reference
    images = f"{args.data_root}/train-images-idx3-ubyte.gz"
    if not os.path.isfile(images):
        sys.exit(f"{images} not found: apt-get install dataset-fashion-mnist, or give --data-root / --csv")
    x = torch.from_numpy(read_idx(images).copy()).float().div_(255).unsqueeze(1)
    y = read_idx(f"{args.data_root}/train-labels-idx1-ubyte.gz").astype(np.int64)
    return x, y


def normalise(x):
    """As winnow's Normalizer: mean and population std per channel (dim 1) over samples and
    spatial positions, std floored at 1e-8."""
    dims = [0] + list(range(2, x.dim()))
    mean = x.mean(dim=dims, keepdim=True)
    std = x.var(dim=dims, unbiased=False, keepdim=True).sqrt().clamp_min(1e-8)
    return (x - mean) / std


# ---- cross-validation -------------------------------------------------------------------------

def crossval_probabilities(x, given, args):
    """Out-of-sample softmax probabilities [N, K] from stratified K-fold training."""
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
    from sklearn.model_selection import StratifiedKFold

    k = int(given.max()) + 1 if args.classes is None else args.classes
    x = x.flatten(1)
    y = torch.from_numpy(given)
    probs = np.zeros((len(given), k), dtype=np.float64)
    folds = StratifiedKFold(n_splits=args.folds, shuffle=True, random_state=args.seed)
    for fold, (train_idx, hold_idx) in enumerate(folds.split(np.zeros(len(given)), given)):
        torch.manual_seed(args.seed * 1000 + fold)
        model = nn.Sequential(nn.Linear(x.shape[1], args.hidden), nn.ReLU(), nn.Linear(args.hidden, k))
        optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
        xs, ys = x[torch.from_numpy(train_idx)], y[torch.from_numpy(train_idx)]
        start = time.perf_counter()
        model.train()
        for _ in range(args.epochs):
            perm = torch.randperm(len(xs))
            for i in range(0, len(xs), args.batch_size):
                idx = perm[i: i + args.batch_size]
                loss = F.cross_entropy(model(xs.index_select(0, idx)), ys.index_select(0, idx))
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        model.eval()
        xh = x[torch.from_numpy(hold_idx)]
        with torch.no_grad():
            out = torch.cat([F.softmax(model(xh[i: i + 4096]), dim=1) for i in range(0, len(xh), 4096)])
        probs[hold_idx] = out.double().numpy()
        log(f"  fold {fold + 1}/{args.folds}: trained on {len(train_idx)}, predicted {len(hold_idx)}, "
            f"{time.perf_counter() - start:.1f} s")
    return probs


# ---- modes ------------------------------------------------------------------------------------

def probabilities_mode(directory, args, cleanlab):
    start = time.perf_counter()
    samples = read_samples(os.path.join(directory, "samples.csv"))
    probs = np.load(os.path.join(directory, "probabilities.npy")).astype(np.float64)
    if probs.ndim != 2 or probs.shape[0] != len(samples):
        sys.exit(f"{directory}: probabilities.npy has shape {probs.shape}, samples.csv {len(samples)} rows")
    probs /= probs.sum(axis=1, keepdims=True)  # float32 rounding; cleanlab expects rows summing to 1
    given = samples["given_label"].to_numpy(dtype=np.int64)
    result = {"protocol": "winnow-probabilities", "source": directory,
              "setting": args.setting or os.path.basename(os.path.normpath(directory))}
    result.update(run_cleanlab(cleanlab, given, true_labels_of(samples), probs, args.filter_by))
    winnow = {}
    estimate_path = os.path.join(directory, "estimate.json")
    if os.path.isfile(estimate_path):
        with open(estimate_path) as f:
            estimate = json.load(f)
        truth = estimate.get("against_truth", {}) or {}
        detection = truth.get("detection", {}) or {}
        winnow = {"method": estimate.get("method"), "noise_rate": estimate.get("noise_rate"),
                  "rate_error": truth.get("rate_error"),
                  "transition_relative_l1_error": truth.get("transition_relative_l1_error"),
                  "precision": detection.get("precision"), "recall": detection.get("recall"),
                  "f1": detection.get("f1"), "auroc": detection.get("auroc"),
                  "flagged": detection.get("flagged", estimate.get("suspects"))}
        result["cost_epochs"] = estimate.get("cost_epochs")
    else:
        result["cost_epochs"] = None
    result.update({"train_seconds": None, "wall_seconds": time.perf_counter() - start, "winnow": winnow})
    return result


def crossval_mode(label_path, samples_path, x_all, true_all, args, cleanlab):
    import torch
    start = time.perf_counter()
    if label_path is None:
        given_all = true_all.copy()
        log("no --labels: using the data file's labels as given (no noise)")
    else:
        given_all = read_label_file(label_path)
    if len(given_all) != len(true_all):
        sys.exit(f"{label_path}: {len(given_all)} labels, the data file has {len(true_all)} samples")
    if samples_path:
        samples = read_samples(samples_path)
        rows = samples["index"].to_numpy(dtype=np.int64)
        if rows.min() < 0 or rows.max() >= len(true_all):
            sys.exit(f"{samples_path}: index values outside 0..{len(true_all) - 1}")
        mismatch = int((samples["given_label"].to_numpy(dtype=np.int64) != given_all[rows]).sum())
        if mismatch:
            sys.exit(f"{samples_path}: {mismatch} given labels differ from {label_path}: not the same label file?")
        sample_true = true_labels_of(samples)
        if sample_true is not None and (sample_true != true_all[rows]).any():
            sys.exit(f"{samples_path}: true labels differ from the data file's: not the same data?")
    else:
        rows = np.arange(len(true_all))
    given, true = given_all[rows], true_all[rows]
    x = normalise(x_all[torch.from_numpy(rows)])
    log(f"cross-validating: {len(rows)} samples, {args.folds} folds x {args.epochs} epochs, "
        f"{args.threads} thread(s)")
    train_start = time.perf_counter()
    probs = crossval_probabilities(x, given, args)
    train_seconds = time.perf_counter() - train_start
    if args.save_probabilities:
        np.save(args.save_probabilities, probs.astype(np.float32))
    setting = args.setting or (os.path.basename(label_path) if label_path else "clean")
    result = {"protocol": "cleanlab-crossval", "source": args.csv or args.data_root, "setting": setting}
    result.update(run_cleanlab(cleanlab, given, true, probs, args.filter_by))
    result.update({"folds": args.folds, "epochs": args.epochs,
                   "cost_epochs": args.folds * args.epochs * (args.folds - 1) / args.folds,
                   "train_seconds": train_seconds, "wall_seconds": time.perf_counter() - start,
                   "seed": args.seed, "threads": args.threads, "torch": torch.__version__})
    return result


def fmt(value, spec=".4f"):
    return "-" if value is None else format(value, spec)


def summary_line(r):
    text = (f"[{r['protocol']}] {r['setting']}: n {r['n']}, noise rate true {fmt(r['true_noise_rate'])} "
            f"est {fmt(r['noise_rate'])} (error {fmt(r['rate_error'])}), T error "
            f"{fmt(r['transition_relative_l1_error'], '.3f')}; flagged {r['flagged']}: precision "
            f"{fmt(r['precision'], '.3f')} recall {fmt(r['recall'], '.3f')} F1 {fmt(r['f1'], '.3f')} "
            f"AUROC {fmt(r['auroc'], '.3f')}; cost {fmt(r['cost_epochs'], '.1f')} epochs, "
            f"{r['wall_seconds']:.1f} s")
    w = r.get("winnow")
    if w:
        text += (f"\n    winnow's own estimate on these probabilities ({w.get('method')}): noise rate "
                 f"{fmt(w.get('noise_rate'))} (error {fmt(w.get('rate_error'))}), T error "
                 f"{fmt(w.get('transition_relative_l1_error'), '.3f')}; F1 {fmt(w.get('f1'), '.3f')} "
                 f"AUROC {fmt(w.get('auroc'), '.3f')}")
    return text


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--probabilities", nargs="+", metavar="DIR", help="winnow inspect output folder(s)")
    mode.add_argument("--crossval", action="store_true", help="cleanlab's own K-fold protocol")
    parser.add_argument("--cleanlab", default=os.environ.get("CLEANLAB_PATH"),
                        help="cleanlab checkout (default $CLEANLAB_PATH)")
    parser.add_argument("--labels", nargs="+", metavar="FILE",
                        help="given labels, one int a line for the whole data file; several = one run each")
    parser.add_argument("--samples", nargs="+", metavar="CSV",
                        help="winnow samples.csv: keep only its `index` rows; one for all --labels, or one each")
    parser.add_argument("--csv", help="CSV data file instead of Fashion-MNIST")
    parser.add_argument("--label-column", default="label")
    parser.add_argument("--data-root", default=FASHION_ROOT, help="folder of the Fashion-MNIST IDX files")
    parser.add_argument("--classes", type=int, help="number of classes (default: max given label + 1)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--hidden", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--filter-by", default="prune_by_noise_rate",
                        choices=["prune_by_noise_rate", "prune_by_class", "both", "confident_learning",
                                 "predicted_neq_given"])
    parser.add_argument("--setting", help="name of the noise setting in the output (default: file name)")
    parser.add_argument("--save-probabilities", metavar="FILE.npy",
                        help="--crossval: also save the out-of-sample probabilities (float32)")
    parser.add_argument("--jsonl", metavar="FILE", help="also append the JSON lines to FILE")
    args = parser.parse_args()
    if args.crossval and args.folds < 2:
        parser.error("--folds must be >= 2")
    if args.save_probabilities and args.labels and len(args.labels) > 1:
        parser.error("--save-probabilities takes a single --labels file")
    if args.samples and len(args.samples) not in (1, len(args.labels or [None])):
        parser.error("--samples: give one file, or one per --labels file")

    cleanlab, version, commit = import_cleanlab(args.cleanlab)

    def emit(result):
        result["cleanlab_version"], result["cleanlab_commit"] = version, commit
        line = json.dumps(result)
        print(line, flush=True)
        if args.jsonl:
            with open(args.jsonl, "a") as f:
                f.write(line + "\n")
        log(summary_line(result))

    if args.probabilities:
        for directory in args.probabilities:
            emit(probabilities_mode(directory, args, cleanlab))
    else:
        import torch
        torch.set_num_threads(args.threads)
        x, true = load_data(args)
        label_paths = args.labels or [None]
        samples = args.samples or [None]
        if len(samples) == 1:
            samples = samples * len(label_paths)
        for label_path, samples_path in zip(label_paths, samples):
            emit(crossval_mode(label_path, samples_path, x, true, args, cleanlab))

if __name__ == "__main__":
    main()
