#!/usr/bin/env bash
# The accuracy effect of bf16 where "auto" turns it on (conv models on a CPU with native
# bf16): cnn4 on Fashion-MNIST, each setting in fp32 and in bf16 (channels-last), same seeds
# and epochs, so a pair differs only in train.precision.
#   clean        CE, no noise
#   coteaching   Co-teaching at symmetric 50% (forget rate told: 0.5)
#   dividemix    DivideMix (fashion_mnist preset) at symmetric 50%
#
#   bench/precision.sh
#   EPOCHS=10 SEEDS="1 2 3" SETTINGS="clean coteaching" bench/precision.sh
#
# Environment (defaults in brackets): WINNOW [./build/winnow], OUT [bench/runs/precision],
# EPOCHS [10], SEEDS [1 2 3], SETTINGS [clean coteaching dividemix], EXTRA (more --set
# arguments) [], FORCE, DRY_RUN. Layout: $OUT/<setting>/<precision>/seed_<seed>/.
# bench/summarize_precision.py prints the table. Several invocations share the grid (one per
# core with EXTRA="--set train.threads=1").
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WINNOW="${WINNOW:-./build/winnow}"
OUT="${OUT:-bench/runs/precision}"
EPOCHS="${EPOCHS:-10}"
SEEDS="${SEEDS:-1 2 3}"
SETTINGS="${SETTINGS:-clean coteaching dividemix}"
EXTRA="${EXTRA:-}"
source "$here/lib.sh"
bench_require_winnow
_bench_traps

for setting in $SETTINGS; do
  case "$setting" in
    clean) args=(--set data.name=fashion-mnist --set data.val_fraction=0.1 --set optim.name=adam
                 --set optim.lr=0.001 --set train.batch_size=128) ;;
    coteaching) args=(--config configs/coteaching.toml --set noise.type=symmetric --set noise.rate=0.5
                      --set method.forget_rate=0.5) ;;
    dividemix) args=(--config configs/dividemix.toml --set noise.type=symmetric --set noise.rate=0.5) ;;
    *) echo "precision.sh: unknown setting '$setting' (clean, coteaching, dividemix)" >&2; exit 2 ;;
  esac
  for seed in $SEEDS; do
    for precision in fp32 bf16; do
      # shellcheck disable=SC2086
      bench_run "$OUT/$setting/$precision/seed_$seed" "${args[@]}" --set model.name=cnn4 \
        --set "train.epochs=$EPOCHS" --set "train.seed=$seed" --set "train.precision=$precision" $EXTRA
    done
  done
done
exit "$(bench_status)"
