#!/usr/bin/env bash
# Accuracy of multi-process training (issue 18): each setting in 1 process x 2 threads and in
# 2 processes x 1 thread (`--nproc 2`), same seeds, epochs and global batch, so a pair differs
# only in how the batch is split.
#   standard     CE, mlp, symmetric 50%
#   coteaching   Co-teaching (per-shard small-loss selection), mlp, symmetric 50%, forget rate 0.5
#   dividemix    DivideMix (fashion_mnist preset; GMM on the gathered losses), mlp, symmetric 50%
#   cnn4         CE, cnn4 (batch norm on local statistics), symmetric 50%
#
#   bench/dist_accuracy.sh
#   EPOCHS=10 SEEDS="1 2 3" SETTINGS="standard coteaching" bench/dist_accuracy.sh
#
# Environment (defaults in brackets): WINNOW [./build/winnow], OUT [bench/runs/dist],
# EPOCHS [10], SEEDS [1 2 3], SETTINGS [standard coteaching dividemix cnn4], EXTRA [], FORCE,
# DRY_RUN. Layout: $OUT/<setting>/<1x2|2x1>/seed_<seed>/. bench/summarize_dist.py prints the
# table. Never run two of these at once: the 2x1 arm needs both cores.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WINNOW="${WINNOW:-./build/winnow}"
OUT="${OUT:-bench/runs/dist}"
EPOCHS="${EPOCHS:-10}"
SEEDS="${SEEDS:-1 2 3}"
SETTINGS="${SETTINGS:-standard coteaching dividemix cnn4}"
EXTRA="${EXTRA:-}"
source "$here/lib.sh"
bench_require_winnow
_bench_traps

for setting in $SETTINGS; do
  case "$setting" in
    standard) args=(--set data.name=fashion-mnist --set noise.type=symmetric --set noise.rate=0.5 --set model.name=mlp) ;;
    coteaching) args=(--config configs/coteaching.toml --set method.forget_rate=0.5) ;;
    dividemix) args=(--config configs/dividemix.toml --set method.warm_up=3) ;;
    cnn4) args=(--set data.name=fashion-mnist --set noise.type=symmetric --set noise.rate=0.5 --set model.name=cnn4
                --set train.eval_batch_size=256) ;;
    *) echo "dist_accuracy.sh: unknown setting '$setting' (standard, coteaching, dividemix, cnn4)" >&2; exit 2 ;;
  esac
  for seed in $SEEDS; do
    # shellcheck disable=SC2086
    bench_run "$OUT/$setting/1x2/seed_$seed" "${args[@]}" --set "train.epochs=$EPOCHS" --set "train.seed=$seed" \
      --set train.threads=2 $EXTRA
    # shellcheck disable=SC2086
    bench_run "$OUT/$setting/2x1/seed_$seed" --nproc 2 "${args[@]}" --set "train.epochs=$EPOCHS" \
      --set "train.seed=$seed" --set train.threads=1 $EXTRA
  done
done
exit "$(bench_status)"
