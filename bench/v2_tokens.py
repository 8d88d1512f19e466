"""v1 against v2 in one run: output tokens and wall time per scene, on the same prompts, model and threads.

Takes ``--n`` prompts of ``eval/prompts.toml`` spread over its categories (round robin, in file order), and
translates each one with an engine whose ``scene_language`` is v1 and with one whose language is v2 (both
loaded in this process, each primed before the first prompt; the two alternate prompt by prompt). Per language
it prints the median output tokens and wall time per scene (all attempts of a request counted), the scenes that
failed, the eval checks passed (``quality.cases.evaluate_case`` on the compiled scene), the primed prefix
(system prompt and examples) in tokens, and the decode rate at that depth: the median of the attempts'
one-token decode steps per second (``sampled_tps``) and of their whole decode (``decode_tps``). Then the
v2/v1 ratios.

    nice .venv/bin/python bench/v2_tokens.py --n 6 --threads 2
    .venv/bin/python bench/v2_tokens.py --json bench/results/v2-tokens.json

Figures are measured on this machine in this run; the two languages alternate so that a shared machine's load
falls on both alike, but compare tokens first and wall times with care. ``exact_batch`` (measured at priming,
see ``engine/invariance.py``) says whether forced tokens could be batched in this run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from text2pixi import registry
from text2pixi.core.errors import Text2PixiError
from text2pixi.engine import Engine
from text2pixi.quality.cases import Case, evaluate_case, load_cases
from text2pixi.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = ROOT / "eval" / "prompts.toml"
LANGUAGES = ("v1", "v2")


def sample(cases: list[Case], n: int) -> list[Case]:
    """``n`` cases spread over the categories: one of each category in turn, in file order."""
    by_category: dict[str, list[Case]] = {}
    for case in cases:
        by_category.setdefault(case.category, []).append(case)
    queues = list(by_category.values())
    picked: list[Case] = []
    while len(picked) < n and any(queues):
        for queue in queues:
            if queue and len(picked) < n:
                picked.append(queue.pop(0))
    return picked


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 3) if values else None


def _row(engine: Engine, case: Case) -> dict[str, Any]:
    """One translation of ``case``: its tokens, wall time, attempts' decode rates and eval checks."""
    t0 = time.perf_counter()
    try:
        result = engine.translate(case.prompt)
    except Text2PixiError as exc:
        attempts = engine.last_attempts
        return {"id": case.id, "prompt": case.prompt, "error": exc.code, "message": str(exc)[:200],
                "output_tokens": sum(a.output_tokens for a in attempts), "wall_s": round(time.perf_counter() - t0, 3),
                "attempts": len(attempts), "sampled_tps": [a.sampled_tps for a in attempts if a.sampled_tps],
                "decode_tps": [a.decode_tps for a in attempts if a.decode_tps]}
    checks = evaluate_case(case, result.scene)
    return {"id": case.id, "prompt": case.prompt, "output_tokens": result.output_tokens, "wall_s": result.wall_s,
            "attempts": len(result.attempts), "checks_passed": sum(c.passed for c in checks), "checks": len(checks),
            "sampled_tps": [a.sampled_tps for a in result.attempts if a.sampled_tps],
            "decode_tps": [a.decode_tps for a in result.attempts if a.decode_tps],
            "reply": result.source if result.source is not None else result.scene_json}


def _summary(language: str, engine: Engine, prime_s: float, rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "language": language,
        "prefix_tokens": engine.prefix_tokens,
        "exact_batch": engine.exact_batch,
        "prime_s": round(prime_s, 2),
        "median_output_tokens": _median([r["output_tokens"] for r in rows]),
        "median_wall_s": _median([r["wall_s"] for r in rows]),
        "failed": sum("error" in r for r in rows),
        "checks_passed": sum(r.get("checks_passed", 0) for r in rows),
        "checks": sum(r.get("checks", 0) for r in rows),
        "median_sampled_tps": _median([v for r in rows for v in r["sampled_tps"]]),
        "median_decode_tps": _median([v for r in rows for v in r["decode_tps"]]),
        "scenes": rows,
    }


def run(cases: list[Case], settings: Settings) -> dict[str, dict[str, Any]]:
    """Both languages on every case, one engine each (the weights are mapped once), alternating per prompt so
    that the load of a shared machine falls on both alike."""
    engines = {lang: Engine(settings.model_copy(update={"scene_language": lang})) for lang in LANGUAGES}
    primes = {lang: engine.prime() for lang, engine in engines.items()}
    rows: dict[str, list[dict[str, Any]]] = {lang: [] for lang in LANGUAGES}
    for case in cases:
        for lang, engine in engines.items():
            row = _row(engine, case)
            rows[lang].append(row)
            outcome = row.get("error") or f"{row['checks_passed']}/{row['checks']} checks"
            print(f"  {lang} {case.id}: {row['output_tokens']} tokens, {row['wall_s']:.1f} s, {outcome}", flush=True)
    return {lang: _summary(lang, engines[lang], primes[lang], rows[lang]) for lang in LANGUAGES}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=12, help="prompts, spread over the eval's categories")
    parser.add_argument("--model", default=registry.DEFAULT_MODEL)
    parser.add_argument("--threads", type=int, default=None, help="llama.cpp threads (default: all cores)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    settings = Settings(model=args.model)
    if args.threads:
        settings = settings.model_copy(update={"n_threads": args.threads})
    cases = sample(load_cases(PROMPTS.read_text(encoding="utf-8")), args.n)
    print(f"{len(cases)} prompts ({', '.join(sorted({c.category for c in cases}))}), model {args.model}, "
          f"{settings.n_threads} threads", flush=True)
    results = run(cases, settings)
    v1, v2 = results["v1"], results["v2"]
    print(f"\n{'':24}{'v1':>10}{'v2':>10}{'v2/v1':>8}")
    for key, label in (("median_output_tokens", "median output tokens"), ("median_wall_s", "median wall s"),
                       ("prefix_tokens", "system prefix tokens"), ("median_sampled_tps", "decode tok/s (step)"),
                       ("median_decode_tps", "decode tok/s (whole)")):
        a, b = v1[key], v2[key]
        ratio = f"{b / a:.2f}" if a and b else "-"
        print(f"{label:24}{a!s:>10}{b!s:>10}{ratio:>8}")
    for r in (v1, v2):
        print(f"{r['language']}: {r['failed']} failed, eval checks {r['checks_passed']}/{r['checks']}, "
              f"prime {r['prime_s']} s, exact batch {r['exact_batch']}")
    record = {"model": args.model, "threads": settings.n_threads, "n": len(cases),
              "ratio_output_tokens": round(v2["median_output_tokens"] / v1["median_output_tokens"], 3)
              if v1["median_output_tokens"] and v2["median_output_tokens"] else None,
              "ratio_wall": round(v2["median_wall_s"] / v1["median_wall_s"], 3)
              if v1["median_wall_s"] and v2["median_wall_s"] else None,
              "v1": v1, "v2": v2}
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        print(f"written {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
