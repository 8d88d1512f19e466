"""Engine benchmark: prefill and decode rates, grammar cost, cold vs warm first token, per-prompt wall time.

Everything is measured in one run, on one model file and thread count, so the ratios compare
paths under the same conditions:

* ``prefill``: evaluating the system prefix from an empty cache (prompt tokens/s);
* ``cold`` vs ``warm``: time to first token of the first request after load vs later requests;
* ``constrained``: our sample-first grammar loop (what the engine uses);
* ``free``: the same loop with no grammar (the model's unconstrained rate, the ceiling);
* ``llama-cpp-python response_format``: the library's own JSON-schema path, for reference;
* per prompt: output tokens, attempts, time to first token and wall time of ``Engine.translate``.

    python bench/engine.py --model qwen2.5-coder-1.5b-instruct-q4_k_m --threads 2

Prints a table and writes ``bench/results/engine-<model>-<time>.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time
from pathlib import Path

from text2pixi.core.errors import GenerationError
from text2pixi.core.prompt import build_messages
from text2pixi.core.scene import scene_json_schema
from text2pixi.engine import Engine
from text2pixi.engine.grammar import compact_gbnf
from text2pixi.settings import Settings

PROMPTS = {
    "one object": "a red circle in the centre moves to the right",
    "two objects": "a green star fades out while an orange square rotates slowly",
    "three objects": "three blue squares spinning in a row",
    "text": "the word Hello grows bigger in the middle",
    "sequence": "a yellow ball moves to the top right, then turns purple",
}
TARGETS = {
    "constrained / free decode rate": ">= 0.85",
    "cold / warm time to first token": ">= 5",
    "one-object wall (s)": "< 8",
    "three-object wall (s)": "< 20",
}


def _free_and_constrained(engine: Engine, prompt: str, max_tokens: int) -> dict[str, float]:
    tokens = engine._tokens(build_messages(prompt))
    gbnf = compact_gbnf(scene_json_schema())
    keep = engine.prefix_tokens
    constrained = engine._decoder.generate(tokens, gbnf, max_tokens=max_tokens, max_reuse=keep)
    free = engine._decoder.generate(tokens, None, max_tokens=max(constrained.stats.output_tokens, 32), max_reuse=keep)
    return {
        "constrained_tokens": constrained.stats.output_tokens,
        "constrained_tps": constrained.stats.decode_tps,
        "constrained_full_passes": constrained.stats.full_passes,
        "free_tokens": free.stats.output_tokens,
        "free_tps": free.stats.decode_tps,
    }


def _response_format_tps(engine: Engine, prompt: str, max_tokens: int) -> dict[str, float]:
    """llama-cpp-python's own grammar path (full-vocabulary grammar every step), same prompt."""
    llm = engine.llm
    t0 = time.perf_counter()
    first: float | None = None
    n = 0
    for chunk in llm.create_chat_completion(
        messages=build_messages(prompt),
        response_format={"type": "json_object", "schema": scene_json_schema()},
        temperature=0.0,
        max_tokens=max_tokens,
        stream=True,
    ):
        if chunk["choices"][0]["delta"].get("content"):
            n += 1
            first = first or time.perf_counter()
    end = time.perf_counter()
    decode = end - (first or end)
    return {"tokens": n, "tps": (n - 1) / decode if decode > 0 else 0.0, "ttft_s": (first or end) - t0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="registered model name or .gguf path")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--max-tokens", type=int, default=600)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--skip-reference", action="store_true", help="skip llama-cpp-python's response_format path")
    args = parser.parse_args(argv)
    logging.getLogger("instructor").setLevel(logging.CRITICAL)

    overrides: dict[str, object] = {}
    if args.model:
        overrides["model"] = args.model
    if args.threads:
        overrides["n_threads"] = args.threads
    settings = Settings(**overrides)  # type: ignore[arg-type]
    engine = Engine(settings)
    print(f"model {engine.model_id}, {settings.n_threads} threads, n_ctx {settings.n_ctx}, load {engine.load_s:.1f}s")

    # Cold: the first request after load evaluates the whole prefix.
    cold = engine.translate(PROMPTS["one object"], max_tokens=args.max_tokens)
    prefix_tokens = cold.attempts[0].prompt_tokens
    result: dict[str, object] = {
        "model": engine.model_id,
        "threads": settings.n_threads,
        "n_ctx": settings.n_ctx,
        "load_s": round(engine.load_s, 2),
        "cold": {"ttft_s": round(cold.prime_s + cold.attempts[0].ttft_s, 3), "prompt_tokens": prefix_tokens,
                 "prefix_tokens": engine.prefix_tokens, "prime_s": cold.prime_s,
                 "prefill_tps": round(engine.prefix_tokens / cold.prime_s, 1)},
        "prompts": [],
    }

    rows = []
    for label, prompt in PROMPTS.items():
        try:
            t = engine.translate(prompt, max_tokens=args.max_tokens)
            valid, attempts, tokens, ttft = True, len(t.attempts), t.output_tokens, t.attempts[0].ttft_s
            wall, tps, scene = t.wall_s, t.attempts[-1].decode_tps, t.scene_json
        except GenerationError as exc:
            valid, attempts, tokens, ttft, wall, tps, scene = False, exc.attempts, 0, 0.0, 0.0, 0.0, str(exc)
        rates = _free_and_constrained(engine, prompt, args.max_tokens)
        row = {"label": label, "prompt": prompt, "valid": valid, "attempts": attempts, "output_tokens": tokens,
               "warm_ttft_s": ttft, "wall_s": wall, "decode_tps": tps, "scene": scene,
               "rejections": [a.error for a in t.attempts if a.error] if valid else [], **rates}
        if not args.skip_reference:
            row["response_format"] = _response_format_tps(engine, prompt, args.max_tokens)
        rows.append(row)
        print(f"  {label:13s} valid={valid!s:5s} tokens={tokens:4d} attempts={attempts} warm-ttft={ttft:5.2f}s "
              f"wall={wall:6.2f}s decode={tps:5.1f} tok/s  free={rates['free_tps']:5.1f} tok/s "
              f"full-passes={rates['constrained_full_passes']}", flush=True)
    result["prompts"] = rows

    constrained = statistics.median(r["constrained_tps"] for r in rows)
    free = statistics.median(r["free_tps"] for r in rows)
    warm = statistics.median(r["warm_ttft_s"] for r in rows if r["valid"]) if any(r["valid"] for r in rows) else 0
    summary = {
        "prefill_tps": result["cold"]["prefill_tps"],  # type: ignore[index]
        "constrained_decode_tps_median": round(constrained, 2),
        "free_decode_tps_median": round(free, 2),
        "constrained_over_free": round(constrained / free, 3) if free else None,
        "cold_ttft_s": result["cold"]["ttft_s"],  # type: ignore[index]
        "warm_ttft_s_median": round(warm, 3),
        "cold_over_warm_ttft": round(result["cold"]["ttft_s"] / warm, 1) if warm else None,  # type: ignore[index]
        "one_object_wall_s": rows[0]["wall_s"],
        "three_object_wall_s": next(r["wall_s"] for r in rows if r["label"] == "three objects"),
        "targets": TARGETS,
    }
    if not args.skip_reference:
        ref = statistics.median(r["response_format"]["tps"] for r in rows)
        summary["response_format_decode_tps_median"] = round(ref, 2)
        summary["constrained_over_response_format"] = round(constrained / ref, 2) if ref else None
    result["summary"] = summary
    print(json.dumps(summary, indent=2))

    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"engine-{engine.model_id}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
