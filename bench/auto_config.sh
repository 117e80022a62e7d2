#!/usr/bin/env bash
# Co-teaching and DivideMix on labels given as files (no simulation inside winnow), with
# every noise-dependent option "auto" (the default on a user's own labels: estimated from the
# data, estimate/noise_source.h) against the same run told the true rate.
#
#   bench/auto_config.sh                       # defaults below; label files from bench/inspect.sh
#   NOISES="pairflip_0.4" METHODS=dividemix bench/auto_config.sh
#
# Both methods use DivideMix's shipped optimiser (configs/dividemix.toml: SGD lr 0.02, momentum
# 0.9, weight decay 5e-4, batch 64, no lr drop within the budget), mlp, EPOCHS epochs.
# "told": Co-teaching gets method.forget_rate = the file's true rate; DivideMix gets
# method.noise_rate = the true rate and method.asymmetric = the noise type's (pairflip and
# classmap: true), with method.divide_by as auto would choose it (rate when asymmetric).
#
# Environment (defaults in brackets): WINNOW [./build/winnow]  LABELS [bench/runs/inspect]
#   OUT [bench/runs/auto_config]  NOISES [symmetric_0.5 pairflip_0.4]  METHODS [coteaching dividemix]
#   MODES [auto told]  EPOCHS [20]  SEED [1]  THREADS [1]  EXTRA (more --set arguments)
# Layout: $OUT/<noise>/<method>_<mode>/ holds one run; bench/summarize_auto_config.py prints the table.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WINNOW="${WINNOW:-./build/winnow}"
LABELS="${LABELS:-bench/runs/inspect}"
OUT="${OUT:-bench/runs/auto_config}"
NOISES="${NOISES:-symmetric_0.5 pairflip_0.4}"
METHODS="${METHODS:-coteaching dividemix}"
MODES="${MODES:-auto told}"
EPOCHS="${EPOCHS:-20}"
SEED="${SEED:-1}"
THREADS="${THREADS:-1}"
EXTRA="${EXTRA:-}"
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
bench_require_winnow
read -r -a extra_args <<<"$EXTRA"

mkdir -p "$OUT"
# DivideMix's shipped config without its [noise] section (the labels come from a file), and
# the same with Co-teaching's [method] for Co-teaching.
sed '/^\[noise\]/,/^$/d' configs/dividemix.toml >"$OUT/dividemix.toml.tmp.$$"
mv "$OUT/dividemix.toml.tmp.$$" "$OUT/dividemix.toml"
{ sed '/^\[noise\]/,/^$/d;/^\[method\]/,/^$/d' configs/dividemix.toml; printf '\n[method]\nname = "coteaching"\n'; } \
  >"$OUT/coteaching.toml.tmp.$$"
mv "$OUT/coteaching.toml.tmp.$$" "$OUT/coteaching.toml"

for setting in $NOISES; do
  labels="$LABELS/$setting/labels.txt"
  [[ -f "$labels" ]] || { echo "no $labels: run bench/inspect.sh (NOISES) first" >&2; exit 2; }
  true_rate=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['actual_rate'])" \
                "$LABELS/$setting/noise/noise.json")
  asymmetric=false
  [[ "$setting" == pairflip_* || "$setting" == classmap_* ]] && asymmetric=true
  for method in $METHODS; do
    for mode in $MODES; do
      args=(--config "$OUT/$method.toml" --set "data.noisy_labels=\"$labels\"" --set "train.epochs=$EPOCHS"
            --set "train.seed=$SEED" --set "train.threads=$THREADS" --set "optim.milestones=[$EPOCHS]")
      if [[ "$mode" == told ]]; then
        if [[ "$method" == coteaching ]]; then
          args+=(--set "method.forget_rate=$true_rate")
        else
          args+=(--set "method.noise_rate=$true_rate" --set "method.asymmetric=$asymmetric")
          [[ "$asymmetric" == true ]] && args+=(--set 'method.divide_by="rate"')
        fi
      fi
      bench_run "$OUT/$setting/${method}_$mode" "${args[@]}" ${extra_args[@]+"${extra_args[@]}"}
    done
  done
done
exit "$(bench_status)"
