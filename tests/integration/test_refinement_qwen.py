"""Edit quality on the default model: every (base scene, instruction, expectation) case of
``tests/fixtures/refinements.json`` is refined by the engine (base in the user turn, look-up drafts, then
``core.preserve.preserve``) and checked for the change it asks for and for everything else being kept.

The rates are printed and written to ``bench/results/refine-quality-last.json``; the bounds below sit under
the measured rates (see docs/performance.md, "Refinement") so a regression fails and noise does not."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from text2pixi import registry
from text2pixi.core.edit_checks import RefinementCase, check_case
from text2pixi.core.scene import Scene
from text2pixi.settings import Settings

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
CASES = [RefinementCase.model_validate(c)
         for c in json.loads((ROOT / "tests" / "fixtures" / "refinements.json").read_text())["cases"]]
MIN_CHANGE_RATE = 0.7
MIN_PRESERVATION_RATE = 0.9


@pytest.fixture(scope="module")
def engine() -> Iterator[Any]:
    """One llama.cpp thread: on the busy 2-core machine two threads mostly wait for each other."""
    from text2pixi.engine import Engine

    engine = Engine(Settings(model=registry.DEFAULT_MODEL, n_threads=1, max_retries=1))
    engine.prime()
    yield engine


def test_refinements_change_what_is_asked_and_keep_the_rest(engine: Any) -> None:
    rows: list[dict[str, Any]] = []
    for case in CASES:
        try:
            result = engine.translate(case.instruction, base=Scene.model_validate(case.base), max_tokens=600)
        except Exception as exc:  # noqa: BLE001 - counted as a failed case, reported below
            rows.append({"name": case.name, "valid": False, "error": str(exc)[:200]})
            continue
        final = check_case(case, result.scene)
        raw = check_case(case, Scene.model_validate_json(result.model_scene_json or result.scene_json))
        rows.append({"name": case.name, "valid": True, "changed": final.changed, "preserved": final.preserved,
                     "raw_changed": raw.changed, "raw_preserved": raw.preserved, "problems": final.problems,
                     "reverted": result.reverted, "wall_s": result.wall_s, "output_tokens": result.output_tokens})
    n = len(rows)
    summary = {key: round(sum(bool(r.get(key)) for r in rows) / n, 3)
               for key in ("valid", "changed", "preserved", "raw_changed", "raw_preserved")}
    summary["cases"] = n
    out = ROOT / "bench" / "results" / "refine-quality-last.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"summary": summary, "cases": rows}, indent=1) + "\n")
    print(json.dumps(summary))
    for row in rows:
        print(row["name"], {k: row.get(k) for k in ("changed", "preserved", "raw_preserved", "wall_s")},
              row.get("problems") or row.get("error") or "")
    assert n >= 20
    assert summary["changed"] >= MIN_CHANGE_RATE, summary
    assert summary["preserved"] >= MIN_PRESERVATION_RATE, summary
