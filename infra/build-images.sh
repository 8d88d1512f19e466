#!/usr/bin/env bash
# Build the four images from the repository root with templates/python3-llama/Dockerfile:
#   $REGISTRY/text2pixi-worker:$TAG                  (target worker)
#   $REGISTRY/text2pixi-{translate,status,warmup}:$TAG (target function, --build-arg FUNCTION=NAME)
# The builder stage (llama-cpp-python compiled for AVX2/FMA + OpenBLAS) is shared: it compiles once.
#
#   infra/build-images.sh            build only (checks that everything builds)
#   infra/build-images.sh --load     build into the local Docker image store
#   infra/build-images.sh --push     build and push (CI: REGISTRY=ghcr.io/<owner> TAG=<sha>)
# Optional: EXTRA_TAG=latest (a second tag), BUILDX_CACHE=type=gha,scope=text2pixi (shared cache).
# Why not `faas-cli build`: it builds from ./template/<lang> in a copy of the handler folder,
# and these images need the whole package (pip install .) from the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."

REGISTRY="${REGISTRY:-ghcr.io/text2pixi}"
TAG="${TAG:-latest}"
EXTRA_TAG="${EXTRA_TAG:-}"
BUILDX_CACHE="${BUILDX_CACHE:-}"
FUNCTIONS=(translate status warmup)

output=()
case "${1:-}" in
  "") ;;
  --load) output=(--load) ;;
  --push) output=(--push) ;;
  *) echo "usage: $0 [--load|--push]" >&2; exit 2 ;;
esac

cache=()
if [ -n "$BUILDX_CACHE" ]; then
  cache=(--cache-from "$BUILDX_CACHE" --cache-to "$BUILDX_CACHE,mode=max")
fi

build() {  # TARGET IMAGE_NAME [docker buildx args...]
  local target="$1" name="$2"
  shift 2
  local tags=(-t "$REGISTRY/text2pixi-$name:$TAG")
  if [ -n "$EXTRA_TAG" ]; then tags+=(-t "$REGISTRY/text2pixi-$name:$EXTRA_TAG"); fi
  echo "==> $REGISTRY/text2pixi-$name:$TAG (target $target)" >&2
  docker buildx build --platform linux/amd64 -f templates/python3-llama/Dockerfile --target "$target" \
    "$@" "${tags[@]}" "${output[@]}" "${cache[@]}" \
    --label "org.opencontainers.image.source=https://github.com/${GITHUB_REPOSITORY:-text2pixi/text2pixi}" .
}

build worker worker
for fn in "${FUNCTIONS[@]}"; do
  build function "$fn" --build-arg "FUNCTION=$fn"
done
