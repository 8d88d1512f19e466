#!/usr/bin/env bash
# Build the four images with templates/python3-llama/Dockerfile, from the build contexts that
# `faas-cli build -f stack.yml` makes (so CI builds exactly what `faas-cli up` would):
#   $REGISTRY/text2pixi-{translate,status,warmup}:$TAG (target function, --build-arg FUNCTION=NAME)
#   $REGISTRY/text2pixi-worker:$TAG                  (target worker, from translate's context)
# The builder stage (llama-cpp-python compiled for AVX2/FMA) is shared: it compiles once.
#
#   infra/build-images.sh               build only (checks that everything builds)
#   infra/build-images.sh --load        build into the local Docker image store
#   infra/build-images.sh --push        build and push (CI: REGISTRY=ghcr.io/<owner> TAG=<sha>)
#   infra/build-images.sh --context DIR only write the contexts to DIR/<function> (no Docker)
# Optional: EXTRA_TAG=latest (a second tag), BUILDX_CACHE=type=gha,scope=text2pixi (shared cache).
#
# A context, as faas-cli's builder makes it (go-sdk builder.CreateBuildContext): the template's files
# at the root, the handler folder's files in function/, each stack.yml `configuration.copy` path
# under function/<path>. tests/deploy/test_deploy_static.py checks this against those rules.
set -euo pipefail
cd "$(dirname "$0")/.."

REGISTRY="${REGISTRY:-ghcr.io/text2pixi}"
TAG="${TAG:-latest}"
EXTRA_TAG="${EXTRA_TAG:-}"
BUILDX_CACHE="${BUILDX_CACHE:-}"
FUNCTIONS=(translate status warmup)
TEMPLATE=template/python3-llama
# stack.yml's configuration.copy list (one "    - path" line each).
mapfile -t COPY_PATHS < <(sed -n '/^configuration:/,/^[^ #]/s/^    - //p' stack.yml)

contexts=""
output=()
case "${1:-}" in
  "") ;;
  --load) output=(--load) ;;
  --push) output=(--push) ;;
  --context) contexts="${2:?usage: $0 --context DIR}" ;;
  *) echo "usage: $0 [--load|--push|--context DIR]" >&2; exit 2 ;;
esac

context() {  # FUNCTION DIR: write FUNCTION's build context to DIR
  local fn="$1" dir="$2" path
  rm -rf "$dir"
  mkdir -p "$dir/function"
  cp -RL "$TEMPLATE/." "$dir/"
  cp -RL "functions/$fn/." "$dir/function/"
  for path in "${COPY_PATHS[@]}"; do
    mkdir -p "$dir/function/$(dirname "$path")"
    cp -RL "$path" "$dir/function/$path"
  done
}

if [ -n "$contexts" ]; then
  for fn in "${FUNCTIONS[@]}"; do context "$fn" "$contexts/$fn"; done
  exit 0
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for fn in "${FUNCTIONS[@]}"; do context "$fn" "$work/$fn"; done

cache=()
if [ -n "$BUILDX_CACHE" ]; then
  cache=(--cache-from "$BUILDX_CACHE" --cache-to "$BUILDX_CACHE,mode=max")
fi

build() {  # TARGET IMAGE_NAME CONTEXT [docker buildx args...]
  local target="$1" name="$2" dir="$3"
  shift 3
  local tags=(-t "$REGISTRY/text2pixi-$name:$TAG")
  if [ -n "$EXTRA_TAG" ]; then tags+=(-t "$REGISTRY/text2pixi-$name:$EXTRA_TAG"); fi
  echo "==> $REGISTRY/text2pixi-$name:$TAG (target $target)" >&2
  docker buildx build --platform linux/amd64 -f "$dir/Dockerfile" --target "$target" \
    "$@" "${tags[@]}" "${output[@]}" "${cache[@]}" \
    --label "org.opencontainers.image.source=https://github.com/${GITHUB_REPOSITORY:-text2pixi/text2pixi}" "$dir"
}

build worker worker "$work/translate"
for fn in "${FUNCTIONS[@]}"; do
  build function "$fn" "$work/$fn" --build-arg "FUNCTION=$fn"
done
