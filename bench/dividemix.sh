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
#   EPOCHS  [30]   SEED [1]   THREADS [1]
#   METHODS [standard coteaching dividemix]
#   NOISES  type:rate list [symmetric:0.5]; "none:0" is the clean reference
#   EXTRA   further "--set key=value" arguments for every run
# bench/summarize_dividemix.py prints the table.
set -euo pipefail
WINNOW="${WINNOW:-./build/winnow}"
OUT="${OUT:-bench/runs/dividemix}"
EPOCHS="${EPOCHS:-30}"
SEED="${SEED:-1}"
THREADS="${THREADS:-1}"
METHODS="${METHODS:-standard coteaching dividemix}"
NOISES="${NOISES:-symmetric:0.5}"
EXTRA="${EXTRA:-}"
read -r -a extra_args <<<"$EXTRA"
failed=0
for noise in $NOISES; do
  type="${noise%%:*}"
  rate="${noise#*:}"
  for method in $METHODS; do
    [[ "$type" == none && "$method" != standard ]] && continue
    dir="$OUT/${type}_${rate}/$method"
    [[ -f "$dir/summary.json" ]] && continue
    # DivideMix runs its shipped config; the others the same [data]/[model]/[optim]/[train]
    # with their own [method] section (the [method] keys of dividemix.toml are DivideMix's).
    config=configs/dividemix.toml
    if [[ "$method" != dividemix ]]; then
      mkdir -p "$OUT"
      config="$OUT/${method}_$type.toml"
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
    mkdir -p "$(dirname "$dir")"
    echo "+ $WINNOW ${args[*]}"
    if ! "$WINNOW" "${args[@]}" >"$dir.log" 2>&1; then
      echo "FAILED: $dir (see $dir.log)" >&2; failed=1
    fi
  done
done
exit $failed
