# text2pixi: the two commands are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
DEFAULT_MODEL := qwen2.5-coder-1.5b-instruct-q4_k_m
SMALL_MODEL := smollm2-135m-instruct-q4_1
PROMPT ?= three blue squares spinning in a row
OUT ?= out/demo

comma := ,
.PHONY: setup setup-fast setup-test lock demo demo-engine up down status test test-fast lint bench bench-overhead bench-peer bench-memory bench-progress bench-export chaos fuzz scale eval gallery gallery-check clean

setup:  ## install the service and the local runtime from requirements/demo.txt (no test tools), the default model
	scripts/setup.sh --models "$(DEFAULT_MODEL)"

setup-fast:  ## what the fast tier needs: redis-server, weed, shellcheck, node, the venv (requirements/test.txt), pixi.js; no model, no chromium
	scripts/setup.sh --test --examples --models ""

setup-test:  ## install everything the tests need (requirements/test.txt, both models, chromium, the Next.js example's packages)
	scripts/setup.sh --test --peer --browser --examples --models "$(SMALL_MODEL) $(DEFAULT_MODEL)"

# The lock files, one per install (Python 3.11 and newer, with hashes; llama-cpp-python is built locally
# by scripts/build-llama-wheel.sh, so it is left out). test.txt: make test and CI; demo.txt: make demo;
# service.txt: the images; base.txt: the engine and CLI alone. The last three are subsets of test.txt.
UV_VERSION := 0.13.8
LOCK := $(VENV)/bin/uv pip compile pyproject.toml --quiet --universal --python-version 3.11 --generate-hashes \
	--no-emit-package llama-cpp-python --custom-compile-command "make lock"

lock:  ## regenerate requirements/{test,demo,service,base}.txt from pyproject.toml (UPGRADE=1: newest releases)
	$(PY) -m pip install -q "uv==$(UV_VERSION)"
	$(LOCK) --extra test $(if $(UPGRADE),--upgrade) -o requirements/test.txt
	$(LOCK) --extra service --extra local -c requirements/test.txt -o requirements/demo.txt
	$(LOCK) --extra service -c requirements/test.txt -o requirements/service.txt
	$(LOCK) -c requirements/test.txt -o requirements/base.txt

demo: up  ## the main job: the whole service on loopback, then PROMPT through gateway -> translate -> worker
	$(VENV)/bin/text2pixi submit "$(PROMPT)" --out "$(OUT)"
	@echo "open $(OUT)/scene.html in a browser to watch it"

demo-engine: setup  ## the engine alone, in this process (no queue, no gateway)
	$(VENV)/bin/text2pixi translate "$(PROMPT)" --out "$(OUT)"

up: setup  ## start redis-server, S3 (weed), 2 warm workers, the functions and the gateway on 127.0.0.1
	$(VENV)/bin/text2pixi stack up $(if $(WORKERS),--workers $(WORKERS)) $(if $(THREADS),--threads $(THREADS))

down:  ## stop the local stack (Redis and S3 data stay in .stack/)
	$(VENV)/bin/text2pixi stack down

status:  ## show the local stack's processes
	$(VENV)/bin/text2pixi stack status

# The fast tier: no model, no browser, no whole stack, no fresh install (tests/README.md). Real redis-server and S3 still run.
FAST_TESTS := not model and not slow and not browser and not stack and not install

test: setup-test  ## install, then lint (ruff, import contracts, mypy) and run every test, the default-model ones included
	$(MAKE) --no-print-directory lint
	TEXT2PIXI_SLOW=1 $(PY) -m pytest

test-fast: setup-fast  ## lint, then the tests that need no model, browser or whole stack (a few minutes)
	$(MAKE) --no-print-directory lint
	$(PY) -m pytest -m "$(FAST_TESTS)"

lint:  ## ruff, the architecture's import contracts (pyproject.toml [tool.importlinter]) and mypy
	$(VENV)/bin/ruff check src tests bench eval scripts
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

bench: setup  ## engine benchmark on the default model; writes bench/results/engine-*.json
	$(PY) bench/engine.py --model "$(DEFAULT_MODEL)"

bench-overhead: up  ## gateway + function + queue overhead against the running stack
	$(PY) bench/overhead.py

PEER_PROMPTS ?= 6
# One thread: per worker as in the 2 x 1 local stack, and where drafts stay exact (docs/performance.md).
bench-peer: setup  ## our engine (fast, reference) vs llama.cpp's llama-server + llama-bench, same model/threads/prompts
	PYTHON=$(PY) scripts/build-llama-server.sh >/dev/null
	$(PY) bench/peer.py --model "$(or $(MODEL),$(DEFAULT_MODEL))" --threads $(or $(THREADS),1) \
		--prompts $(PEER_PROMPTS) $(if $(SYSTEMS),--systems $(SYSTEMS))

bench-memory: setup  ## peak RSS per worker for each model, KV cache at n_ctx, workers per 6Gi
	$(PY) bench/memory.py

bench-progress: setup  ## progress events: first event, first object vs the whole generation, decode cost; docs/bench-progress.json
	$(PY) bench/progress.py --model "$(or $(MODEL),$(SMALL_MODEL))" --threads $(or $(THREADS),2) \
		--prompts $(or $(PROMPTS),6) --out docs/bench-progress.json $(if $(APPEND),--append)

bench-export: setup-fast  ## a 3 s 800x600 30 fps GIF (and MP4, WebM, Lottie) of each gallery scene on one core; docs/bench-export.json
	$(PY) bench/export.py --core 0 --json docs/bench-export.json

# Reliability runs (docs/reliability.md): each starts its own stack on free loopback ports.
CHAOS_ROUNDS ?= 9
FUZZ_COUNT ?= 10000
OVERLOAD_FACTOR ?= 20
OVERLOAD_SECONDS ?= 60
INJECTION_COUNT ?= 250
RELIABILITY ?= docs/reliability

chaos: setup-test  ## faults (CHAOS_ROUNDS x 6 kinds), fuzzing, overload and the injection corpus; JSON in docs/reliability/
	$(PY) -m tests.faults.chaos --rounds $(CHAOS_ROUNDS) --json $(RELIABILITY)/chaos.json
	$(PY) -m tests.faults.fuzz --count $(FUZZ_COUNT) --json $(RELIABILITY)/fuzz.json
	$(PY) -m tests.faults.overload --factor $(OVERLOAD_FACTOR) --duration $(OVERLOAD_SECONDS) \
		--json $(RELIABILITY)/overload.json
	TEXT2PIXI_INJECTION_COUNT=$(INJECTION_COUNT) $(PY) -m pytest -q -s tests/browser/test_injection_browser.py

fuzz: setup-test  ## FUZZ_COUNT generated requests against every documented endpoint
	$(PY) -m tests.faults.fuzz --count $(FUZZ_COUNT) --json $(RELIABILITY)/fuzz.json

scale:  ## scale to the limit: 1x2 vs 2x1 layouts through the gateway; results and plots in bench/results/
	scripts/setup.sh --test --models "$(or $(MODEL),$(DEFAULT_MODEL))"  # test.txt has the [bench] plots and psutil
	$(PY) bench/scale.py --model "$(or $(MODEL),$(DEFAULT_MODEL))" --layouts "$(or $(LAYOUTS),1x2$(comma)2x1)"

eval: setup  ## quality eval of MODEL (default: the default model) on eval/prompts.toml; results in eval/results/
	$(PY) eval/run.py --model "$(or $(MODEL),$(DEFAULT_MODEL))"

gallery: setup-test  ## render docs/gallery/ from its stored scenes (REGENERATE=1: ask the default model again first)
	$(PY) scripts/gallery.py $(if $(REGENERATE),--regenerate)

gallery-check: setup-test  ## visual regression: render the gallery again and compare with the committed PNGs
	$(PY) scripts/gallery.py --check

clean:
	rm -rf out .pytest_cache .mypy_cache .ruff_cache
