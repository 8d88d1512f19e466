"""Quality evaluation: run every prompt of ``eval/prompts.toml`` through the engine and check its scene.

For any registered model or GGUF path, in one process (the engine alone; the service adds no
quality effects), it reports per prompt whether a valid scene came out, the attempts used (a retry
is a re-ask after a validation failure), output tokens, wall time and each expectation's result;
then the validity rate, the pass rate per case category (the capability a prompt exercises), per check
category and per difficulty. The cases and checks live
in ``text2pixi.quality.cases`` (and the ``checks_*`` modules), the reports in ``text2pixi.quality.report``;
this script only reads files, runs the model and writes the results.

    python eval/run.py --model qwen2.5-coder-1.5b-instruct-q4_k_m --threads 2
    python eval/run.py --model smollm2-135m-instruct-q4_1 --only red-circle,two-red-circles
    python eval/run.py --compare eval/results/A.json eval/results/B.json
    python eval/run.py --render docs/eval-qwen.json --doc docs/performance.md
    python eval/run.py --rescore docs/eval-qwen.json      # re-check stored scenes after editing prompts.toml

Writes ``eval/results/<model>-<time>.json`` (or ``--json PATH``): the summary and every outcome,
scene included, so two runs can be compared with ``--compare``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

from text2pixi.quality.cases import Outcome, evaluate_case, load_cases
from text2pixi.quality.report import compare, compare_table, markdown, replace_section, summarize, table

HERE = Path(__file__).resolve().parent


def _load_run(path: Path) -> tuple[dict[str, Any], list[Outcome]]:
    data = json.loads(path.read_text())
    return data, [Outcome.model_validate(o) for o in data["outcomes"]]


def write_doc(doc: Path, result: Path) -> None:
    """Replace the quality section of ``doc`` with the figures of the stored run ``result``."""
    record, outcomes = _load_run(result)
    link = os.path.relpath(result.resolve(), doc.resolve().parent)
    text = doc.read_text() if doc.exists() else ""
    doc.write_text(replace_section(text, markdown(record, outcomes, link)))
    print(f"updated {doc}")


def rescore(result: Path, prompts: Path) -> None:
    """Check the stored scenes of a run again against the current prompt file (no model needed)."""
    from text2pixi.core.scene import Scene

    record, outcomes = _load_run(result)
    cases = {c.id: c for c in load_cases(prompts.read_text())}
    for o in outcomes:
        if o.id in cases:
            o.category = cases[o.id].category
            o.checks = evaluate_case(cases[o.id], Scene.model_validate(o.scene) if o.scene else None)
    record["summary"] = summarize(outcomes)
    record["outcomes"] = [o.model_dump(mode="json") for o in outcomes]
    result.write_text(json.dumps(record, indent=2) + "\n")
    print(table(outcomes))
    print(json.dumps(record["summary"], indent=2))
    print(f"rescored {result}")


def run(args: argparse.Namespace) -> int:
    from text2pixi.core.errors import GenerationError
    from text2pixi.engine import Engine
    from text2pixi.settings import Settings

    cases = load_cases(args.prompts.read_text())
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {c.id for c in cases}
        if unknown:
            print(f"error: unknown case ids: {', '.join(sorted(unknown))}", file=sys.stderr)
            return 2
        cases = [c for c in cases if c.id in wanted]
    if args.category:
        cases = [c for c in cases if c.category in args.category.split(",")]
    if args.limit:
        cases = cases[: args.limit]
    overrides: dict[str, Any] = {}
    if args.model:
        overrides["model"] = args.model
    if args.threads:
        overrides["n_threads"] = args.threads
    if args.max_retries is not None:
        overrides["max_retries"] = args.max_retries
    settings = Settings(**overrides)
    logging.getLogger("instructor").setLevel(logging.CRITICAL)
    engine = Engine(settings)
    prime_s = engine.prime()
    print(f"model {engine.model_id}, {settings.n_threads} threads, load {engine.load_s:.1f}s, prime {prime_s:.1f}s, "
          f"{len(cases)} prompts", flush=True)

    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    outcomes: list[Outcome] = []
    for case in cases:
        t0 = time.perf_counter()
        try:
            result = engine.translate(case.prompt, max_tokens=args.max_tokens)
            outcome = Outcome(id=case.id, prompt=case.prompt, difficulty=case.difficulty,
                              category=case.category, valid=True,
                              attempts=len(result.attempts), output_tokens=result.output_tokens,
                              wall_s=round(result.wall_s, 3), checks=evaluate_case(case, result.scene),
                              scene=result.scene.model_dump(mode="json", exclude_defaults=True),
                              source=result.source)
        except GenerationError as exc:
            # The engine keeps the stats of the call that just failed; its tokens were spent too.
            spent = sum(a.output_tokens for a in engine.last_attempts)
            outcome = Outcome(id=case.id, prompt=case.prompt, difficulty=case.difficulty,
                              category=case.category, valid=False,
                              error=exc.code, error_message=str(exc)[:400], attempts=exc.attempts,
                              output_tokens=spent,
                              wall_s=round(time.perf_counter() - t0, 3), checks=evaluate_case(case, None))
        outcomes.append(outcome)
        print(f"  {case.id:28s} {'valid' if outcome.valid else outcome.error or 'invalid':18s} "
              f"attempts={outcome.attempts} tokens={outcome.output_tokens:4d} {outcome.wall_s:6.1f}s "
              f"checks {outcome.passed}/{len(outcome.checks)}", flush=True)

    summary = summarize(outcomes)
    print()
    print(table(outcomes))
    print()
    print(json.dumps(summary, indent=2))
    record = {
        "model": engine.model_id,
        "threads": settings.n_threads,
        "max_tokens": args.max_tokens or settings.max_tokens,
        "max_retries": settings.max_retries,
        "prompts_file": str(args.prompts),
        "started": started,
        "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "command": " ".join([".venv/bin/python", *sys.argv]),
        "summary": summary,
        "outcomes": [o.model_dump(mode="json") for o in outcomes],
    }
    path = args.json or args.out / f"{engine.model_id}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {path}")
    if args.doc:
        write_doc(args.doc, path)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", help="registered model name or .gguf path (default: TEXT2PIXI_MODEL)")
    parser.add_argument("--threads", type=int)
    parser.add_argument("--prompts", type=Path, default=HERE / "prompts.toml")
    parser.add_argument("--only", help="comma-separated case ids")
    parser.add_argument("--category", help="comma-separated case categories (e.g. motion,order)")
    parser.add_argument("--limit", type=int, help="only the first N cases")
    parser.add_argument("--max-tokens", type=int, help="output budget per attempt (default: the setting)")
    parser.add_argument("--max-retries", type=int, help="re-asks after a validation failure (default: the setting)")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="directory for the result JSON")
    parser.add_argument("--json", type=Path, help="write the result JSON here instead")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("A", "B"), help="compare two stored runs")
    parser.add_argument("--doc", type=Path, help="replace the quality section of this Markdown file (e.g. "
                        "docs/performance.md) with this run's figures, or with --render's")
    parser.add_argument("--render", type=Path, metavar="RESULT", help="with --doc: use this stored run, run nothing")
    parser.add_argument("--rescore", type=Path, metavar="RESULT",
                        help="check a stored run's scenes again against --prompts (after changing a check)")
    args = parser.parse_args(argv)
    if args.rescore:
        rescore(args.rescore, args.prompts)
        if not args.doc:
            return 0
    if args.render or args.rescore:
        if not args.doc:
            parser.error("--render needs --doc")
        write_doc(args.doc, args.render or args.rescore)
        return 0
    if args.compare:
        (meta_a, a), (meta_b, b) = (_load_run(p) for p in args.compare)
        print(compare_table(compare(a, b), meta_a.get("model", "A"), meta_b.get("model", "B")))
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
