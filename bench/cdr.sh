#!/usr/bin/env bash
# CDR's protocol on Fashion-MNIST (Xia et al., ICLR 2021, Sec. 4; official code main.py):
# batch 32, SGD lr 0.01 momentum 0.9, multistep milestones [10, 20] gamma 0.1, a 10% noisy
# validation split, and the test accuracy at the epoch of best validation accuracy.
# CE (optim.name=sgd) against CDR (optim.name=cdr, tau = the noise rate), both with
# lambda / weight decay 1e-3 as in the official code, for every model x noise x seed; then
# bench/cdr_report.py writes the table and the curves (test accuracy per epoch).
#
#   bench/cdr.sh                                   # the full grid: 100 epochs, seeds 1 2 3
#   EPOCHS=25 SEEDS=1 MODELS=lenet5 NOISES=symmetric:0.4 bench/cdr.sh
#
# Environment (defaults in brackets):
#   EPOCHS [100]  SEEDS ["1 2 3"]  MODELS ["lenet5 cnn4"]
#   NOISES ["symmetric:0.2 symmetric:0.4 pairflip:0.45 instance:0.2 instance:0.4"]
#   MILESTONES ["[10,20]"]  OPTIMIZERS ["sgd cdr"]  VARIANT [paper] (CDR: paper | official)
#   THREADS [all cores]  OUT [runs/cdr-bench]  WINNOW [build/winnow]  EXTRA (more --set args)
#   REPORT [bench/cdr/latest] (folder for cdr_table.md and cdr_curves.svg)
#   FORCE [0] (1 reruns complete runs)  DRY_RUN [0] (1 prints the commands only)
# Each run's output goes to <run folder>.log. bench/lib.sh skips complete runs, resumes
# interrupted ones and lets several invocations share the grid (e.g. one per core, THREADS=1).
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
EPOCHS="${EPOCHS:-100}"
SEEDS="${SEEDS:-1 2 3}"
MODELS="${MODELS:-lenet5 cnn4}"
NOISES="${NOISES:-symmetric:0.2 symmetric:0.4 pairflip:0.45 instance:0.2 instance:0.4}"
MILESTONES="${MILESTONES:-[10,20]}"
OPTIMIZERS="${OPTIMIZERS:-sgd cdr}"
VARIANT="${VARIANT:-paper}"
THREADS="${THREADS:-$(nproc)}"
OUT="${OUT:-$ROOT/runs/cdr-bench}"
WINNOW="${WINNOW:-$ROOT/build/winnow}"
EXTRA="${EXTRA:-}"
REPORT="${REPORT:-$ROOT/bench/cdr/latest}"

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
bench_require_winnow

for model in $MODELS; do
  for noise in $NOISES; do
    type="${noise%%:*}"
    rate="${noise##*:}"
    for optimizer in $OPTIMIZERS; do
      for seed in $SEEDS; do
        label="$optimizer"
        [[ "$optimizer" == cdr && "$VARIANT" != paper ]] && label="cdr-$VARIANT"
        args=(
          --set "model.name=$model"
          --set "noise.type=$type" --set "noise.rate=$rate"
          --set "data.val_fraction=0.1"
          --set "optim.name=$optimizer" --set "optim.lr=0.01" --set "optim.momentum=0.9"
          --set "optim.weight_decay=0.001"
          --set "optim.schedule=multistep" --set "optim.milestones=$MILESTONES" --set "optim.gamma=0.1"
          --set "train.batch_size=32" --set "train.epochs=$EPOCHS" --set "train.seed=$seed"
          --set "train.threads=$THREADS" --set "train.monitor=val_accuracy")
        if [[ "$optimizer" == cdr ]]; then
          args+=(--set "optim.variant=$VARIANT")
        fi
        # shellcheck disable=SC2206
        args+=($EXTRA)
        bench_run "$OUT/$model/${type}-${rate}/$label/seed$seed" "${args[@]}"
      done
    done
  done
done

[[ "${DRY_RUN:-0}" == 1 ]] && exit 0
mkdir -p "$REPORT"
python3 "$ROOT/bench/cdr_report.py" --runs "$OUT" --out "$REPORT"
exit "$(bench_status)"
