#!/usr/bin/env bash
# DivideMix against CE (standard) and Co-teaching on Fashion-MNIST, mlp 784-256-10, all with
# the same optimiser (DivideMix's: SGD lr 0.02, momentum 0.9, weight decay 5e-4, batch 64, no
# lr drop within the short budget: milestones = [EPOCHS]), the same data, noise and epochs;
# plus CE on the clean labels as the reference.
#
#   bench/dividemix.sh                                   # defaults below
#   EPOCHS=30 NOISES="symmetric:0.5 symmetric:0.8 classmap:0.4" bench/dividemix.sh
#
# Environment (defaults in brackets):
#   WINNOW  the CLI binary [./build/winnow]   OUT   runs root [bench/runs/dividemix]
#   EPOCHS  [30]   SEEDS [1] (a list: one run per seed)   THREADS [1]
#   METHODS [standard coteaching dividemix]
#   NOISES  type:rate list [symmetric:0.5]; "none:0" is the clean reference
#   EXTRA   further "--set key=value" arguments for every run
#   FORCE [0] (1 reruns complete runs)  DRY_RUN [0] (1 prints the commands only)
# Layout: $OUT/<type>_<rate>/<method>[_seed<seed>]/ holds one run and <method>.log its output.
# bench/lib.sh skips complete runs, resumes interrupted ones and lets several invocations
# with the same settings share the grid (e.g. one per core with THREADS=1).
# bench/summarize_dividemix.py prints the table.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WINNOW="${WINNOW:-./build/winnow}"
OUT="${OUT:-bench/runs/dividemix}"
EPOCHS="${EPOCHS:-30}"
SEEDS="${SEEDS:-${SEED:-1}}"
THREADS="${THREADS:-1}"
METHODS="${METHODS:-standard coteaching dividemix}"
NOISES="${NOISES:-symmetric:0.5}"
EXTRA="${EXTRA:-}"
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
bench_require_winnow

read -r -a extra_args <<<"$EXTRA"
for noise in $NOISES; do
  type="${noise%%:*}"
  rate="${noise#*:}"
  for SEED in $SEEDS; do
  for method in $METHODS; do
    [[ "$type" == none && "$method" != standard ]] && continue
    dir="$OUT/${type}_${rate}/$method"
    [[ "$SEED" != 1 ]] && dir="${dir}_seed$SEED"  # seed 1 keeps the plain name of earlier runs
    # DivideMix runs its shipped config; the others the same [data]/[model]/[optim]/[train]
    # with their own [method] section (the [method] keys of dividemix.toml are DivideMix's).
    config=configs/dividemix.toml
    if [[ "$method" != dividemix ]]; then
      config="$dir.toml"  # one per run, written whole and renamed: invocations never clash
      drop='/^\[method\]/,/^$/d'
      [[ "$type" == none ]] && drop="$drop;/^\\[noise\\]/,/^\$/d"
      if [[ "${DRY_RUN:-0}" != 1 ]]; then
        mkdir -p "$(dirname "$dir")"
        { sed "$drop" configs/dividemix.toml; printf '\n[method]\nname = "%s"\n' "$method"; } \
          >"$config.tmp.$$"
        mv "$config.tmp.$$" "$config"
      fi
    fi
    args=(--config "$config" --set "train.epochs=$EPOCHS" --set "train.seed=$SEED"
          --set "train.threads=$THREADS" --set "optim.milestones=[$EPOCHS]")
    [[ "$type" != none ]] && args+=(--set "noise.type=\"$type\"" --set "noise.rate=$rate")
    [[ "$type" == classmap ]] && args+=(--set 'noise.map="fashion-mnist"')
    bench_run "$dir" "${args[@]}" ${extra_args[@]+"${extra_args[@]}"}
  done
  done
done
exit "$(bench_status)"
