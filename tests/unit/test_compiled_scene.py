"""The compiled scene's extensions: pivot, scale axis (sx/sy tracks), looped sequences (cycle), off-stage places.

The v1 grammar and v1 scenes must not notice them: the decoding schema is byte-identical to the one saved before
they existed (``fixtures/scene_schema_v1.json``), and so is ``to_json()`` of every stored v1 scene
(``fixtures/v1_to_json.json``). Timeline values are checked at exact times against values worked out by hand.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from tests.unit.test_lottie import _at, _layer
from text2pixi.core.codegen import mount_source
from text2pixi.core.lottie import to_lottie
from text2pixi.core.scene import EXTENSIONS, STAGE_BOUNDS, Scene, scene_json_schema
from text2pixi.core.timeline import breakpoints, initial_value, loop_plan, position, tracks

FIXTURES = Path(__file__).parents[1] / "fixtures"

SQUARE = {"type": "rect", "id": "sq", "x": 400, "y": 300, "w": 80, "h": 80, "color": "#3366ff"}

EXTENDED: dict[str, Scene] = {
    # An 80x80 square turning 90 degrees anticlockwise about its bottom-left corner, and a bar turning and
    # growing about its right end while it moves.
    "pivot": Scene.model_validate({"bg": "black", "objects": [
        {**SQUARE, "pivot": [-40, 40]},
        {"type": "rect", "id": "bar", "x": 200, "y": 480, "w": 120, "h": 30, "color": "#ff8800", "pivot": [60, 0]},
    ], "anims": [
        {"type": "rotate", "target": "sq", "by": -90, "dur": 1},
        {"type": "rotate", "target": "bar", "by": 90, "dur": 2, "ease": "easeInOut"},
        {"type": "scale", "target": "bar", "to": 1.5, "dur": 1, "delay": 0.5},
        {"type": "move", "target": "bar", "x": 300, "y": 420, "dur": 2},
    ]}),
    # x-only scaling about the left edge, then both axes (each from its own track's value); y-only with yoyo.
    "axis": Scene.model_validate({"bg": "#101010", "objects": [
        {"type": "rect", "id": "wide", "x": 300, "y": 200, "w": 100, "h": 60, "color": "#22cc66", "pivot": [-50, 0]},
        {"type": "ellipse", "id": "egg", "x": 600, "y": 400, "w": 80, "h": 60, "color": "#ee3344"},
    ], "anims": [
        {"type": "scale", "target": "wide", "to": 2, "axis": "x", "dur": 1},
        {"type": "scale", "target": "wide", "to": 0.5, "dur": 1, "delay": 1},
        {"type": "scale", "target": "egg", "to": 2, "axis": "y", "dur": 0.5, "repeat": 3, "yoyo": True,
         "ease": "easeOut"},
    ]}),
    # A looped sequence (right, then down; every 3 s from 0.5 s, forever) and a finite one (turn then recolour,
    # twice), with a spin that is not in a cycle.
    "cycle": Scene.model_validate({"bg": "navy", "objects": [
        {"type": "circle", "id": "dot", "x": 150, "y": 150, "r": 30, "color": "yellow"},
        {"type": "rect", "id": "tile", "x": 600, "y": 420, "w": 70, "h": 70, "color": "#ff66cc"},
        {"type": "star", "id": "spark", "x": 600, "y": 150, "r": 40, "color": "#66ffcc"},
    ], "anims": [
        {"type": "move", "target": "dot", "x": 350, "y": 150, "dur": 1, "delay": 0.5,
         "cycle": {"start": 0.5, "every": 3, "times": -1}},
        {"type": "move", "target": "dot", "x": 350, "y": 350, "dur": 1, "delay": 1.5, "ease": "easeIn",
         "cycle": {"start": 0.5, "every": 3, "times": -1}},
        {"type": "rotate", "target": "tile", "by": 90, "dur": 0.5, "repeat": 1, "yoyo": True,
         "cycle": {"start": 0, "every": 2, "times": 2}},
        {"type": "color", "target": "tile", "to": "#00ccff", "dur": 0.5, "delay": 1,
         "cycle": {"start": 0, "every": 2, "times": 2}},
        {"type": "rotate", "target": "spark", "by": 360, "dur": 2, "repeat": -1},
    ]}),
    # Slide in from off the left edge, slide out past the right edge.
    "offstage": Scene.model_validate({"bg": "white", "objects": [
        {"type": "circle", "id": "inner", "x": -60, "y": 200, "r": 40, "color": "#cc0000"},
        {"type": "rect", "id": "outer", "x": 400, "y": 420, "w": 90, "h": 50, "color": "#0000cc"},
    ], "anims": [
        {"type": "move", "target": "inner", "x": 300, "y": 200, "dur": 2, "ease": "easeOut"},
        {"type": "move", "target": "outer", "x": 1000, "y": 420, "dur": 2, "ease": "easeIn"},
    ]}),
}


def error_of(data: dict[str, Any], **kw: Any) -> str:
    with pytest.raises(ValidationError) as info:
        Scene.model_validate(data, **kw)
    return str(info.value)


def scene(objects: list[dict[str, Any]] | None = None, anims: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"objects": objects or [SQUARE], "anims": anims or []}


def value(s: Scene, oid: str, prop: str, t: float) -> tuple[float, ...]:
    track = tracks(s).get((oid, prop))
    obj = next(o for o in s.objects if o.id == oid)
    return track.value(t) if track else initial_value(obj, prop)


# --- v1 stays as it was ------------------------------------------------------------------------------------


def test_the_v1_schema_is_byte_identical_to_the_saved_one() -> None:
    saved = (FIXTURES / "scene_schema_v1.json").read_text(encoding="utf-8")
    assert json.dumps(scene_json_schema(), indent=1) + "\n" == saved
    for name in EXTENSIONS:
        assert f'"{name}"' not in saved  # the grammar never lets the model write them


def test_to_json_of_v1_scenes_is_byte_identical() -> None:
    cases = json.loads((FIXTURES / "v1_to_json.json").read_text(encoding="utf-8"))["scenes"]
    assert len(cases) >= 10
    for case in cases:
        assert Scene.model_validate(case["scene"]).to_json() == case["to_json"]
        assert Scene.model_validate_json(case["to_json"]).to_json() == case["to_json"]


def test_extensions_round_trip_through_to_json() -> None:
    for s in EXTENDED.values():
        assert Scene.model_validate_json(s.to_json()) == s
    text = EXTENDED["cycle"].to_json()
    assert '"cycle":{"start":0.5,"every":3.0,"times":-1}' in text
    assert '"axis":"x"' in EXTENDED["axis"].to_json() and '"axis":"xy"' not in EXTENDED["axis"].to_json()


# --- validation --------------------------------------------------------------------------------------------


def test_stage_bounds_hold_only_on_the_v1_generation_path() -> None:
    off = scene([{**SQUARE, "x": 900}], [{"type": "move", "target": "sq", "x": 400, "y": -100}])
    compiled = Scene.model_validate(off)
    assert compiled.objects[0].x == 900
    message = error_of(off, context={STAGE_BOUNDS: True})
    assert "object 'sq' centre (900,300) is outside the 800x600 stage" in message
    assert "anims[0] move destination (400,-100) is outside the 800x600 stage" in message
    line = {"type": "line", "id": "l", "x": 0, "y": 0, "x2": 1000, "y2": 0}
    assert "line 'l' end (1000,0) is outside" in error_of(scene([line]), context={STAGE_BOUNDS: True})
    Scene.model_validate(scene([line]))
    # Px still bounds every position, compiled or not
    assert "less than or equal to 3840" in error_of(scene([{**SQUARE, "x": 5000}]))


def test_pivot_is_an_offset_pair_within_bounds() -> None:
    assert Scene.model_validate(scene([{**SQUARE, "pivot": [-40, 40.5]}])).objects[0].pivot == (-40.0, 40.5)
    for bad in ([1], [1, 2, 3], [4000, 0], [0, -4000], [float("nan"), 0], [float("inf"), 0], "corner"):
        error_of(scene([{**SQUARE, "pivot": bad}]))


def test_scale_axis_is_xy_x_or_y() -> None:
    for axis in ("xy", "x", "y"):
        Scene.model_validate(scene(anims=[{"type": "scale", "target": "sq", "to": 2, "axis": axis}]))
    error_of(scene(anims=[{"type": "scale", "target": "sq", "to": 2, "axis": "z"}]))
    error_of(scene(anims=[{"type": "rotate", "target": "sq", "by": 90, "axis": "x"}]))  # only scales have one


def test_cycle_constraints() -> None:
    def anim(**kw: Any) -> dict[str, Any]:
        return {"type": "move", "target": "sq", "x": 500, "y": 300, **kw}

    ok = {"start": 1, "every": 2, "times": 3}
    Scene.model_validate(scene(anims=[anim(delay=1.5, dur=0.25, repeat=1, cycle=ok)]))  # 0.5 + 0.5 <= 2
    Scene.model_validate(scene(anims=[anim(delay=1, dur=2, cycle=ok)]))  # exactly fills the cycle
    assert "times must be -1 (forever) or at least 1" in error_of(scene(anims=[anim(cycle={**ok, "times": 0})]))
    error_of(scene(anims=[anim(cycle={**ok, "times": -2})]))
    error_of(scene(anims=[anim(cycle={**ok, "every": 0})]))
    error_of(scene(anims=[anim(cycle={**ok, "start": -1})]))
    error_of(scene(anims=[anim(cycle={"start": 1, "every": 2})]))
    error_of(scene(anims=[anim(cycle={**ok, "extra": 1})]))
    assert "anims[0] delay 0.5 is before its cycle's start 1" in error_of(
        scene(anims=[anim(delay=0.5, cycle=ok)]))
    assert "anims[0] ends 2.5 s into its cycle, after the cycle's 2 s" in error_of(
        scene(anims=[anim(delay=1.5, dur=1, repeat=1, cycle=ok)]))
    assert "anims[0] repeats forever inside a cycle" in error_of(scene(anims=[anim(delay=1, repeat=-1, cycle=ok)]))


def test_duration_counts_every_cycle() -> None:
    def dur(anims: list[dict[str, Any]]) -> float | None:
        return Scene.model_validate(scene(anims=anims)).duration()

    move = {"type": "move", "target": "sq", "x": 500, "y": 300, "dur": 1}
    assert dur([{**move, "delay": 1, "cycle": {"start": 1, "every": 1.5, "times": 3}}]) == 1 + 1.5 * 3
    assert dur([{**move, "delay": 1, "cycle": {"start": 1, "every": 1.5, "times": -1}}]) is None
    assert dur([{**move, "delay": 1, "cycle": {"start": 1, "every": 1.5, "times": 1}}, {**move, "delay": 7}]) == 8
    assert EXTENDED["cycle"].duration() is None and EXTENDED["axis"].duration() == 2.0


# --- the timeline (runtime.js's arithmetic) ----------------------------------------------------------------


def test_pivot_keeps_the_centre_track_and_offsets_the_position() -> None:
    s = EXTENDED["pivot"]
    sq, bar = s.objects
    assert value(s, "sq", "pos", 0.5) == (400.0, 300.0)  # never moved: the track is the centre at rest
    assert position(sq, value(s, "sq", "pos", 0.5)) == (360.0, 340.0)  # Pixi position: the bottom-left corner
    assert value(s, "bar", "pos", 1.0) == (250.0, 450.0)  # a move moves the centre
    assert position(bar, value(s, "bar", "pos", 1.0)) == (310.0, 450.0)
    assert value(s, "sq", "angle", 1.0) == (-90.0,)


def test_the_corner_a_square_turns_about_stays_put() -> None:
    s = EXTENDED["pivot"]
    sq = s.objects[0]

    def corner(local: tuple[float, float], t: float) -> tuple[float, float]:
        """Pixi's transform of a local point: position + R(angle) * scale * (local - pivot)."""
        px, py = sq.pivot or (0.0, 0.0)
        x, y = position(sq, value(s, "sq", "pos", t))
        a = math.radians(value(s, "sq", "angle", t)[0])
        lx, ly = local[0] - px, local[1] - py
        return (x + lx * math.cos(a) - ly * math.sin(a), y + lx * math.sin(a) + ly * math.cos(a))

    for t in (0.0, 0.25, 0.5, 1.0, 3.0):
        assert corner((-40, 40), t) == pytest.approx((360, 340), abs=1e-9)
    # 90 degrees anticlockwise about (360, 340): the top-right corner (440, 260) lands at (280, 260)
    assert corner((40, -40), 1.0) == pytest.approx((280, 260), abs=1e-9)
    assert corner((0, 0), 1.0) == pytest.approx((320, 300), abs=1e-9)
    half = corner((40, -40), 0.5)  # 45 degrees: on the circle of radius 80*sqrt(2), straight above the corner
    assert half == pytest.approx((360, 340 - 80 * math.sqrt(2)), abs=1e-9)


def test_scale_is_two_tracks() -> None:
    s = EXTENDED["axis"]
    keys = set(tracks(s))
    assert {("wide", "sx"), ("wide", "sy"), ("egg", "sy")} <= keys and ("egg", "sx") not in keys
    assert not any(prop == "scale" for _, prop in keys)
    assert value(s, "wide", "sx", 0.5) == (1.5,) and value(s, "wide", "sy", 0.5) == (1.0,)
    assert value(s, "wide", "sx", 1.0) == (2.0,) and value(s, "wide", "sy", 1.0) == (1.0,)
    # the xy scale starts each axis from its own value: sx 2 -> 0.5, sy 1 -> 0.5
    assert value(s, "wide", "sx", 1.5) == (1.25,) and value(s, "wide", "sy", 1.5) == (0.75,)
    assert value(s, "wide", "sx", 9.0) == (0.5,) and value(s, "wide", "sy", 9.0) == (0.5,)
    # y only, easeOut, yoyo: up at 0.5 s, back at 1 s
    assert value(s, "egg", "sy", 0.25) == (1 + (1 - 0.5 ** 3),)
    assert value(s, "egg", "sy", 0.5) == (2.0,) and value(s, "egg", "sy", 1.0) == (1.0,)
    assert value(s, "egg", "sx", 0.25) == (1.0,)


def test_a_looped_sequence_restarts_every_cycle() -> None:
    s = EXTENDED["cycle"]
    dot = [(0.0, (150.0, 150.0)), (0.5, (150.0, 150.0)), (1.0, (250.0, 150.0)), (1.5, (350.0, 150.0)),
           (2.0, (350.0, 150.0 + 200 * 0.125)), (2.5, (350.0, 350.0)), (3.0, (350.0, 350.0)),
           (3.5, (150.0, 150.0)),  # the second cycle starts from the beginning
           (4.0, (250.0, 150.0)), (5.0, (350.0, 150.0 + 200 * 0.125)), (33.5, (150.0, 150.0)),
           (34.0, (250.0, 150.0))]
    for t, expected in dot:
        assert value(s, "dot", "pos", t) == pytest.approx(expected, abs=1e-9), t
    # the tile, twice: 0.5 s turn to 90 and back (yoyo), then recolour at 1 s; after two cycles it holds the end
    tile = [(0.25, 45.0), (0.5, 90.0), (0.75, 45.0), (1.0, 0.0), (2.25, 45.0), (2.5, 90.0), (4.0, 0.0), (9.0, 0.0)]
    for t, angle in tile:
        assert value(s, "tile", "angle", t) == pytest.approx((angle,), abs=1e-9), t
    pink, blue = (255.0, 102.0, 204.0), (0.0, 204.0, 255.0)
    assert value(s, "tile", "tint", 1.5) == blue
    assert value(s, "tile", "tint", 1.25) == pytest.approx(tuple((a + b) / 2 for a, b in zip(pink, blue, strict=True)))
    assert value(s, "tile", "tint", 2.5) == pink  # before its offset in the second cycle: the colour at rest
    assert value(s, "tile", "tint", 3.5) == blue and value(s, "tile", "tint", 60.0) == blue


def test_breakpoints_and_loop_plan_know_cycles() -> None:
    s = EXTENDED["cycle"]
    state = tracks(s)
    dot = breakpoints(state[("dot", "pos")], 7.0)
    assert {0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5} <= set(dot) and max(dot) <= 7.0
    tint = breakpoints(state[("tile", "tint")], 10.0)
    assert {0.0, 1.0, 1.5, 2.0, 3.0, 3.5} <= set(tint)
    plan = loop_plan(s)
    assert plan.loops and plan.cycle == 6.0  # the dot's 3 s cycle and the spark's 2 s turn
    assert plan.start == 3.5  # the tile's second (last) cycle ends: its tint holds from then on
    assert plan.duration == 9.5
    alone = Scene.model_validate({"objects": s.objects[:1], "anims": s.anims[:2]})
    assert loop_plan(alone) == type(plan)(3.5, True, 3.0, 0.5, False)
    finite = Scene.model_validate({"objects": s.objects[1:2], "anims": s.anims[2:4]})
    assert loop_plan(finite).duration == 3.5 and not loop_plan(finite).loops


# --- what reads the compiled scene -------------------------------------------------------------------------


def test_codegen_passes_the_extensions_only_when_set() -> None:
    source = mount_source(EXTENDED["pivot"]) + mount_source(EXTENDED["axis"]) + mount_source(EXTENDED["cycle"])
    assert '"pivot":[-40.0,40.0]' in source
    assert '"prop":"scale","to":2.0,"axis":"x"' in source
    assert '"cycle":{"start":0.5,"every":3.0,"times":-1}' in source
    plain = mount_source(Scene.model_validate(scene(anims=[{"type": "scale", "target": "sq", "to": 2}])))
    assert "pivot" not in plain and "axis" not in plain and "cycle" not in plain


@pytest.mark.parametrize("name", list(EXTENDED))
def test_lottie_keyframes_equal_the_timeline_at_every_frame(name: str) -> None:
    s, fps = EXTENDED[name], 24
    document = to_lottie(s, fps=fps)
    for obj in s.objects:
        ks = _layer(document, obj.id)["ks"]
        assert ks["a"] == {"a": 0, "k": list(obj.pivot) if obj.pivot else [0, 0]}
        for frame in range(document["op"]):
            t, where = frame / fps, f"{name}/{obj.id} frame {frame}"
            assert _at(ks["p"], frame) == pytest.approx(list(position(obj, value(s, obj.id, "pos", t))),
                                                        abs=1e-3), where
            assert _at(ks["r"], frame) == pytest.approx(list(value(s, obj.id, "angle", t)), abs=1e-3), where
            assert _at(ks["s"], frame) == pytest.approx(
                [value(s, obj.id, "sx", t)[0] * 100, value(s, obj.id, "sy", t)[0] * 100], abs=1e-3), where


def test_lottie_writes_a_looped_sequence_out_cycle_by_cycle() -> None:
    document = to_lottie(EXTENDED["cycle"], fps=10)
    assert document["op"] == 95 and document["markers"] == [{"tm": 35.0, "cm": "cycle", "dr": 60.0}]
    keys = _layer(document, "dot")["ks"]["p"]["k"]
    # each cycle jumps back to the start: a keyframe just before 3.5 s (at the end) and one at 3.5 s (the start)
    jumps = [k["t"] for k in keys if k["s"] == [150, 150] and k["t"] > 5]
    assert jumps[:3] == [35.0, 65.0, 95.0]
