#!/usr/bin/env bash
# Co-teaching family benchmark on Fashion-MNIST: CE (standard), Co-teaching, Co-teaching+
# and JoCoR under symmetric, pair-flip and instance-dependent noise, with the papers' MNIST
# setting (mlp 784-256-10, Adam lr 0.001, batch 128, linear lr decay and beta1 0.9 -> 0.1
# from epoch 80). Every method gets the same data, noise, network, optimiser and schedule.
#
#   bench/coteaching.sh                                   # defaults below
#   EPOCHS=20 SEEDS=1 NOISES="symmetric:0.5 pairflip:0.45" bench/coteaching.sh
#
# Environment (defaults in brackets):
#   WINNOW   the CLI binary                         [./build/winnow]
#   OUT      root folder of the runs (git-ignored)  [bench/runs/coteaching]
#   EPOCHS   train.epochs (the papers: 200)         [200]
#   SEEDS    train.seed values                      [1 2 3]
#   MODELS   model.name values                      [mlp]
#   METHODS  method.name values                     [standard coteaching coteaching_plus jocor]
#   NOISES   noise settings as type:rate            [symmetric:0.2 symmetric:0.5 symmetric:0.8
#                                                     pairflip:0.45 instance:0.4]
#   EXTRA    further "--set key=value" arguments for every run            []
#   FORCE    1 reruns runs whose summary.json exists [0]
#   DRY_RUN  1 prints the commands without running  [0]
#
# Layout: $OUT/<model>/<noise type>_<rate>/<method>/seed_<seed>/ holds one run, and
# seed_<seed>.log its output. bench/lib.sh skips complete runs, resumes interrupted ones and
# lets several invocations share the grid (e.g. one per core with
# EXTRA="--set train.threads=1"). bench/summarize_coteaching.py turns the runs into
# $OUT/summary.md. Exits non-zero if any run failed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WINNOW="${WINNOW:-./build/winnow}"
OUT="${OUT:-bench/runs/coteaching}"
EPOCHS="${EPOCHS:-200}"
SEEDS="${SEEDS:-1 2 3}"
MODELS="${MODELS:-mlp}"
METHODS="${METHODS:-standard coteaching coteaching_plus jocor}"
NOISES="${NOISES:-symmetric:0.2 symmetric:0.5 symmetric:0.8 pairflip:0.45 instance:0.4}"
EXTRA="${EXTRA:-}"
FORCE="${FORCE:-0}"
DRY_RUN="${DRY_RUN:-0}"
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

bench_require_winnow

read -r -a extra_args <<<"$EXTRA"
for model in $MODELS; do
  for noise in $NOISES; do
    if [[ "$noise" != *:* ]]; then
      echo "coteaching.sh: noise setting '$noise' is not type:rate (e.g. symmetric:0.5)" >&2
      exit 2
    fi
    noise_type="${noise%%:*}"
    noise_rate="${noise#*:}"
    for method in $METHODS; do
      for seed in $SEEDS; do
        bench_run "$OUT/$model/${noise_type}_${noise_rate}/$method/seed_$seed" \
          --set "data.name=fashion-mnist" \
          --set "model.name=$model" \
          --set "method.name=$method" \
          --set "loss.name=ce" \
          --set "noise.type=$noise_type" \
          --set "noise.rate=$noise_rate" \
          --set "optim.name=adam" \
          --set "optim.lr=0.001" \
          --set "optim.schedule=coteaching" \
          --set "optim.decay_start=80" \
          --set "train.batch_size=128" \
          --set "train.epochs=$EPOCHS" \
          --set "train.seed=$seed" \
          ${extra_args[@]+"${extra_args[@]}"}
      done
    done
  done
done

if [[ "$DRY_RUN" != 1 ]]; then
  python3 "$here/summarize_coteaching.py" "$OUT" | tee "$OUT/summary.md"
  echo "wrote $OUT/summary.md ($BENCH_TOTAL runs, $BENCH_FAILED failed)"
fi
exit "$(bench_status)"
