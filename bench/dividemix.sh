#!/usr/bin/env bash
# DivideMix against CE (standard) and Co-teaching on Fashion-MNIST, mlp 784-256-10, all with
# the same optimiser (DivideMix's: SGD lr 0.02, momentum 0.9, weight decay 5e-4, batch 64, no
# lr drop within the short budget: milestones = [EPOCHS]), the same data, noise and epochs;
# plus CE on the clean labels as the reference. A finished run (summary.json) is kept.
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
# bench/summarize_dividemix.py prints the table. Runs are claimed one by one, so two
# invocations with the same settings (e.g. one per core) share the grid without overlap.
set -euo pipefail
WINNOW="${WINNOW:-./build/winnow}"
OUT="${OUT:-bench/runs/dividemix}"
EPOCHS="${EPOCHS:-30}"
SEEDS="${SEEDS:-${SEED:-1}}"
THREADS="${THREADS:-1}"
METHODS="${METHODS:-standard coteaching dividemix}"
NOISES="${NOISES:-symmetric:0.5}"
EXTRA="${EXTRA:-}"
read -r -a extra_args <<<"$EXTRA"
failed=0
for noise in $NOISES; do
  type="${noise%%:*}"
  rate="${noise#*:}"
  for SEED in $SEEDS; do
  for method in $METHODS; do
    [[ "$type" == none && "$method" != standard ]] && continue
    dir="$OUT/${type}_${rate}/$method"
    [[ "$SEED" != 1 ]] && dir="${dir}_seed$SEED"  # seed 1 keeps the plain name of earlier runs
    [[ -f "$dir/summary.json" ]] && continue
    # Claim the run (mkdir is atomic), so several invocations can share one grid, e.g. one
    # per core with THREADS=1; a claim left by a killed invocation is removed by hand.
    mkdir -p "$(dirname "$dir")"
    mkdir "$dir.claim" 2>/dev/null || continue
    # DivideMix runs its shipped config; the others the same [data]/[model]/[optim]/[train]
    # with their own [method] section (the [method] keys of dividemix.toml are DivideMix's).
    config=configs/dividemix.toml
    if [[ "$method" != dividemix ]]; then
      config="$dir.toml"  # one per run: parallel invocations never write the same file
      drop='/^\[method\]/,/^$/d'
      [[ "$type" == none ]] && drop="$drop;/^\\[noise\\]/,/^\$/d"
      sed "$drop" configs/dividemix.toml >"$config"
      printf '\n[method]\nname = "%s"\n' "$method" >>"$config"
    fi
    args=(train --config "$config" --set "train.epochs=$EPOCHS" --set "train.seed=$SEED"
          --set "train.threads=$THREADS" --set "optim.milestones=[$EPOCHS]")
    [[ "$type" != none ]] && args+=(--set "noise.type=\"$type\"" --set "noise.rate=$rate")
    [[ "$type" == classmap ]] && args+=(--set 'noise.map="fashion-mnist"')
    args+=("${extra_args[@]}" --out "$dir")
    echo "+ $WINNOW ${args[*]}"
    if ! "$WINNOW" "${args[@]}" >"$dir.log" 2>&1; then
      echo "FAILED: $dir (see $dir.log)" >&2; failed=1
    fi
    rmdir "$dir.claim"
  done
  done
done
exit $failed
