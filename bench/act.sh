#!/usr/bin/env bash
# Asymmetric co-teaching against its clustering baseline (issue 16) on Fashion-MNIST with
# disjoint classes as domains: source {0..4} -> target {5..9} and the reverse, each arm from the
# same source model (same seed), configs/act.toml's settings unless EXTRA says otherwise.
#
#   bench/act.sh                                   # every arm, both directions, seeds 1 2 3
#   ARMS="act baseline" SEEDS=1 bench/act.sh
#
# Arms (method.rounds x method.round_epochs):
#   source_only    rounds = 0: the source model alone (direct transfer)
#   baseline       cluster_baseline, outliers dropped, its paper's schedule: BASELINE_ROUNDS x
#                  BASELINE_EPOCHS (Song et al.'s code: 30 iterations x 70 epochs)
#   baseline_same  cluster_baseline, outliers dropped, as many rounds as ACT
#   ablation       cluster_baseline with outliers labelled by their nearest inlier, one network
#   act            asymmetric co-teaching
#
# Environment (defaults in brackets): WINNOW [./build/winnow]  OUT [bench/runs/act]
#   DIRECTIONS [a2b b2a]  ARMS [source_only baseline baseline_same ablation act]  SEEDS [1 2 3]
#   MODEL [mlp]  ROUNDS [10]  ROUND_EPOCHS [30]  BASELINE_ROUNDS [30]  BASELINE_EPOCHS [70]  THREADS [2]
#   EXTRA (more --set arguments, e.g. method.rho=...)
# Layout: $OUT/<model>/<direction>/<arm>-s<seed>/ holds one run; bench/summarize_act.py prints
# the tables.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WINNOW="${WINNOW:-./build/winnow}"
OUT="${OUT:-bench/runs/act}"
DIRECTIONS="${DIRECTIONS:-a2b b2a}"
ARMS="${ARMS:-source_only baseline baseline_same ablation act}"
SEEDS="${SEEDS:-1 2 3}"
MODEL="${MODEL:-mlp}"
ROUNDS="${ROUNDS:-10}"
BASELINE_ROUNDS="${BASELINE_ROUNDS:-30}"
BASELINE_EPOCHS="${BASELINE_EPOCHS:-70}"
ROUND_EPOCHS="${ROUND_EPOCHS:-30}"
THREADS="${THREADS:-2}"
EXTRA="${EXTRA:-}"
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
bench_require_winnow
read -r -a extra_args <<<"$EXTRA"

for direction in $DIRECTIONS; do
  case "$direction" in
    a2b) source_classes="[0,1,2,3,4]"; target_classes="[5,6,7,8,9]" ;;
    b2a) source_classes="[5,6,7,8,9]"; target_classes="[0,1,2,3,4]" ;;
    *) echo "act.sh: unknown direction '$direction' (a2b, b2a)" >&2; exit 2 ;;
  esac
  for seed in $SEEDS; do
    for arm in $ARMS; do
      case "$arm" in
        source_only)   args=(--set method.name=cluster_baseline --set method.rounds=0) ;;
        baseline)      args=(--set method.name=cluster_baseline --set method.rounds="$BASELINE_ROUNDS"
                             --set method.round_epochs="$BASELINE_EPOCHS") ;;
        baseline_same) args=(--set method.name=cluster_baseline --set method.rounds="$ROUNDS") ;;
        ablation)      args=(--set method.name=cluster_baseline --set method.outliers=nearest_inlier
                             --set method.rounds="$ROUNDS") ;;
        act)           args=(--set method.name=act --set method.rounds="$ROUNDS") ;;
        *) echo "act.sh: unknown arm '$arm'" >&2; exit 2 ;;
      esac
      bench_run "$OUT/$MODEL/$direction/$arm-s$seed" --config configs/act.toml \
        --set data.source_classes="$source_classes" --set data.target_classes="$target_classes" \
        --set model.name="$MODEL" --set method.round_epochs="$ROUND_EPOCHS" \
        --set train.seed="$seed" --set train.threads="$THREADS" "${args[@]}" "${extra_args[@]}"
    done
  done
done
exit "$(bench_status)"
