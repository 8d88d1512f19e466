"""Refinement benchmark: edit quality and speed of ``translate --base`` on one model, in one process.

For every case of ``tests/fixtures/refinements.json`` it refines the case's base scene with its
instruction (the engine's refinement path: base scene in the user turn after the cached prefix,
look-up drafts from the base, then ``core.preserve.preserve``) and checks the change and the
preservation, both for the model's own scene and for the scene after preservation. For speed it
generates, fresh, a scene like each base ("similar output size"), and compares median wall times:
the target is a refinement at most 1.2x a fresh request. The speed rounds interleave, per base scene,
a fresh request; a cold refinement (its head, the prefix plus the base scene, evaluated in the call);
the same refinement after ``Engine.prepare_refinement`` kept the head's KV checkpoint, as an idle
worker does after each job; and that one without look-up drafts. So the load of a shared machine falls
on all of them alike. ``--speed-only`` skips the quality cases.

    .venv/bin/python bench/refine.py --threads 1            # default model, all cases
    .venv/bin/python bench/refine.py --cases 6 --speed-only   # speed only: fresh, cold and prepared refinements

Results go to ``bench/results/refine-<model>-<time>.json`` and a summary is printed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from text2pixi.core.edit_checks import RefinementCase, check_case
from text2pixi.core.scene import Scene
from text2pixi.engine import Engine, Translation
from text2pixi.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "tests" / "fixtures" / "refinements.json"

FRESH = {
    "ball_box": "a red ball on the left bounces up and down forever and a green square on the right spins",
    "star_text": "a yellow star spins slowly on a navy background above the word Hello, which fades a little",
    "squares": "three blue squares in a row spin forever on a white background",
    "dot": "an orange circle in the centre pulses bigger and smaller forever",
}
"""Fresh prompts whose scenes resemble the fixture's four base scenes (same objects, similar length)."""


def base_name(scene: dict[str, Any]) -> str:
    ids = {o["id"] for o in scene["objects"]}
    return "ball_box" if "ball" in ids else "star_text" if "star" in ids else "squares" if "sq1" in ids else "dot"


def load_cases(limit: int | None) -> list[RefinementCase]:
    data = json.loads(CASES.read_text())
    cases = [RefinementCase.model_validate(c) for c in data["cases"]]
    if limit is not None and limit < len(cases):  # spread over the four bases, not the first ones only
        step = len(cases) / limit
        cases = [cases[int(i * step)] for i in range(limit)]
    return cases


def timing(result: Translation) -> dict[str, Any]:
    first = result.attempts[0]
    return {"wall_s": result.wall_s, "attempts": len(result.attempts), "output_tokens": result.output_tokens,
            "prompt_tokens": first.prompt_tokens, "cached_tokens": first.cached_tokens,
            "ttft_s": first.ttft_s, "forced_tokens": sum(a.forced_tokens for a in result.attempts),
            "decode_tps": first.decode_tps}


def refine(engine: Engine, case: RefinementCase, max_tokens: int) -> dict[str, Any]:
    base = Scene.model_validate(case.base)
    row: dict[str, Any] = {"name": case.name, "base": base_name(case.base), "instruction": case.instruction}
    t0 = time.perf_counter()
    try:
        result = engine.translate(case.instruction, base=base, max_tokens=max_tokens)
    except Exception as exc:  # noqa: BLE001 - a failed case is a data point, not the end of the run
        row.update(valid=False, error=f"{type(exc).__name__}: {exc}"[:300], wall_s=time.perf_counter() - t0)
        return row
    final = check_case(case, result.scene)
    raw = check_case(case, Scene.model_validate_json(result.model_scene_json or result.scene_json))
    row.update(valid=True, **timing(result), checkpoint=result.checkpoint, changed=final.changed,
               preserved=final.preserved,
               problems=final.problems, raw_changed=raw.changed, raw_preserved=raw.preserved,
               raw_problems=raw.problems, reverted=result.reverted, scene=result.scene_json)
    return row


def fresh(engine: Engine, name: str, prompt: str, max_tokens: int) -> dict[str, Any]:
    t0 = time.perf_counter()
    try:
        result = engine.translate(prompt, max_tokens=max_tokens)
    except Exception as exc:  # noqa: BLE001
        return {"base": name, "valid": False, "error": str(exc)[:300], "wall_s": time.perf_counter() - t0}
    return {"base": name, "prompt": prompt, "valid": True, **timing(result), "scene": result.scene_json}


def rate(rows: list[dict[str, Any]], key: str) -> float:
    return round(sum(bool(r.get(key)) for r in rows) / len(rows), 3) if rows else 0.0


def median(rows: list[dict[str, Any]], key: str) -> float | None:
    values = [r[key] for r in rows if r.get("valid") and key in r]
    return round(statistics.median(values), 3) if values else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="model name or .gguf path (default: the default model)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cases", type=int, default=None, help="run this many cases (spread over the bases)")
    parser.add_argument("--speed-rounds", type=int, default=1,
                        help="rounds of (fresh, refinement, refinement without look-up) per base scene")
    parser.add_argument("--speed-only", action="store_true", help="skip the quality cases")
    parser.add_argument("--max-tokens", type=int, default=600)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    args = parser.parse_args(argv)

    settings = Settings(n_threads=args.threads, **({"model": args.model} if args.model else {}))
    engine = Engine(settings)
    prime_s = engine.prime()
    print(f"{engine.model_id}: loaded in {engine.load_s:.1f}s, prefix {engine.prefix_tokens} tokens "
          f"primed in {prime_s:.1f}s, {args.threads} thread(s)", flush=True)
    cases = [] if args.speed_only else load_cases(args.cases)
    refinements: list[dict[str, Any]] = []
    for case in cases:
        row = refine(engine, case, args.max_tokens)
        refinements.append(row)
        print(f"  refine {case.name:16} {row.get('wall_s', 0):6.1f}s {row.get('output_tokens', '-'):>4} tok "
              f"prompt {row.get('prompt_tokens', '-')} (cached {row.get('cached_tokens', '-')}) "
              f"drafted {row.get('forced_tokens', '-')} changed={row.get('changed')} "
              f"preserved={row.get('preserved')} raw_preserved={row.get('raw_preserved')}", flush=True)
    # Speed: per base scene, a fresh request, its first refinement case cold and prepared, and that case
    # prepared but without look-up drafts.
    first_case: dict[str, RefinementCase] = {}
    for case in load_cases(None):
        first_case.setdefault(base_name(case.base), case)
    fresh_rows: list[dict[str, Any]] = []
    speed: list[dict[str, Any]] = []
    plain: list[dict[str, Any]] = []
    cold: list[dict[str, Any]] = []
    for _ in range(args.speed_rounds):
        for name, prompt in FRESH.items():
            case = first_case[name]
            f = fresh(engine, name, prompt, args.max_tokens)
            engine.checkpoints.clear()
            c = refine(engine, case, args.max_tokens)
            engine.checkpoints.clear()
            t0 = time.perf_counter()
            engine.prepare_refinement(Scene.model_validate(case.base))
            prepare_s = round(time.perf_counter() - t0, 3)
            checkpoint_bytes = engine.checkpoints.nbytes  # the one just kept
            r = refine(engine, case, args.max_tokens)
            r["prepare_s"] = prepare_s
            r["checkpoint_bytes"] = checkpoint_bytes
            r["same_as_cold"] = r.get("scene") == c.get("scene")
            engine.lookup_drafts = False
            p = refine(engine, case, args.max_tokens)
            engine.lookup_drafts = True
            fresh_rows.append(f)
            cold.append(c)
            speed.append(r)
            plain.append(p)
            print(f"  speed  {name:10} fresh {f.get('wall_s', 0):6.1f}s/{f.get('output_tokens', '-')} tok  "
                  f"cold {c.get('wall_s', 0):6.1f}s  prepared ({prepare_s:.1f}s ahead) "
                  f"{r.get('wall_s', 0):6.1f}s/{r.get('output_tokens', '-')} tok same={r['same_as_cold']}  "
                  f"no-lookup {p.get('wall_s', 0):6.1f}s", flush=True)

    valid = [r for r in refinements if r.get("valid")]
    summary = {
        "model": engine.model_id, "threads": args.threads, "cases": len(refinements),
        "valid_rate": rate(refinements, "valid"),
        "change_rate": rate(valid, "changed"), "preservation_rate": rate(valid, "preserved"),
        "both_rate": round(sum(bool(r["changed"] and r["preserved"]) for r in valid) / max(1, len(refinements)), 3),
        "raw_change_rate": rate(valid, "raw_changed"), "raw_preservation_rate": rate(valid, "raw_preserved"),
        "refine_median_wall_s": median(speed, "wall_s"), "fresh_median_wall_s": median(fresh_rows, "wall_s"),
        "refine_median_output_tokens": median(speed, "output_tokens"),
        "fresh_median_output_tokens": median(fresh_rows, "output_tokens"),
        "refine_median_prompt_tokens": median(speed, "prompt_tokens"),
        "fresh_median_prompt_tokens": median(fresh_rows, "prompt_tokens"),
        "no_lookup_median_wall_s": median(plain, "wall_s"),
        "cold_median_wall_s": median(cold, "wall_s"),
        "prepare_median_s": median(speed, "prepare_s"),
        "checkpoint_median_mb": round((median(speed, "checkpoint_bytes") or 0) / 2**20, 1),
        "prepared_same_as_cold": all(r.get("same_as_cold") for r in speed if r.get("valid")),
    }
    r, f = summary["refine_median_wall_s"], summary["fresh_median_wall_s"]
    summary["refine_over_fresh"] = round(r / f, 3) if r and f else None
    c = summary["cold_median_wall_s"]
    summary["cold_over_fresh"] = round(c / f, 3) if c and f else None
    # "A fresh request of similar output size": per base, the pairs whose output sizes are within 25 %.
    pairs = [(rr["wall_s"] / ff["wall_s"], cc["wall_s"] / ff["wall_s"])
             for ff, rr, cc in zip(fresh_rows, speed, cold, strict=True)
             if ff.get("valid") and rr.get("valid") and cc.get("valid")
             and abs(rr["output_tokens"] - ff["output_tokens"]) <= 0.25 * ff["output_tokens"]]
    summary["similar_size_pairs"] = len(pairs)
    summary["similar_size_refine_over_fresh"] = round(statistics.median(p[0] for p in pairs), 3) if pairs else None
    summary["similar_size_cold_over_fresh"] = round(statistics.median(p[1] for p in pairs), 3) if pairs else None
    rt, ft = summary["refine_median_output_tokens"], summary["fresh_median_output_tokens"]
    if r and f and rt and ft:
        summary["refine_over_fresh_per_token"] = round((r / rt) / (f / ft), 3)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"refine-{engine.model_id}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"summary": summary, "refinements": refinements, "fresh": fresh_rows,
                                "speed_refinements": speed, "no_lookup": plain, "cold": cold}, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
