#!/usr/bin/env bash
# Noise estimation and label-issue detection on labels given as files (no simulation inside
# winnow: the runs see what a user's own labels look like), against cleanlab.
#
#   bench/inspect.sh                         # every setting below, mlp, 1 thread per run
#   NOISES="symmetric:0.5" PROTOCOLS="crossfit5x10" bench/inspect.sh
#
# For each noise setting it writes the label file once (winnow noise, seed 1, then one label
# per line) and runs `winnow inspect` under each protocol:
#   crossfit5x10   5-fold cross-fitting, 10 epochs per fold (cleanlab's protocol; 40 epochs)
#   crossfit2x5    2 folds x 5 epochs (train's "auto" default; 5 epochs)
#   single10       one run, 10 epochs, in-sample probabilities (10 epochs)
#   anchor10       the same run, anchor points (Patrini et al. 2017) instead of confident learning
#   crossfit5x10avg  5 x 10 with the fold's probabilities averaged over its epochs
#   dividemix2x5   the 2 x 5 estimate, then DivideMix (configs/dividemix.toml, 20 epochs) trained
#                  with it as the detector (inspect.detector = "method"; 5 + 2 x 20 epochs)
# Then bench/cleanlab_reference.py (needs a fetched cleanlab: CLEANLAB_PATH) runs cleanlab's
# own 5-fold protocol on the same samples and labels, and cleanlab on winnow's probabilities.
# bench/summarize_inspect.py prints the table for bench/RESULTS.md.
#
# Environment (defaults in brackets): WINNOW [./build/winnow]  OUT [bench/runs/inspect]
#   NOISES [symmetric:0.5 pairflip:0.4 classmap:0.4 instance:0.4]  PROTOCOLS [all four]
#   THREADS [1]  EXTRA (more --set arguments)  CLEANLAB [1] (0 skips the cleanlab runs)
#   DATA [fashion] or digits (scikit-learn's digits as CSV, bench/digits_to_csv.py)
set -euo pipefail
WINNOW="${WINNOW:-./build/winnow}"
OUT="${OUT:-bench/runs/inspect}"
NOISES="${NOISES:-symmetric:0.5 pairflip:0.4 classmap:0.4 instance:0.4}"
PROTOCOLS="${PROTOCOLS:-crossfit5x10 crossfit2x5 single10 anchor10 crossfit5x10avg dividemix2x5}"
THREADS="${THREADS:-1}"
EXTRA="${EXTRA:-}"
CLEANLAB="${CLEANLAB:-1}"
DATA="${DATA:-fashion}"
PYTHON=/usr/bin/python3
read -r -a extra_args <<<"$EXTRA"

data_args=()
cleanlab_data=()
if [[ "$DATA" == digits ]]; then
  mkdir -p "$OUT/data"
  [[ -f "$OUT/data/digits_train.csv" ]] || $PYTHON bench/digits_to_csv.py "$OUT/data"
  data_args+=(--set data.name='"custom"' --set data.format='"csv"' --set data.train="\"$OUT/data/digits_train.csv\""
              --set data.test="\"$OUT/data/digits_test.csv\"" --set data.label_column='"label"')
  cleanlab_data=(--csv "$OUT/data/digits_train.csv" --label-column label)
fi

protocol_args() {
  case "$1" in
    crossfit5x10) echo "--set estimate.protocol=crossfit --set estimate.folds=5 --set estimate.epochs=10" ;;
    crossfit2x5) echo "--set estimate.protocol=crossfit --set estimate.folds=2 --set estimate.epochs=5" ;;
    single10) echo "--set estimate.protocol=single_run --set estimate.epochs=10" ;;
    anchor10) echo "--set estimate.protocol=single_run --set estimate.epochs=10 --set estimate.estimator=anchor" ;;
    crossfit5x10avg) echo "--set estimate.folds=5 --set estimate.epochs=10 --set estimate.select_epoch=average" ;;
    dividemix2x5) echo "--config $OUT/dividemix.toml --set inspect.detector=method --set estimate.folds=2 \
                        --set estimate.epochs=5 --set train.epochs=20 --set optim.milestones=[20]" ;;
    *) echo "unknown protocol $1" >&2; exit 2 ;;
  esac
}

# DivideMix's shipped config without its [noise] section: the labels come from a file.
mkdir -p "$OUT"
sed '/^\[noise\]/,/^$/d' configs/dividemix.toml >"$OUT/dividemix.toml.tmp.$$"
mv "$OUT/dividemix.toml.tmp.$$" "$OUT/dividemix.toml"

for noise in $NOISES; do
  type="${noise%%:*}"
  rate="${noise#*:}"
  setting="${type}_${rate}"
  labels="$OUT/$setting/labels.txt"
  if [[ ! -f "$labels" ]]; then
    mkdir -p "$OUT/$setting"
    map=()
    [[ "$type" == classmap && "$DATA" == fashion ]] && map=(--set 'noise.map="fashion-mnist"')
    "$WINNOW" noise ${data_args[@]+"${data_args[@]}"} --set noise.type="\"$type\"" --set noise.rate="$rate" --set noise.seed=1 \
      ${map[@]+"${map[@]}"} --out "$OUT/$setting/noise" >/dev/null
    tail -n +2 "$OUT/$setting/noise/noisy_labels.csv" | cut -d, -f3 >"$labels.tmp"
    mv "$labels.tmp" "$labels"
  fi
  for protocol in $PROTOCOLS; do
    dir="$OUT/$setting/$protocol"
    if [[ -f "$dir/estimate.json" ]]; then echo "skip (complete): $dir"; continue; fi
    read -r -a p_args <<<"$(protocol_args "$protocol")"
    echo "inspect: $dir"
    start=$(date +%s)
    "$WINNOW" inspect ${data_args[@]+"${data_args[@]}"} --set train.threads="$THREADS" --set model.name='"mlp"' --set data.noisy_labels="\"$labels\"" "${p_args[@]}" \
      ${extra_args[@]+"${extra_args[@]}"} --out "$dir" >"$dir.log" 2>&1 || { echo "failed: $dir (see $dir.log)"; continue; }
    echo $(( $(date +%s) - start )) >"$dir/wall_seconds"
  done
  if [[ "$CLEANLAB" == 1 ]]; then
    samples="$OUT/$setting/crossfit5x10/samples.csv"
    [[ -f "$samples" ]] || samples="$(ls "$OUT/$setting"/*/samples.csv | head -1)"
    if [[ ! -f "$OUT/$setting/cleanlab_crossval.jsonl" ]]; then
      $PYTHON bench/cleanlab_reference.py --crossval ${cleanlab_data[@]+"${cleanlab_data[@]}"} --labels "$labels" \
        --samples "$samples" --folds 5 --epochs 10 --threads "$THREADS" --setting "$setting" \
        --jsonl "$OUT/$setting/cleanlab_crossval.jsonl.tmp" >"$OUT/$setting/cleanlab_crossval.log" 2>&1 &&
        mv "$OUT/$setting/cleanlab_crossval.jsonl.tmp" "$OUT/$setting/cleanlab_crossval.jsonl"
    fi
    for protocol in $PROTOCOLS; do
      dir="$OUT/$setting/$protocol"
      [[ -f "$dir/estimate.json" && ! -f "$dir/cleanlab_on_winnow.jsonl" ]] || continue
      $PYTHON bench/cleanlab_reference.py --probabilities "$dir" --setting "$setting" \
        --jsonl "$dir/cleanlab_on_winnow.jsonl" >"$dir/cleanlab_on_winnow.log" 2>&1 || echo "cleanlab failed on $dir"
    done
  fi
done
