#!/usr/bin/env bash
# Build llama.cpp's own `llama-server` and `llama-bench` (the benchmarks' peer) from the very llama.cpp
# commit that llama-cpp-python vendors: the PyPI sdist carries it in vendor/llama.cpp. Same CMake flags
# as the wheel (AVX2/FMA). Cached: a second run prints the cached bin directory at once.
# Prints the directory holding the two binaries.
set -euo pipefail

# shellcheck source=scripts/llama-build-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/llama-build-env.sh"
dir="$cache/llama-server/$LLAMA_CPP_PYTHON_VERSION-$key"
bin="$dir/bin"

if [ -x "$bin/llama-server" ] && [ -x "$bin/llama-bench" ]; then
  echo "llama-server: cached $bin" >&2
  echo "$bin"
  exit 0
fi

mkdir -p "$dir" "$cache/sdist"
sdist="$cache/sdist/llama_cpp_python-$LLAMA_CPP_PYTHON_VERSION.tar.gz"
if [ ! -s "$sdist" ]; then
  echo "downloading the llama-cpp-python $LLAMA_CPP_PYTHON_VERSION sdist from PyPI" >&2
  "$PYTHON" -m pip download --no-deps --no-binary :all: "llama-cpp-python==$LLAMA_CPP_PYTHON_VERSION" \
    -d "$cache/sdist" >&2
fi
src="$dir/src"
rm -rf "$src" && mkdir -p "$src"
tar -xzf "$sdist" -C "$src" --strip-components=1
llama="$src/vendor/llama.cpp"
log="$dir/build.log"
echo "llama-server + llama-bench: building from $llama (a few minutes on 2 cores); log: $log" >&2
start=$(date +%s)
set +e
{
  # shellcheck disable=SC2086  # the flags are a word list on purpose
  cmake -S "$llama" -B "$dir/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
    -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON -DLLAMA_BUILD_TOOLS=ON \
    $LLAMA_CMAKE_ARGS &&
  cmake --build "$dir/build" --target llama-server llama-bench -j "$(nproc)"
} 2>&1 | tee "$log" | grep --line-buffered -oE '^\[ *[0-9]+%\]' \
  | while read -r step; do printf '\r  compiling %s' "$step" >&2; done
status=${PIPESTATUS[0]}
set -e
printf '\n' >&2
if [ "$status" -ne 0 ] || [ ! -x "$dir/build/bin/llama-server" ] || [ ! -x "$dir/build/bin/llama-bench" ]; then
  echo "llama-server build failed (exit $status); last lines of $log:" >&2
  tail -n 30 "$log" >&2
  exit 1
fi
mkdir -p "$bin"
cp "$dir/build/bin/llama-server" "$dir/build/bin/llama-bench" "$bin/"
rm -rf "$dir/build" "$src"
echo "llama-server: built in $(( $(date +%s) - start ))s" >&2
echo "$bin"
