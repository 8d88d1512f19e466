#!/usr/bin/env bash
# Build llama-cpp-python from source for AVX2/FMA once, and cache the wheel.
# Prints the wheel's path. A second run with the same version and flags reuses the cached wheel.
# Version, flags and cache key come from llama-build-env.sh (shared with build-llama-server.sh).
set -euo pipefail

# shellcheck source=scripts/llama-build-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/llama-build-env.sh"
dir="$cache/wheels/llama-cpp-python-$LLAMA_CPP_PYTHON_VERSION-$key"

mkdir -p "$dir"
wheel=$(find "$dir" -maxdepth 1 -name "llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION-*.whl" | head -n1)
if [ -n "$wheel" ]; then
  echo "llama-cpp-python: cached wheel $wheel" >&2
  echo "$wheel"
  exit 0
fi

log="$dir/build.log"
echo "llama-cpp-python $LLAMA_CPP_PYTHON_VERSION: building from source (about 8-13 minutes on 2 cores)" >&2
echo "  CMAKE_ARGS=$LLAMA_CMAKE_ARGS" >&2
echo "  full log: $log" >&2
start=$(date +%s)
set +e
CMAKE_ARGS="$LLAMA_CMAKE_ARGS" FORCE_CMAKE=1 CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
  "$PYTHON" -m pip wheel -v --no-deps --no-binary llama-cpp-python \
  "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" -w "$dir" 2>&1 \
  | tee "$log" \
  | grep --line-buffered -oE '^ *\[[0-9]+/[0-9]+\]' \
  | while read -r step; do printf '\r  compiling %s' "$step" >&2; done
status=${PIPESTATUS[0]}
set -e
printf '\n' >&2
wheel=$(find "$dir" -maxdepth 1 -name "llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION-*.whl" | head -n1)
if [ "$status" -ne 0 ] || [ -z "$wheel" ]; then
  echo "llama-cpp-python build failed (exit $status); last lines of $log:" >&2
  tail -n 30 "$log" >&2
  exit 1
fi
echo "llama-cpp-python: built $wheel in $(( $(date +%s) - start ))s" >&2
echo "$wheel"
