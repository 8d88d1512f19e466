"""The Lottie export (``core/lottie.py``, ``core/timeline.py``, ``core/glyphs.py``): structure, schema, timing.

The keyframes are checked against the runtime's semantics by interpolating them here at every frame and
comparing with :mod:`text2pixi.core.timeline` (the runtime's arithmetic); ``tests/browser/test_lottie_agreement.py``
checks the pixels against the Pixi.js page in lottie-web and rlottie.
"""

from __future__ import annotations

import json
import math
from functools import cache
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from lottie_specs import load_specs

from tests.unit.test_codegen import DEMO
from text2pixi.core.glyphs import font_box, layout_text
from text2pixi.core.lottie import frame_count, lottie_duration, star_points, to_lottie
from text2pixi.core.scene import Scene
from text2pixi.core.timeline import initial_value, loop_plan, tracks

SHAPES = Scene.model_validate({
    "w": 480, "h": 360, "bg": "#101020",
    "objects": [
        {"type": "circle", "id": "c", "x": 60, "y": 60, "r": 30, "color": "#ff2020"},
        {"type": "rect", "id": "r", "x": 170, "y": 60, "w": 70, "h": 40, "color": "#3366ff", "rot": 20},
        {"type": "roundrect", "id": "rr", "x": 290, "y": 60, "w": 80, "h": 50, "radius": 16, "color": "#22cc44"},
        {"type": "ellipse", "id": "el", "x": 410, "y": 60, "w": 90, "h": 40, "color": "#ff9900"},
        {"type": "triangle", "id": "tri", "x": 60, "y": 170, "w": 60, "h": 70, "color": "#cc33cc"},
        {"type": "star", "id": "st", "x": 170, "y": 170, "r": 40, "points": 6, "inner": 15, "color": "#ffee00"},
        {"type": "polygon", "id": "pg", "x": 290, "y": 170, "pts": [-40, -30, 35, -20, 20, 35, -25, 20],
         "color": "#00cccc"},
        {"type": "line", "id": "ln", "x": 370, "y": 140, "x2": 450, "y2": 200, "width": 8, "color": "#ffffff"},
        {"type": "text", "id": "tx", "x": 240, "y": 290, "text": "Hello, AVATAR!", "size": 40, "color": "#ff88aa"},
    ],
    "anims": [
        {"type": "move", "target": "c", "x": 60, "y": 120, "dur": 1, "delay": 0.5},
        {"type": "rotate", "target": "tri", "by": 120, "dur": 1, "ease": "easeIn", "repeat": 1},
        {"type": "scale", "target": "st", "to": 0.5, "dur": 0.6, "ease": "easeOut", "repeat": 1, "yoyo": True},
        {"type": "fade", "target": "rr", "to": 0.4, "dur": 1.2, "ease": "easeInOut"},
        {"type": "color", "target": "el", "to": "#aa55ff", "dur": 1.5},
        {"type": "rotate", "target": "ln", "by": -90, "dur": 2},
        {"type": "rotate", "target": "tx", "by": 10, "dur": 2, "ease": "back"},
        {"type": "rotate", "target": "pg", "by": 180, "dur": 2},
    ],
})

EASINGS = Scene.model_validate({
    "w": 480, "h": 360, "bg": "black",
    "objects": [
        {"type": "circle", "id": f"e{n}", "x": 60, "y": 30 + 45 * n, "r": 14, "color": colour}
        for n, colour in enumerate(["#ff3030", "#30ff30", "#3060ff", "#ffff30", "#ff30ff", "#30ffff", "#ff9020"])
    ],
    "anims": [
        {"type": "move", "target": f"e{n}", "x": 380, "y": 30 + 45 * n, "dur": 1.2, "ease": ease,
         "delay": 0.1 * n}
        for n, ease in enumerate(["linear", "easeIn", "easeOut", "easeInOut", "bounce", "elastic", "back"])
    ],
})

LOOPS = Scene.model_validate({
    "w": 480, "h": 360, "bg": "#202020",
    "objects": [
        {"type": "rect", "id": "spin", "x": 80, "y": 80, "w": 90, "h": 20, "color": "#ff4040"},
        {"type": "circle", "id": "hop", "x": 80, "y": 260, "r": 25, "color": "#40ff40"},
        {"type": "triangle", "id": "pulse", "x": 380, "y": 80, "w": 70, "h": 60, "color": "#4080ff"},
        {"type": "star", "id": "glow", "x": 380, "y": 260, "r": 40, "color": "#ffcc00"},
        {"type": "text", "id": "word", "x": 240, "y": 180, "text": "loop", "size": 48, "color": "#ff66ff"},
    ],
    "anims": [
        {"type": "rotate", "target": "spin", "by": 360, "dur": 1.5, "repeat": -1},
        {"type": "move", "target": "hop", "x": 200, "y": 260, "dur": 0.8},
        {"type": "move", "target": "hop", "x": 200, "y": 320, "dur": 1, "delay": 0.5, "ease": "bounce"},
        {"type": "move", "target": "hop", "x": 80, "y": 300, "dur": 0.5, "delay": 1.2, "repeat": -1, "yoyo": True},
        {"type": "scale", "target": "pulse", "to": 1.6, "dur": 0.5, "repeat": -1, "yoyo": True, "ease": "easeInOut"},
        {"type": "fade", "target": "glow", "to": 0.3, "dur": 1, "repeat": 3, "yoyo": True},
        {"type": "color", "target": "glow", "to": "#ff3300", "dur": 2, "delay": 0.4, "ease": "easeIn"},
        {"type": "color", "target": "word", "to": "#66ffff", "dur": 1, "repeat": -1, "yoyo": True},
        {"type": "rotate", "target": "word", "by": 30, "dur": 0.75, "repeat": -1, "yoyo": True, "ease": "elastic"},
    ],
})

SCENES = {"shapes": SHAPES, "easings": EASINGS, "loops": LOOPS}

STATIC = Scene.model_validate({"objects": [{"type": "circle", "id": "c", "x": 50, "y": 50, "r": 10}]})

CHAINED = Scene.model_validate({
    "objects": [{"type": "rect", "id": "r", "x": 100, "y": 100, "w": 20, "h": 20, "color": "red"}],
    "anims": [
        # Deliberately out of order: the runtime sorts by delay, and the later one overrides mid-way.
        {"type": "move", "target": "r", "x": 300, "y": 100, "dur": 1, "delay": 0.5},
        {"type": "move", "target": "r", "x": 200, "y": 300, "dur": 1},
        {"type": "rotate", "target": "r", "by": 90, "dur": 0.4, "repeat": 2},
        {"type": "rotate", "target": "r", "by": 45, "dur": 0.5, "delay": 0.2},
    ],
})


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(load_specs())


@cache
def _glyphs() -> Any:
    from text2pixi.service.fonts import default_glyphs

    return default_glyphs()


def glyphs_or_skip() -> Any:
    source = _glyphs()
    if source is None:
        pytest.skip("no sans-serif TTF installed")
    return source


def _at(prop: dict[str, Any], frame: float) -> list[float]:
    """A Lottie property's value at ``frame`` (the export only writes linear keyframes)."""
    if not prop["a"]:
        value = prop["k"]
        return list(value) if isinstance(value, list) else [value]
    keys = prop["k"]
    for key in keys:
        assert key.get("h", 0) == 0
    if frame <= keys[0]["t"]:
        return list(keys[0]["s"])
    for a, b in zip(keys, keys[1:], strict=False):
        if a["t"] <= frame <= b["t"]:
            assert a["o"] == {"x": 0, "y": 0} and a["i"] == {"x": 1, "y": 1}
            f = (frame - a["t"]) / (b["t"] - a["t"])
            return [va + (vb - va) * f for va, vb in zip(a["s"], b["s"], strict=True)]
    return list(keys[-1]["s"])


def _layer(document: dict[str, Any], oid: str) -> dict[str, Any]:
    return next(layer for layer in document["layers"] if layer["nm"] == oid)


def _paint(layer: dict[str, Any]) -> dict[str, Any]:
    return next(item for item in layer["shapes"][0]["it"] if item["ty"] in ("fl", "st"))


ALL = {**SCENES, "demo": DEMO, "static": STATIC, "chained": CHAINED}


@pytest.mark.parametrize("name", list(ALL))
def test_documents_validate_against_the_lottie_schema(name: str) -> None:
    # At 4 fps: the same structure as at 30, and a tenth of the keyframes to check (jsonschema is slow).
    for glyphs in (None, _glyphs()):
        document = json.loads(json.dumps(to_lottie(ALL[name], fps=4, glyphs=glyphs)))
        errors = sorted(_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
        assert not errors, [(list(e.absolute_path), e.message[:200]) for e in errors[:5]]


@pytest.mark.parametrize("name", list(ALL))
def test_keyframes_equal_the_runtime_at_every_frame(name: str) -> None:
    scene = ALL[name]
    fps = 24
    document = to_lottie(scene, fps=fps, glyphs=glyphs_or_skip())
    state = tracks(scene)
    for obj in scene.objects:
        layer = _layer(document, obj.id)
        ks = layer["ks"]
        for frame in range(document["op"]):
            t = frame / fps

            def value(prop: str, obj: Any = obj, t: float = t) -> tuple[float, ...]:
                track = state.get((obj.id, prop))
                return track.value(t) if track else initial_value(obj, prop)

            where = f"{name}/{obj.id} frame {frame}"
            assert _at(ks["p"], frame) == pytest.approx(list(value("pos")), abs=1e-3), where
            assert _at(ks["r"], frame) == pytest.approx(list(value("angle")), abs=1e-3), where
            assert _at(ks["s"], frame) == pytest.approx([value("sx")[0] * 100, value("sy")[0] * 100],
                                                        abs=1e-3), where
            assert _at(ks["o"], frame) == pytest.approx([value("alpha")[0] * 100], abs=1e-3), where
            colour = [c * 255 for c in _at(_paint(layer)["c"], frame)[:3]]
            assert colour == pytest.approx(list(value("tint")), abs=1e-3), where


def test_linear_tweens_are_two_keyframes_and_eased_ones_one_per_frame() -> None:
    document = to_lottie(EASINGS, fps=30)
    linear = _layer(document, "e0")["ks"]["p"]["k"]
    assert [k["t"] for k in linear] == [0, 36]  # dur 1.2 s at 30 fps, no delay
    eased = _layer(document, "e1")["ks"]["p"]["k"]  # easeIn, 0.1 s delay: a hold, then every frame
    assert [k["t"] for k in eased] == [0, *range(3, 40)]


def test_jumps_are_sharp() -> None:
    """A repeat without yoyo jumps back to the start: keyframes just before and at the jump."""
    document = to_lottie(SHAPES, fps=30)
    times = [k["t"] for k in _layer(document, "tri")["ks"]["r"]["k"]]
    assert 30 - 1e-3 in times and 30 in times


def test_every_shape_kind_maps_to_its_lottie_shape() -> None:
    document = to_lottie(SHAPES, glyphs=glyphs_or_skip())
    kinds = {layer["nm"]: [item["ty"] for item in layer["shapes"][0]["it"]] for layer in document["layers"]
             if layer["ty"] == 4}
    assert kinds["c"] == ["el", "fl", "tr"] and kinds["el"] == ["el", "fl", "tr"]
    assert kinds["r"] == ["rc", "fl", "tr"] and kinds["rr"] == ["rc", "fl", "tr"]
    assert kinds["tri"] == kinds["st"] == kinds["pg"] == ["sh", "fl", "tr"]
    assert kinds["ln"] == ["sh", "st", "tr"]
    assert set(kinds["tx"][:-2]) == {"sh"} and kinds["tx"][-2:] == ["fl", "tr"]
    items = {layer["nm"]: layer["shapes"][0]["it"] for layer in document["layers"] if layer["ty"] == 4}
    assert items["c"][0]["s"]["k"] == [60, 60]
    assert items["rr"][0]["r"]["k"] == 16 and items["rr"][0]["s"]["k"] == [80, 50]
    assert items["tri"][0]["ks"]["k"]["v"] == [[0, -35], [30, 35], [-30, 35]]
    assert items["pg"][0]["ks"]["k"]["v"] == [[-40, -30], [35, -20], [20, 35], [-25, 20]]
    line = items["ln"]
    assert line[0]["ks"]["k"]["v"] == [[-40, -30], [40, 30]] and line[0]["ks"]["k"]["c"] is False
    assert line[1]["lc"] == 2 and line[1]["w"]["k"] == 8
    assert _layer(document, "ln")["ks"]["p"]["k"] == [410, 170]  # the midpoint
    assert _layer(document, "r")["ks"]["r"]["k"] == 20
    # Pixi's star: 6 tips from the top, inner radius 15
    star = items["st"][0]["ks"]["k"]["v"]
    assert len(star) == 12 and star[0] == [0, -40] and math.hypot(*star[1]) == pytest.approx(15, abs=1e-3)
    assert star_points(SHAPES.objects[5])[2][0] > 0  # clockwise on screen (y down)


def test_layers_stack_as_pixi_draws_them_over_a_background() -> None:
    document = to_lottie(SHAPES)
    assert [layer["nm"] for layer in document["layers"]] == [o.id for o in reversed(SHAPES.objects)] + ["background"]
    background = document["layers"][-1]
    assert background["ty"] == 1 and background["sc"] == "#101020"
    assert (background["sw"], background["sh"]) == (480, 360) == (document["w"], document["h"])


def test_text_without_a_font_is_a_text_layer() -> None:
    document = to_lottie(SHAPES, glyphs=None)
    text = _layer(document, "tx")
    assert text["ty"] == 5 and text["t"]["d"]["k"][0]["s"]["t"] == "Hello, AVATAR!"
    assert document["text2pixi"]["text"] == "text-layer" and document["fonts"]["list"]


def test_text_outlines_are_laid_out_as_pixi_measures_them() -> None:
    """Widths measured in Chromium for ``40px sans-serif`` (Liberation Sans there): 272.66 px, box 44 px."""
    glyphs = glyphs_or_skip()
    if "Liberation" not in glyphs.name:
        pytest.skip(f"the page's font is Liberation Sans here; this machine gives {glyphs.name}")
    contours = layout_text(glyphs, "Hello, AVATAR!", 40)
    xs = [x for c in contours for x, _ in c.vertices]
    scale = 40 / glyphs.units_per_em
    h, bang = glyphs.glyph("H"), glyphs.glyph("!")
    assert h.bounds is not None and bang.bounds is not None
    assert min(xs) == pytest.approx(-272.66 / 2 + h.bounds[0] * scale, abs=0.05)
    assert max(xs) == pytest.approx(272.66 / 2 - (bang.advance - bang.bounds[2]) * scale, abs=0.05)
    ascent, descent = (v * 40 / glyphs.units_per_em for v in font_box(glyphs))
    assert ascent + descent == pytest.approx(44, abs=1.0)
    assert glyphs.kerning("A", "V") < 0 and glyphs.kerning("H", "e") == 0
    # Two lines: one box height apart, the pair centred as a whole.
    one, two = layout_text(glyphs, "b", 20), layout_text(glyphs, "b\nb", 20)
    line_height = (ascent + descent) / 2
    assert len(two) == 2 * len(one)
    assert two[0].vertices[0][1] == pytest.approx(one[0].vertices[0][1] - line_height / 2)
    assert two[len(one)].vertices[0][1] == pytest.approx(one[0].vertices[0][1] + line_height / 2)


def test_a_finite_scene_lasts_its_own_duration() -> None:
    assert lottie_duration(DEMO.model_copy(update={"anims": DEMO.anims[1:]})) == 3.0
    document = to_lottie(EASINGS, fps=25)
    assert document["op"] == frame_count(lottie_duration(EASINGS), 25) == round(1.8 * 25)
    assert document["text2pixi"]["loops"] is False and document["fr"] == 25 and document["ip"] == 0
    assert document["text2pixi"]["duration"] == 1.8


@pytest.mark.parametrize(("fps", "duration"), [(30, 2.0), (24, 1.5), (60, 0.5), (12, 7.25)])
def test_frame_count_is_duration_times_fps(fps: int, duration: float) -> None:
    document = to_lottie(LOOPS, fps=fps, duration=duration)
    assert document["op"] == round(duration * fps)
    assert all(layer["op"] == document["op"] for layer in document["layers"])
    assert document["text2pixi"]["duration"] == pytest.approx(duration)


def test_a_scene_that_loops_forever_exports_its_intro_and_one_cycle() -> None:
    plan = loop_plan(LOOPS)
    # Last tweens: spin 1.5 s, hop yoyo 2 x 0.5 s from 1.2 s, pulse yoyo 1 s, word 2 x 1 s and 2 x 0.75 s;
    # the glow fades 4 times until 4 s: the loop settles at 4 s and repeats every lcm(1.5, 1, 2, 1.5) = 6 s.
    assert (plan.start, plan.cycle, plan.duration, plan.loops) == (4.0, 6.0, 10.0, True)
    document = to_lottie(LOOPS)
    meta = document["text2pixi"]
    assert (meta["loops"], meta["cycle"], meta["start"], meta["duration"]) == (True, 6.0, 4.0, 10.0)
    assert document["markers"] == [{"tm": 120.0, "cm": "cycle", "dr": 180.0}]
    assert "loops forever" in document["nm"]
    assert lottie_duration(DEMO) == 3.0 + 2.0  # the colour ends at 3 s; the square turns every 2 s


def test_long_cycles_are_capped() -> None:
    scene = Scene.model_validate({
        "objects": [{"type": "circle", "id": "a", "x": 50, "y": 50, "r": 5},
                    {"type": "circle", "id": "b", "x": 150, "y": 50, "r": 5}],
        "anims": [{"type": "rotate", "target": "a", "by": 90, "dur": 3.7, "repeat": -1},
                  {"type": "rotate", "target": "b", "by": 90, "dur": 4.1, "repeat": -1}],
    })
    plan = loop_plan(scene)
    assert plan.cycle == pytest.approx(151.7) and plan.duration == 10.0 and plan.capped
    assert to_lottie(scene, fps=10)["op"] == 100


def test_a_still_scene_is_one_second() -> None:
    document = to_lottie(STATIC, fps=30)
    assert document["op"] == 30 and document["text2pixi"]["loops"] is False


def test_chained_tweens_follow_the_runtime_order() -> None:
    state = tracks(CHAINED)
    pos = state[("r", "pos")]
    assert pos.value(0.5) == pytest.approx((150, 200))  # the 2nd move starts from where the 1st got
    assert pos.value(1.5) == (300, 100)
    angle = state[("r", "angle")]
    assert angle.value(0.2)[0] == pytest.approx(45)  # the first rotation's value at 0.2 s
    assert angle.value(5)[0] == pytest.approx(45 + 45)


def test_bad_arguments() -> None:
    with pytest.raises(ValueError):
        to_lottie(DEMO, fps=0)
    with pytest.raises(ValueError):
        to_lottie(DEMO, duration=0)
