#!/bin/bash
# The GPU check of issue 17, for a machine with an NVIDIA GPU and PyTorch 2.x (CUDA) in its
# Python: one script, under 10 minutes.
#   1. builds winnow against that PyTorch's own LibTorch (torch.utils.cmake_prefix_path) in
#      build-cuda/, with the ABI flag it was built with;
#   2. runs the test suite with train.device defaulting to cuda (WINNOW_DEVICE=cuda; tests that
#      build their networks directly stay on the CPU) and keeps the ctest log;
#   3. times epochs of standard, Co-teaching and DivideMix on mlp, cnn4 and cnn9 on
#      Fashion-MNIST, fp32 and bf16, and Co-teaching on the mlp with fused peers on and off,
#      and prints one JSON line each.
# Output goes to $OUT (the device tool's folder) or bench/out/device/.
#
#   bash bench/device_check.sh            # everything
#   STEPS="timings" bash bench/device_check.sh
#
# Data: Debian's dataset-fashion-mnist, or the four IDX files in $FASHION_MNIST (copy
# /usr/share/datasets/fashion-mnist to data/fashion-mnist and carry it to the device).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-bench/out/device}
mkdir -p "$OUT"
STEPS=${STEPS:-"build tests timings"}
log() { echo "[$(date +%T)] $*" | tee -a "$OUT/device_check.log"; }

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$OUT/gpu.txt" 2>&1 || true
log "gpu: $(cat "$OUT/gpu.txt")"
PREFIX=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
ABI=$(python3 -c 'import torch; print(int(torch.compiled_with_cxx11_abi()))')
log "torch $(python3 -c 'import torch; print(torch.__version__, torch.version.cuda, torch.cuda.is_available())') prefix $PREFIX abi $ABI"

if [[ " $STEPS " == *" build "* ]]; then
  start=$SECONDS
  # The old C++ ABI (ABI=0) cannot link Debian's libfmt or libgtest (built with the new one):
  # fmt is then used header-only. CUDA arch: the GPU's own (faster to build than the fat list).
  ARCH=$(python3 -c 'import torch; m, n = torch.cuda.get_device_capability(); print(f"{m}.{n}")' 2>/dev/null || echo "9.0")
  cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_PREFIX_PATH="$PREFIX" \
        -DTORCH_CUDA_ARCH_LIST="$ARCH" -DWINNOW_BUILD_BENCH=ON \
        $([ "$ABI" = 0 ] && echo "-DCMAKE_CXX_FLAGS=-DFMT_HEADER_ONLY") > "$OUT/cmake.log" 2>&1 \
    && cmake --build build-cuda -j "$(nproc)" > "$OUT/build.log" 2>&1
  log "build: rc $? in $((SECONDS - start)) s (logs: cmake.log, build.log)"
fi

if [[ " $STEPS " == *" tests "* ]]; then
  start=$SECONDS
  WINNOW_DEVICE=cuda timeout 240 ctest --test-dir build-cuda -j 4 --timeout 240 > "$OUT/ctest.log" 2>&1
  log "tests on cuda: rc $? in $((SECONDS - start)) s: $(grep -E 'tests passed|tests failed' "$OUT/ctest.log")"
fi

if [[ " $STEPS " == *" timings "* ]]; then
  ROOT=${FASHION_MNIST:-}
  [ -z "$ROOT" ] && [ -d data/fashion-mnist ] && ROOT=data/fashion-mnist
  DATA=(--set data.name=fashion-mnist)
  [ -n "$ROOT" ] && DATA+=(--set "data.root=$ROOT")
  for model in mlp cnn4 cnn9; do
    for method in standard coteaching dividemix; do
      for precision in fp32 bf16; do
        # The whole check stays under 10 minutes: later timings are skipped, and say so.
        if (( SECONDS > 540 )); then log "out of time: skipped $model $method $precision"; continue; fi
        dir=$(mktemp -d)
        extra=()
        [ "$method" = coteaching ] && extra=(--set method.forget_rate=0.5)
        [ "$method" = dividemix ] && extra=(--set method.warm_up=1)
        start=$SECONDS
        timeout 60 build-cuda/winnow train --quiet --out "$dir/run" "${DATA[@]}" --set noise.type=symmetric \
          --set noise.rate=0.5 --set train.device=cuda --set "train.precision=$precision" \
          --set "model.name=$model" --set "method.name=$method" --set train.epochs=2 "${extra[@]}" \
          > "$dir/log" 2>&1
        rc=$?
        epochs=$(grep -o '"epoch_seconds":[0-9.e-]*' "$dir/run/metrics.jsonl" 2>/dev/null | cut -d: -f2 | paste -sd, -)
        acc=$(python3 -c "import json; print(json.load(open('$dir/run/summary.json'))['final_test_accuracy'])" 2>/dev/null)
        echo "{\"model\": \"$model\", \"method\": \"$method\", \"precision\": \"$precision\", \"rc\": $rc, \"epoch_seconds\": [${epochs}], \"final_test_accuracy\": ${acc:-null}, \"wall_s\": $((SECONDS - start))}" | tee -a "$OUT/timings.jsonl"
        [ $rc -ne 0 ] && tail -3 "$dir/log" | tee -a "$OUT/device_check.log"
        rm -rf "$dir"
      done
    done
  done
  # Fused peers (method.fused): "auto" fuses on CUDA; the separate passes for comparison.
  for fused in on off; do
    dir=$(mktemp -d)
    timeout 120 build-cuda/winnow train --quiet --out "$dir/run" "${DATA[@]}" --set noise.type=symmetric \
      --set noise.rate=0.5 --set train.device=cuda --set model.name=mlp --set method.name=coteaching \
      --set method.forget_rate=0.5 --set "method.fused=$fused" --set train.epochs=2 > "$dir/log" 2>&1
    epochs=$(grep -o '"epoch_seconds":[0-9.e-]*' "$dir/run/metrics.jsonl" 2>/dev/null | cut -d: -f2 | paste -sd, -)
    echo "{\"model\": \"mlp\", \"method\": \"coteaching\", \"fused\": \"$fused\", \"epoch_seconds\": [${epochs}]}" | tee -a "$OUT/timings.jsonl"
    rm -rf "$dir"
  done
fi
log "done"
