#!/usr/bin/env bash
# `make demo`: what winnow does, in one command (about 2-3 minutes on 2 cores).
#   Fashion-MNIST, 40% of the training labels made wrong at random; winnow is not told so.
#   1. Plain cross entropy (configs/demo_ce.toml): the baseline, which fits the wrong labels.
#   2. DivideMix (configs/demo.toml) with every noise-dependent option "auto": the noise rate
#      and transition matrix are estimated from the data before training.
#   3. `winnow report` on both: one HTML page, and the comparison printed here (accuracies,
#      true and estimated noise rate, detection precision / recall / F1, top suspects by name).
# Environment: WINNOW [./build/winnow]  OUT [runs/demo-<time>]  EXTRA (more --set arguments
# for both runs, e.g. "--set train.epochs=5").
set -euo pipefail
WINNOW="${WINNOW:-./build/winnow}"
OUT="${OUT:-runs/demo-$(date +%Y%m%d-%H%M%S)}"
read -r -a extra <<<"${EXTRA:-}"

start=$(date +%s)
echo "== 1/3 plain cross entropy (the baseline) -> $OUT/ce"
"$WINNOW" train --config configs/demo_ce.toml "${extra[@]}" --out "$OUT/ce"
echo
echo "== 2/3 DivideMix, noise rate not given (estimated) -> $OUT/dividemix"
"$WINNOW" train --config configs/demo.toml "${extra[@]}" --out "$OUT/dividemix"
echo
echo "== 3/3 report"
"$WINNOW" report "$OUT/ce" "$OUT/dividemix" --out "$OUT/report.html" \
  --title "winnow demo: Fashion-MNIST, 40% wrong labels, rate not given"
echo "demo finished in $(( $(date +%s) - start )) s; open $OUT/report.html in a browser"
