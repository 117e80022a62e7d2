# Shared by the bench/*.sh drivers (source it; it sets no shell options of its own).
#
#   bench_require_winnow            exits 2 unless $WINNOW is an executable (skipped on DRY_RUN=1)
#   bench_run DIR ARGS...           one `winnow train ARGS... --out DIR`, in the way every
#                                   driver wants it:
#     - a complete run (DIR/summary.json says "complete": true) is skipped, unless FORCE=1;
#     - an interrupted run (DIR/checkpoint/trainer.json) is resumed from its own config.toml
#       (`winnow train --resume DIR`: the run's saved settings win over ARGS);
#     - the run is claimed first (mkdir DIR.claim is atomic), so several invocations of one
#       driver share a grid without overlap, e.g. one per core with train.threads=1; a claim is
#       released when the run ends or the driver is stopped (INT/TERM), and one left by a
#       killed (-9) driver is removed by hand;
#     - stdout and stderr go to DIR.log (appended, so a resumed run keeps its history);
#     - DRY_RUN=1 prints the command instead.
#   bench_run_bg DIR ARGS...        the same in the background, BENCH_MAX_JOBS [1] at a time;
#   bench_wait_all                  waits for the background runs.
#   A failed run is reported and counted in BENCH_FAILED (the driver goes on with the next);
#   BENCH_TOTAL counts the runs asked for. `exit "$(bench_status)"` ends a driver: 0 if none failed.
#
# Environment: WINNOW (the CLI binary), FORCE, DRY_RUN; BENCH_NAME names the driver in messages.

BENCH_NAME="${BENCH_NAME:-$(basename "$0")}"
BENCH_FAILED=0
BENCH_TOTAL=0
BENCH_CLAIM=""

bench_require_winnow() {
  if [[ "${DRY_RUN:-0}" != 1 && ! -x "$WINNOW" ]]; then
    echo "$BENCH_NAME: no executable CLI at WINNOW=$WINNOW (run 'make build', or set WINNOW)" >&2
    exit 2
  fi
}

bench_complete() {
  [[ -f "$1/summary.json" ]] && grep -q '"complete": *true' "$1/summary.json"
}

# Stopping a driver stops its runs too (a foreground child would outlive it: bash runs traps
# only after the foreground command returns, hence the background child and `wait`).
BENCH_CHILD=""
BENCH_JOBS=()
# Ends the foreground run, if any, and gives up its claim.
_bench_release() {
  if [[ -n "$BENCH_CHILD" ]]; then kill "$BENCH_CHILD" 2>/dev/null || true; fi
  if [[ -n "$BENCH_CLAIM" ]]; then rmdir "$BENCH_CLAIM" 2>/dev/null || true; fi
  BENCH_CHILD=""
  BENCH_CLAIM=""
}
# On the way out: that, and the background runs (each releases its own claim on TERM).
_bench_stop() {
  _bench_release
  local pid
  for pid in ${BENCH_JOBS[@]+"${BENCH_JOBS[@]}"}; do kill "$pid" 2>/dev/null || true; done
  BENCH_JOBS=()
}
_bench_traps() {
  trap '_bench_stop; exit 130' INT
  trap '_bench_stop; exit 143' TERM
  trap '_bench_stop' EXIT
}
_bench_traps

bench_run() {
  local dir="$1"; shift
  BENCH_TOTAL=$((BENCH_TOTAL + 1))
  if [[ "${FORCE:-0}" != 1 ]] && bench_complete "$dir"; then
    echo "skip (complete): $dir"
    return 0
  fi
  local cmd
  if [[ "${FORCE:-0}" != 1 && -f "$dir/checkpoint/trainer.json" ]]; then
    cmd=("$WINNOW" train --resume "$dir")
  else
    cmd=("$WINNOW" train "$@" --out "$dir")
  fi
  if [[ "${DRY_RUN:-0}" == 1 ]]; then
    printf '%q ' "${cmd[@]}"; printf '\n'
    return 0
  fi
  mkdir -p "$(dirname "$dir")"
  if ! mkdir "$dir.claim" 2>/dev/null; then
    echo "skip (claimed by another invocation; remove $dir.claim if none runs): $dir"
    return 0
  fi
  BENCH_CLAIM="$dir.claim"
  # FORCE=1 starts over: the CLI refuses a folder that already holds a run.
  if [[ "${FORCE:-0}" == 1 ]]; then rm -rf "$dir"; fi
  echo "run: $dir"
  echo "+ ${cmd[*]}" >>"$dir.log"
  local start rc=0
  start=$(date +%s)
  "${cmd[@]}" >>"$dir.log" 2>&1 &
  BENCH_CHILD=$!
  wait "$BENCH_CHILD" || rc=$?
  BENCH_CHILD=""
  if [[ "$rc" == 0 ]]; then
    echo "  done in $(($(date +%s) - start)) s"
  else
    BENCH_FAILED=$((BENCH_FAILED + 1))
    echo "  FAILED (exit $rc): $dir (see $dir.log)" >&2
    tail -n 5 "$dir.log" >&2 || true
  fi
  _bench_release
}

# bench_run_bg DIR ARGS...: bench_run in the background, BENCH_MAX_JOBS (default 1) at a
# time: when that many run, it first waits for the oldest. bench_wait_all
# waits for the rest. Their failures count in BENCH_FAILED once waited for.
bench_run_bg() {
  if (( ${#BENCH_JOBS[@]} >= ${BENCH_MAX_JOBS:-1} )); then _bench_wait_oldest; fi
  # A subshell starts with default traps: set them again so that stopping it stops its run.
  ( BENCH_JOBS=(); _bench_traps; BENCH_FAILED=0; bench_run "$@"; exit "$(bench_status)" ) &
  BENCH_JOBS+=($!)
  BENCH_TOTAL=$((BENCH_TOTAL + 1))
}

_bench_wait_oldest() {
  wait "${BENCH_JOBS[0]}" || BENCH_FAILED=$((BENCH_FAILED + 1))
  BENCH_JOBS=("${BENCH_JOBS[@]:1}")
}

bench_wait_all() {
  while (( ${#BENCH_JOBS[@]} > 0 )); do _bench_wait_oldest; done
}

bench_status() {
  if [[ "$BENCH_FAILED" == 0 ]]; then echo 0; else echo 1; fi
}
