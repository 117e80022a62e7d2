#!/usr/bin/env bash
# Robust-loss benchmark: trains one model per (model, noise, loss, seed) with the winnow CLI
# and summarises the runs' summary.json files into a markdown table (mean ± sd over seeds).
#
#   bench/losses.sh                       # defaults below
#   EPOCHS=200 SEEDS="1 2 3 4 5" LOSSES="ce gce sce" bench/losses.sh
#
# Environment (defaults in brackets):
#   WINNOW   the CLI binary                         [./build/winnow]
#   OUT      root folder of the runs                [bench/out/losses]
#   EPOCHS   train.epochs                           [50]
#   SEEDS    train.seed values                      [1 2 3]
#   MODELS   model.name values                      [mlp]
#   LOSSES   loss.name values                       [every robust loss and ce]
#   NOISES   noise settings as type:rate            [symmetric:0.2 symmetric:0.5 symmetric:0.8
#                                                     pairflip:0.45]
#   EXTRA    further "--set key=value" arguments for every run, e.g.
#            EXTRA="--set data.name=cifar10 --set loss.preset=cifar10"   []
#   DMI_EXTRA the L_DMI recipe: CE for loss.ce_epochs (default epochs*120/220), then
#            fine-tuning at 1/100 of the learning rate (the official code fine-tunes at a
#            tiny rate; at the full Adam rate L_DMI diverges to its floor, see RESULTS.md)
#            [--set optim.schedule=multistep --set optim.milestones=[<ce_epochs>]
#             --set optim.gamma=0.01]
#   FORCE    1 reruns runs whose summary.json exists [0]
#   DRY_RUN  1 prints the commands without running  [0]
#
# Layout: $OUT/<model>/<noise type>_<rate>/<loss>/seed_<seed>/ holds one run (summary.json,
# metrics.jsonl, config.toml, ...) and seed_<seed>.log its output; bench/summarize.py reads
# that layout. bench/lib.sh skips complete runs, resumes interrupted ones and lets several
# invocations share the grid. A failed run is reported and skipped; the script exits
# non-zero at the end if any run failed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WINNOW="${WINNOW:-./build/winnow}"
OUT="${OUT:-bench/out/losses}"
EPOCHS="${EPOCHS:-50}"
SEEDS="${SEEDS:-1 2 3}"
MODELS="${MODELS:-mlp}"
LOSSES="${LOSSES:-ce mae gce truncated_gce sce rce nce nce_rce peer dmi label_smoothing bootstrap_soft bootstrap_hard}"
NOISES="${NOISES:-symmetric:0.2 symmetric:0.5 symmetric:0.8 pairflip:0.45}"
EXTRA="${EXTRA:-}"
FORCE="${FORCE:-0}"
DRY_RUN="${DRY_RUN:-0}"
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

bench_require_winnow

read -r -a extra_args <<<"$EXTRA"
DMI_EXTRA="${DMI_EXTRA:---set optim.schedule=multistep --set optim.milestones=[$((EPOCHS * 120 / 220))] --set optim.gamma=0.01}"
read -r -a dmi_args <<<"$DMI_EXTRA"
for model in $MODELS; do
  for noise in $NOISES; do
    if [[ "$noise" != *:* ]]; then
      echo "losses.sh: noise setting '$noise' is not type:rate (e.g. symmetric:0.4)" >&2
      exit 2
    fi
    noise_type="${noise%%:*}"
    noise_rate="${noise#*:}"
    for loss in $LOSSES; do
      for seed in $SEEDS; do
        loss_args=()
        if [[ "$loss" == dmi ]]; then loss_args=(${dmi_args[@]+"${dmi_args[@]}"}); fi
        bench_run "$OUT/$model/${noise_type}_${noise_rate}/$loss/seed_$seed" \
          --set "loss.name=$loss" \
          --set "noise.type=$noise_type" \
          --set "noise.rate=$noise_rate" \
          --set "model.name=$model" \
          --set "train.epochs=$EPOCHS" \
          --set "train.seed=$seed" \
          ${loss_args[@]+"${loss_args[@]}"} \
          ${extra_args[@]+"${extra_args[@]}"}
      done
    done
  done
done

if [[ "$DRY_RUN" != 1 ]]; then
  python3 "$here/summarize.py" "$OUT" | tee "$OUT/summary.md"
  echo "wrote $OUT/summary.md ($BENCH_TOTAL runs, $BENCH_FAILED failed)"
fi
exit "$(bench_status)"
