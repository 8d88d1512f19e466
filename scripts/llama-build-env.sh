# shellcheck shell=bash
# The llama.cpp build settings shared by build-llama-wheel.sh and build-llama-server.sh (sourced by both):
# the llama-cpp-python version, the CMake flags, the cache directory and the cache key. They are the single
# source of truth for the local builds; tests/deploy/test_deploy_static.py checks the Dockerfile uses the same.
# shellcheck disable=SC2034  # the variables are used by the scripts that source this file

LLAMA_CPP_PYTHON_VERSION="${LLAMA_CPP_PYTHON_VERSION:-0.3.36}"
LLAMA_CMAKE_ARGS="${LLAMA_CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DLLAMA_CURL=OFF}"
PYTHON="${PYTHON:-python3}"
cache="${TEXT2PIXI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/text2pixi}"
# A change of version or flags gives a new cache key, so a stale build is never reused.
key=$(printf '%s %s' "$LLAMA_CPP_PYTHON_VERSION" "$LLAMA_CMAKE_ARGS" | sha256sum | cut -c1-12)
