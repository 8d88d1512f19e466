"""Backend benchmark: our in-process engine vs the worker's ``openai`` backend talking to llama-server.

The two generation backends a worker can run (``TEXT2PIXI_BACKEND``), on the same model file, thread count,
context size, token budget and prompts, in one run:

* ``engine``: :class:`text2pixi.engine.Engine` as deployed (the fast decoder), in a child process;
* ``openai``: :class:`text2pixi.engine.OpenAIBackend` in this process, sending the same messages, schema and
  re-asks to llama-server (built from the llama.cpp commit llama-cpp-python vendors, as bench/peer.py does).

Both use the worker's full path (``translate``: prompt checks, instructor's re-ask loop, validation), so the
difference is the generation engine and the HTTP hop. Each gets a warm-up request first (the engine primes its
prefix; llama-server fills its prompt cache); the order alternates per prompt.

    python bench/backend.py --model qwen2.5-coder-1.5b-instruct-q4_k_m --threads 1 --prompts 6

Prints each request, the medians and the engine / backend ratio; writes ``bench/results/backend-*.json``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

# The peer benchmark's parts, beside this file (Python puts a script's folder on sys.path).
from peer import WARMUP_PROMPT, EngineProcess, LlamaServer, Sample, llama_bin_dir, load_prompts, median, write_result

from text2pixi import registry
from text2pixi.core.errors import GenerationError
from text2pixi.engine import OpenAIBackend
from text2pixi.settings import Settings


class Remote:
    """The worker's openai backend, pointed at one llama-server."""

    def __init__(self, server: LlamaServer, model: str, max_tokens: int) -> None:
        self.backend = OpenAIBackend(Settings(model=model, backend="openai", max_tokens=max_tokens,
                                              openai_base_url=f"http://127.0.0.1:{server.port}/v1",
                                              openai_timeout=600))

    def sample(self, prompt: str) -> Sample:
        t0 = time.perf_counter()
        error, output = None, ""
        try:
            output = self.backend.translate(prompt).scene_json
        except GenerationError as exc:
            error, output = str(exc), exc.last_output
        wall = time.perf_counter() - t0
        attempts = self.backend.last_attempts
        first = attempts[0] if attempts else None
        return Sample(system="openai", prompt=prompt, valid=error is None, wall_s=wall,
                      ttft_s=first.ttft_s if first else 0.0,
                      output_tokens=sum(a.output_tokens for a in attempts),
                      decode_tps=first.decode_tps if first else 0.0, attempts=len(attempts), error=error,
                      output=output)


def summarize(samples: list[Sample]) -> dict[str, Any]:
    """Per-backend medians, and how the engine's wall time compares with the openai backend's."""
    by: dict[str, list[Sample]] = {}
    for s in samples:
        by.setdefault(s.system, []).append(s)
    systems = {
        name: {
            "median_wall_s": round(median([s.wall_s for s in rows]), 3),
            "median_ttft_s": round(median([s.ttft_s for s in rows]), 3),
            "median_output_tokens": median([float(s.output_tokens) for s in rows]),
            "median_decode_tps": round(median([s.decode_tps for s in rows]), 2),
            "validity": round(sum(s.valid for s in rows) / len(rows), 3),
            "first_attempt_validity": round(sum(s.valid and s.attempts == 1 for s in rows) / len(rows), 3),
        }
        for name, rows in by.items()
    }
    engine, remote = by.get("engine", []), {s.prompt: s for s in by.get("openai", [])}
    per_prompt = [s.wall_s / remote[s.prompt].wall_s for s in engine if s.prompt in remote and remote[s.prompt].wall_s]
    wall = {name: v["median_wall_s"] for name, v in systems.items()}
    return {"systems": systems, "ratios": {
        "engine / openai median wall": round(wall["engine"] / wall["openai"], 3)
        if wall.get("engine") and wall.get("openai") else None,
        "engine / openai median of per-prompt wall ratios": round(median(per_prompt), 3) if per_prompt else None,
    }}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=registry.DEFAULT_MODEL)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--max-tokens", type=int, default=768)
    parser.add_argument("--prompts", type=int, default=6, help="how many prompts of bench/prompts.txt to run")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)
    logging.getLogger("instructor").setLevel(logging.CRITICAL)

    args.out.mkdir(parents=True, exist_ok=True)
    model_path = registry.resolve(args.model, Settings().models_dir)
    prompts = load_prompts()[: args.prompts]
    load_start = os.getloadavg()  # other processes compete for the same cores: recorded, not hidden
    print(f"model {model_path.name}, {args.threads} threads, n_ctx {args.n_ctx}, {len(prompts)} prompts; "
          f"load average {load_start[0]:.1f}", flush=True)
    engine = EngineProcess("fast", args.model, args.threads, args.n_ctx, args.max_tokens)
    server = LlamaServer(llama_bin_dir(), model_path, args.threads, args.n_ctx, args.max_tokens,
                         args.out / "backend-llama-server.log")
    samples: list[Sample] = []
    try:
        server.start()
        runners: dict[str, Any] = {"engine": engine, "openai": Remote(server, args.model, args.max_tokens)}
        for runner in runners.values():
            runner.sample(WARMUP_PROMPT)  # the engine primes its prefix; llama-server fills its prompt cache
        names = list(runners)
        for i, prompt in enumerate(prompts):
            for name in names[i % 2:] + names[: i % 2]:
                s = runners[name].sample(prompt)
                if name == "engine":
                    s.system = "engine"
                samples.append(s)
                print(f"  [{i + 1:2d}] {name:6s} valid={s.valid!s:5s} attempts={s.attempts} "
                      f"tokens={s.output_tokens:4d} ttft={s.ttft_s:6.3f}s wall={s.wall_s:7.2f}s  {prompt}", flush=True)
    finally:
        engine.close()
        server.stop()

    write_result("backend", args, argv, model_path, load_start, summarize(samples), samples)
    return 0


if __name__ == "__main__":
    sys.exit(main())
