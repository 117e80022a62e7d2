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
# Layout: $OUT/<model>/<noise type>_<rate>/<method>/seed_<seed>/ holds one run; a run folder
# with a checkpoint but no summary.json is resumed. bench/summarize_coteaching.py turns the
# runs into $OUT/summary.md. Exits non-zero if any run failed.
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

if [[ "$DRY_RUN" != 1 && ! -x "$WINNOW" ]]; then
  echo "coteaching.sh: no executable CLI at WINNOW=$WINNOW (build it, or set WINNOW)" >&2
  exit 2
fi

read -r -a extra_args <<<"$EXTRA"
failed=0
total=0
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
        dir="$OUT/$model/${noise_type}_${noise_rate}/$method/seed_$seed"
        total=$((total + 1))
        if [[ "$FORCE" != 1 && -f "$dir/summary.json" ]]; then
          echo "skip (done): $dir"
          continue
        fi
        if [[ "$FORCE" != 1 && -f "$dir/checkpoint/trainer.json" ]]; then
          cmd=("$WINNOW" train --resume "$dir")
        else
          rm -rf "$dir"
          cmd=("$WINNOW" train
               --set "data.name=fashion-mnist"
               --set "model.name=$model"
               --set "method.name=$method"
               --set "loss.name=ce"
               --set "noise.type=$noise_type"
               --set "noise.rate=$noise_rate"
               --set "optim.name=adam"
               --set "optim.lr=0.001"
               --set "optim.schedule=coteaching"
               --set "optim.decay_start=80"
               --set "train.batch_size=128"
               --set "train.epochs=$EPOCHS"
               --set "train.seed=$seed"
               ${extra_args[@]+"${extra_args[@]}"}
               --out "$dir")
        fi
        if [[ "$DRY_RUN" == 1 ]]; then
          printf '%q ' "${cmd[@]}"
          printf '\n'
          continue
        fi
        mkdir -p "$dir"
        echo "run: $model $noise_type $noise_rate $method seed=$seed"
        start=$(date +%s)
        rc=0
        "${cmd[@]}" >>"$dir/stdout.log" 2>>"$dir/stderr.log" || rc=$?
        if [[ "$rc" == 0 ]]; then
          echo "  done in $(( $(date +%s) - start )) s"
        else
          failed=$((failed + 1))
          echo "  FAILED (exit $rc): see $dir/stderr.log" >&2
          tail -n 5 "$dir/stderr.log" >&2 || true
        fi
      done
    done
  done
done

if [[ "$DRY_RUN" != 1 ]]; then
  python3 "$here/summarize_coteaching.py" "$OUT" | tee "$OUT/summary.md"
  echo "wrote $OUT/summary.md ($total runs, $failed failed)"
fi
[[ "$failed" == 0 ]]
