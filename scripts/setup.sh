#!/usr/bin/env bash
# One-step set-up on a fresh Debian machine: system packages, a virtualenv with text2pixi,
# llama-cpp-python built for AVX2/FMA (cached), pixi.js from npm, and the requested models.
#   scripts/setup.sh [--test] [--browser] [--examples] [--peer] [--models "name ..."]
#   The Python packages come from a lock file (`make lock`): requirements/demo.txt (the service and
#   the local runtime) or, with --test, requirements/test.txt (that plus the test and bench tools).
#   (--peer also builds llama.cpp's llama-server and llama-bench, the benchmarks' peer)
# Idempotent: a second run only checks what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

lock=requirements/demo.txt
browser=0
examples=0
peer=0
models="qwen2.5-coder-1.5b-instruct-q4_k_m"
while [ $# -gt 0 ]; do
  case "$1" in
    --test) lock=requirements/test.txt ;;
    --browser) browser=1 ;;
    --examples) examples=1 ;;
    --peer) peer=1 ;;
    --models) models="$2"; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
PIXI_VERSION="8.22.0"
LOTTIE_WEB_VERSION="5.13.0"
cache="${TEXT2PIXI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/text2pixi}"
export TEXT2PIXI_CACHE_DIR="$cache"

need=()
command -v cmake >/dev/null || need+=(cmake)
command -v g++ >/dev/null || need+=(g++)
command -v npm >/dev/null || need+=(nodejs npm)
command -v redis-server >/dev/null || need+=(redis-server)
command -v shellcheck >/dev/null || need+=(shellcheck)
# The exports draw text with Liberation Sans, the font Chromium uses for the page's sans-serif (service/fonts.py).
fc-list 2>/dev/null | grep -q "LiberationSans-Regular" || [ -f /usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf ] \
  || need+=(fonts-liberation)
"$PYTHON" -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
if [ "$browser" = 1 ] && ! command -v chromium >/dev/null; then need+=(chromium); fi
if [ ${#need[@]} -gt 0 ]; then
  echo "==> system packages: ${need[*]}"
  if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo "==> virtualenv $VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
fi

if ! "$VENV/bin/python" -c 'import llama_cpp' 2>/dev/null; then
  echo "==> llama-cpp-python"
  wheel=$(PYTHON="$VENV/bin/python" scripts/build-llama-wheel.sh)
  # --no-deps: its dependencies are pinned in the lock file, installed below.
  "$VENV/bin/python" -m pip install -q --no-deps "$wheel"
fi

if [ "$peer" = 1 ]; then
  echo "==> llama-server and llama-bench (the benchmarks' peer)"
  PYTHON="$VENV/bin/python" scripts/build-llama-server.sh >/dev/null
fi

echo "==> text2pixi and its Python dependencies ($lock)"
"$VENV/bin/python" -m pip install -q --require-hashes -r "$lock"
"$VENV/bin/python" -m pip install -q --no-deps -e .
"$VENV/bin/python" -m pip check >/dev/null || { "$VENV/bin/python" -m pip check >&2; exit 1; }

# The tests also play Lottie exports in lottie-web. One npm install for every package: a --no-save install
# prunes what an earlier one put there.
npm_packages=("pixi.js@$PIXI_VERSION")
if [ "$browser" = 1 ]; then npm_packages+=("lottie-web@$LOTTIE_WEB_VERSION"); fi
npm_missing=0
for spec in "${npm_packages[@]}"; do
  manifest="$cache/npm/node_modules/${spec%@*}/package.json"
  if [ ! -f "$manifest" ] || ! grep -q "\"version\": \"${spec##*@}\"" "$manifest"; then npm_missing=1; fi
done
if [ "$npm_missing" = 1 ]; then
  echo "==> ${npm_packages[*]} (npm)"
  mkdir -p "$cache/npm"
  npm install --silent --no-audit --no-fund --no-save --prefix "$cache/npm" "${npm_packages[@]}"
fi

# The Next.js example's packages (its tests: tsc and node --test). npm ci from the lockfile, only when the
# lockfile changed since the last install; npm's own cache (~/.npm) keeps the tarballs for later runs.
example=examples/vercel-nextjs
if [ "$examples" = 1 ] && { [ ! -f "$example/node_modules/.package-lock.json" ] \
     || [ "$example/package-lock.json" -nt "$example/node_modules/.package-lock.json" ]; }; then
  echo "==> npm packages for $example"
  # Not `npm ci`: npm 11 refuses this lock file for lacking other platforms' optional @next/swc
  # packages; `install --no-save` follows the lock and leaves it untouched.
  (cd "$example" && npm install --no-save --silent --no-audit --no-fund)
fi

for m in $models; do
  echo "==> model $m"
  "$VENV/bin/text2pixi" model fetch "$m"
done
echo "==> set-up complete"
