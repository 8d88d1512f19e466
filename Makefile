# text2pixi: the two commands are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
DEFAULT_MODEL := qwen2.5-coder-1.5b-instruct-q4_k_m
SMALL_MODEL := smollm2-135m-instruct-q4_1
PROMPT ?= three blue squares spinning in a row
OUT ?= out/demo

.PHONY: setup setup-test demo test test-fast lint bench clean

setup:  ## install everything for the default model
	scripts/setup.sh --models "$(DEFAULT_MODEL)"

setup-test:  ## install everything the tests need (both models, chromium)
	scripts/setup.sh --browser --models "$(SMALL_MODEL) $(DEFAULT_MODEL)"

demo: setup  ## translate PROMPT end to end on the default model
	$(VENV)/bin/text2pixi translate "$(PROMPT)" --out "$(OUT)"
	@echo "open $(OUT)/scene.html in a browser to watch it"

test: setup-test  ## install, then lint, type-check and run every test (the default-model ones included)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy
	TEXT2PIXI_SLOW=1 $(PY) -m pytest

test-fast: setup-test  ## skip the tests that need the default model
	$(PY) -m pytest -m "not slow"

lint:
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy

bench: setup  ## engine benchmark on the default model; writes bench/results/engine-*.json
	$(PY) bench/engine.py --model "$(DEFAULT_MODEL)"

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache
