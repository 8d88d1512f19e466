"""v1 -> v2 conversion on read: every stored v1 scene compiles back to the same objects and timeline."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from text2pixi.core import timeline as tl
from text2pixi.core.scene import Scene
from text2pixi.core.v2.compiler import compile_scene
from text2pixi.core.v2.convert import from_v1
from text2pixi.core.v2.language import V2Scene

ROOT = Path(__file__).parents[2]


def stored_scenes() -> list[tuple[str, dict[str, object]]]:
    gallery = json.loads((ROOT / "docs/gallery/scenes.json").read_text(encoding="utf-8"))["scenes"]
    cases = json.loads((ROOT / "tests/fixtures/refinements.json").read_text(encoding="utf-8"))["cases"]
    from tests.unit.test_codegen import DEMO
    out = [(f"gallery/{g['name']}", g["scene"]) for g in gallery]
    out += [(f"refinements/{c['name']}", c["base"]) for c in cases]
    out.append(("golden/demo", json.loads(DEMO.to_json())))
    return out


def sample_times(scene: Scene) -> list[float]:
    """A fine grid plus every start, run boundary and end (where tracks may jump), up to a few cycles."""
    end = scene.duration()
    horizon = 12.0 if end is None else end + 1.0
    times = {k * 0.01 for k in range(int(horizon * 100) + 1)}
    for a in scene.anims:
        for n in range(0, 12):
            b = a.delay + n * a.dur
            times.update({b, b + 1e-6, max(0.0, b - 1e-6)})
    return sorted(times)


def same_timeline(a: Scene, b: Scene) -> None:
    ta, tb = tl.tracks(a), tl.tracks(b)
    assert ta.keys() == tb.keys()
    for t in sample_times(a):
        for key in ta:
            va, vb = ta[key].value(t), tb[key].value(t)
            assert all(math.isclose(x, y, abs_tol=1e-9) for x, y in zip(va, vb, strict=True)), (key, t, va, vb)


@pytest.mark.parametrize(("name", "data"), stored_scenes(), ids=[n for n, _ in stored_scenes()])
def test_v1_scene_compiles_back_to_itself(name: str, data: dict[str, object]) -> None:
    v1 = Scene.model_validate(data)
    v2 = from_v1(v1)
    assert V2Scene.model_validate_json(v2.to_json()) == v2
    compiled = compile_scene(v2)
    assert [o.model_dump() for o in compiled.objects] == [o.model_dump() for o in v1.objects]
    assert (compiled.bg, compiled.w, compiled.h) == (v1.bg, v1.w, v1.h)
    assert sorted(a.model_dump_json() for a in compiled.anims) == sorted(a.model_dump_json() for a in v1.anims)
    assert compiled.duration() == v1.duration()
    same_timeline(v1, compiled)


def test_conversion_keeps_overlapping_animations_on_one_track_in_order() -> None:
    v1 = Scene.model_validate({
        "bg": "black", "w": 640, "h": 480,
        "objects": [{"type": "line", "id": "ln", "x": 10, "y": 10, "x2": 300, "y2": 41, "rot": 30},
                    {"type": "polygon", "id": "pg", "x": 100, "y": 100, "pts": [0, 0, 30, 0, 0, 30], "alpha": 0},
                    {"type": "roundrect", "id": "rr", "x": 300, "y": 300, "w": 333, "h": 7, "radius": 3}],
        "anims": [{"type": "move", "target": "ln", "x": 5, "y": 5, "delay": 1, "dur": 0.3333},
                  {"type": "move", "target": "ln", "x": 600, "y": 5, "delay": 1, "dur": 2, "repeat": 100},
                  {"type": "fade", "target": "pg", "to": 1, "delay": 0.5, "yoyo": True, "repeat": 3},
                  {"type": "rotate", "target": "rr", "by": -45, "ease": "back"},
                  {"type": "scale", "target": "rr", "to": 0.2, "delay": 0.1}],
    })
    compiled = compile_scene(from_v1(v1))
    assert [o.model_dump() for o in compiled.objects] == [o.model_dump() for o in v1.objects]
    same_timeline(v1, compiled)
