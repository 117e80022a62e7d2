#!/usr/bin/env bash
# Runs each libFuzzer harness of build-asan (make fuzz builds them) for FUZZ_SECONDS, one after
# another. Each starts from its committed seeds in fuzz/corpus/<target> and writes the inputs it
# finds new into a scratch corpus, $FUZZ_BUILD/fuzz-corpus/<target> (kept between runs, never
# the committed one). A crashing input goes to fuzz/crashes/<target>-crash-<sha1> (and
# leak-, timeout-, oom-); the log of each run is $FUZZ_BUILD/fuzz-logs/<target>.log.
# Exits non-zero when any harness crashed.
#
#   FUZZ_SECONDS   seconds per harness (default 60)
#   FUZZ_TARGETS   the harnesses to run (default: all of them)
#   FUZZ_BUILD     the build folder (default build-asan)
#   FUZZ_ARGS      further libFuzzer flags, e.g. "-jobs=2 -workers=2" or "-max_len=65536"
set -uo pipefail
cd "$(dirname "$0")/.."

build=${FUZZ_BUILD:-build-asan}
seconds=${FUZZ_SECONDS:-60}
targets=${FUZZ_TARGETS:-idx cifar csv npy label_file config checkpoint_json state_archive image_folder}
mkdir -p fuzz/crashes "$build/fuzz-logs"

# Undefined behaviour and leaks are crashes; stack traces name the winnow frame.
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/scripts/lsan.supp}

failed=()
for target in $targets; do
  binary=$build/fuzz/fuzz_$target
  if [ ! -x "$binary" ]; then
    echo "fuzz: $binary is missing (make fuzz builds it)" >&2
    failed+=("$target")
    continue
  fi
  scratch=$build/fuzz-corpus/$target
  log=$build/fuzz-logs/$target.log
  mkdir -p "$scratch"
  dict=()
  if [ -f "fuzz/dict/$target.dict" ]; then dict=(-dict="fuzz/dict/$target.dict"); fi
  echo "fuzz: $target for ${seconds}s (log $log)"
  # shellcheck disable=SC2086
  "$binary" -max_total_time="$seconds" -timeout=60 -print_final_stats=1 \
    -artifact_prefix="fuzz/crashes/$target-" "${dict[@]}" ${FUZZ_ARGS:-} \
    "$scratch" "fuzz/corpus/$target" > "$log" 2>&1
  status=$?
  runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  corpus=$(grep -o 'corp: [0-9]*/[0-9A-Za-z]*' "$log" | tail -1)
  echo "fuzz: $target: ${runs:-?} executions in ${seconds}s, ${corpus:-corpus ?}, exit $status"
  if [ "$status" -ne 0 ]; then
    failed+=("$target")
    grep -E '^(==[0-9]+==ERROR|SUMMARY|\*\*\*|artifact_prefix|Test unit written)' "$log" | head -20 >&2
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: crashes in: ${failed[*]} (inputs in fuzz/crashes/, logs in $build/fuzz-logs/)" >&2
  exit 1
fi
echo "fuzz: no crashes"
