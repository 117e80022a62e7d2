#!/usr/bin/env bash
# Collaborative learning on Fashion-MNIST: a single network (standard, CE) against deep mutual
# learning (dml, K = 2 and 3), filter grafting (N = 2), DGD (a teacher distils into 2 grafting
# students) and knowledge distillation (distill) from a teacher run, for every noise setting,
# student model and seed; then bench/collab_summary.py writes best / final test accuracy.
#
# The teacher of distill and dgd is a `standard` run of TEACHER_MODEL, trained first
# (TEACHER_EPOCHS epochs) on the same data and noise and seed; the issue asks for cnn9, which
# takes ~25 min/epoch on the 2-core development machine, so the default is cnn4.
#
#   bench/collaborative.sh                       # the full grid (long)
#   EPOCHS=15 SEEDS=1 MODELS=mlp NOISES=symmetric:0.4 METHODS="standard dml2 grafting dgd distill" \
#     SUBSET=20000 THREADS=1 bench/collaborative.sh     # a small version (RESULTS.md)
#
# Environment (defaults in brackets):
#   EPOCHS [50]  SEEDS ["1 2 3"]  MODELS ["cnn4 mlp"]  NOISES ["none symmetric:0.4"]
#   METHODS ["standard dml2 dml3 grafting dgd distill"]  TEACHER_MODEL [cnn4]  TEACHER_EPOCHS [10]
#   SUBSET [0: all training samples]  THREADS [all cores]  JOBS [1: runs at a time]
#   OUT [runs/collab-bench]  WINNOW [build/winnow]  EXTRA (more --set args for every run)
#   FORCE [0] (1 reruns complete runs)  DRY_RUN [0] (1 prints the commands only)
# Each run's output goes to <run folder>.log. bench/lib.sh skips complete runs, resumes
# interrupted ones and lets several invocations share the grid.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
EPOCHS="${EPOCHS:-50}"
SEEDS="${SEEDS:-1 2 3}"
MODELS="${MODELS:-cnn4 mlp}"
NOISES="${NOISES:-none symmetric:0.4}"
METHODS="${METHODS:-standard dml2 dml3 grafting dgd distill}"
TEACHER_MODEL="${TEACHER_MODEL:-cnn4}"
TEACHER_EPOCHS="${TEACHER_EPOCHS:-10}"
SUBSET="${SUBSET:-0}"
THREADS="${THREADS:-$(nproc)}"
JOBS="${JOBS:-1}"
OUT="${OUT:-$ROOT/runs/collab-bench}"
WINNOW="${WINNOW:-$ROOT/build/winnow}"
EXTRA="${EXTRA:-}"

# shellcheck source=bench/lib.sh
source "$ROOT/bench/lib.sh"
bench_require_winnow
BENCH_MAX_JOBS="$JOBS"
# shellcheck disable=SC2206
every=(--set "train.threads=$THREADS" --set "data.subset=$SUBSET" $EXTRA)

noise_args() {
  if [[ "$1" == none ]]; then echo "--set noise.type=none"; else
    echo "--set noise.type=${1%%:*} --set noise.rate=${1##*:}"; fi
}

for noise in $NOISES; do
  label="${noise/:/-}"
  for seed in $SEEDS; do
    common=(--set "train.seed=$seed" --set "train.epochs=$EPOCHS" --set "data.val_fraction=0.1")
    # shellcheck disable=SC2207
    common+=($(noise_args "$noise"))
    teacher="$OUT/teacher-$TEACHER_MODEL/$label/seed$seed"
    if [[ " $METHODS " == *" dgd "* || " $METHODS " == *" distill "* ]]; then
      bench_run "$teacher" "${common[@]}" --set "train.epochs=$TEACHER_EPOCHS" \
        --set "model.name=$TEACHER_MODEL" --set "method.name=standard" "${every[@]}"
    fi
    for model in $MODELS; do
      for method in $METHODS; do
        args=("${common[@]}" --set "model.name=$model")
        case "$method" in
          standard) args+=(--set method.name=standard) ;;
          dml2) args+=(--set method.name=dml --set method.peers=2) ;;
          dml3) args+=(--set method.name=dml --set method.peers=3) ;;
          grafting) args+=(--set method.name=grafting --set method.peers=2) ;;
          dgd) args+=(--set method.name=dgd --set method.peers=2 --set "method.teacher='$teacher'") ;;
          distill) args+=(--set method.name=distill --set "method.teacher='$teacher'") ;;
          *) echo "unknown method $method" >&2; exit 1 ;;
        esac
        if [[ ("$method" == dgd || "$method" == distill) && "${DRY_RUN:-0}" != 1 ]] &&
           ! bench_complete "$teacher"; then
          echo "skip $method ($model, $label, seed $seed): its teacher $teacher is not complete" \
            "(failed, or another invocation trains it: run again once it is)" >&2
          continue
        fi
        bench_run_bg "$OUT/$model/$label/$method/seed$seed" "${args[@]}" "${every[@]}"
      done
    done
    bench_wait_all
  done
done
[[ "${DRY_RUN:-0}" == 1 ]] && exit 0
python3 "$ROOT/bench/collab_summary.py" "$OUT"
exit "$(bench_status)"
