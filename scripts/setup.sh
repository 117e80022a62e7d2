#!/usr/bin/env bash
# Installs every Debian package winnow needs. Idempotent: a second run does nothing
# when everything is present. Works as root on a fresh Debian 12 machine (uses sudo otherwise).
# `setup.sh --clang` also installs clang with its sanitizer and libFuzzer runtimes, which
# `make sanitize` and `make fuzz` build with.
set -euo pipefail

packages=(
  cmake ninja-build g++ ccache make pkg-config
  libtorch-dev libopenblas0-openmp libgloo-dev
  libgtest-dev libgmock-dev
  libcli11-dev libtomlplusplus-dev nlohmann-json3-dev libfmt-dev zlib1g-dev libstb-dev
  dataset-fashion-mnist
  python3-torch python3-numpy
  chromium
)
clang_packages=(clang libclang-rt-14-dev)

for arg in "$@"; do
  case "$arg" in
    --clang) packages+=("${clang_packages[@]}") ;;
    *) echo "setup.sh: unknown option '$arg' (allowed: --clang)" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
