"""Every v2 motion preset in a real Chromium, at exact ``seek(t)`` times.

Each case is one red square in the middle of an 800x600 black stage (the only item, so it rests at (400, 300))
doing one preset. The expected transforms are worked out by hand from the preset's documented timeline
(docs/scene-v2.md, "Steps"), not from the compiler or ``core/timeline.py``: the page's ``__PIXI_APP__`` object
must have them at each time, and the pixels must show the square where the transform says (or the background
where it is invisible).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from tests.frames import pixels_at, seek
from tests.pixels import open_html
from text2pixi.core.codegen import render_page
from text2pixi.core.scene import Scene
from text2pixi.core.v2 import V2Scene, compile_scene

pytestmark = pytest.mark.browser

RED, BLACK, BLUE = [255, 0, 0], [0, 0, 0], [0, 0, 255]

_STATE = """() => { const c = globalThis.__PIXI_APP__.stage.children.find((o) => o.label === 'a');
  return { x: c.position.x, y: c.position.y, angle: c.angle, sx: c.scale.x, sy: c.scale.y, alpha: c.alpha,
           tint: c.tint }; }"""

# (step, [(t, {property: expected})]); x/y are the object's position (its centre: no pivot here).
PRESETS: dict[str, tuple[dict[str, Any], list[tuple[float, dict[str, float]]]]] = {
    "spin": ({"spin": "cw"}, [(0.0, {"angle": 0}), (0.5, {"angle": 90}), (1.0, {"angle": 180}),
                              (2.5, {"angle": 90})]),  # 2 s a turn, linear, forever
    "spin-ccw": ({"spin": "ccw"}, [(0.5, {"angle": -90}), (1.5, {"angle": -270})]),
    "pulse": ({"pulse": 1.5}, [(0.0, {"sx": 1, "sy": 1}), (0.25, {"sx": 1.25, "sy": 1.25}), (0.5, {"sx": 1.5}),
                               (1.0, {"sx": 1.0}), (1.5, {"sx": 1.5})]),  # 0.5 s each way, easeInOut, forever
    "bounce": ({"bounce": 100}, [(0.0, {"y": 300}), (0.4, {"y": 200, "x": 400}), (0.8, {"y": 300}),
                                 (1.2, {"y": 200})]),  # 0.4 s each way
    "shake": ({"shake": 10}, [(0.0, {"x": 400}), (0.05, {"x": 410}), (0.15, {"x": 390}), (0.25, {"x": 410}),
                              (0.35, {"x": 390}), (0.45, {"x": 410}), (0.5, {"x": 400}), (2.0, {"x": 400, "y": 300})]),
    "float": ({"float": 20}, [(0.0, {"y": 300}), (0.5, {"y": 290}), (1.0, {"y": 280}), (2.0, {"y": 300})]),
    "blink": ({"blink": 1}, [(0.0, {"alpha": 1}), (0.125, {"alpha": 0.5}), (0.25, {"alpha": 0}),
                             (0.5, {"alpha": 1}), (3.0, {"alpha": 1})]),
    "fade-in": ({"fade": "in"}, [(0.0, {"alpha": 0}), (0.5, {"alpha": 0.5}), (1.0, {"alpha": 1})]),
    "fade-out": ({"fade": "out"}, [(0.0, {"alpha": 1}), (0.25, {"alpha": 0.75}), (1.0, {"alpha": 0})]),
    "grow": ({"grow": 2}, [(0.0, {"sx": 1}), (0.5, {"sx": 1.5, "sy": 1.5}), (1.0, {"sx": 2, "sy": 2})]),
    "shrink": ({"shrink": 2}, [(0.0, {"sx": 1}), (1.0, {"sx": 0.5, "sy": 0.5})]),
    "color": ({"color": "blue"}, [(0.0, {"tint": 0xFF0000}), (1.0, {"tint": 0x0000FF})]),
}


@pytest.fixture()
def context(browser):  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": 900, "height": 700}, device_scale_factor=1)
    yield ctx
    ctx.close()


def _scene(step: dict[str, Any]) -> Scene:
    return compile_scene(V2Scene.model_validate(
        {"bg": "black", "items": [{"id": "a", "shape": "square", "color": "red", "size": 100, "do": [step]}]}))


def _open(context: Any, tmp_path: Path, pixi_js: str, scene: Scene) -> Any:
    page, errors, _ = open_html(context, tmp_path / "scene.html", render_page(scene, pixi_js))
    assert page.evaluate("document.body.dataset.state") == "playing", errors
    return page


def _close(actual: float, want: float, prop: str) -> bool:
    if prop == "angle":
        return abs((actual - want + 180) % 360 - 180) < 0.5
    return abs(actual - want) < (0.5 if prop in ("x", "y") else 0.01)


@pytest.mark.parametrize("name", list(PRESETS))
def test_preset_transforms_and_pixels_at_exact_times(name: str, context: Any, tmp_path: Path, pixi_js: str) -> None:
    step, expectations = PRESETS[name]
    page = _open(context, tmp_path, pixi_js, _scene(step))
    try:
        for t, want in expectations:
            seek(page, t)
            state = page.evaluate(_STATE)
            wrong = {p: (state[p], v) for p, v in want.items()
                     if not (state[p] == v if p == "tint" else _close(state[p], v, p))}
            assert not wrong, f"{name} at t={t}: (page, expected) {wrong}"
            # The pixels agree: the square's colour at its centre, or the background where it is invisible.
            centre = (round(state["x"]), round(state["y"]))
            [pixel] = pixels_at(page, [centre])
            if state["alpha"] < 0.02:
                assert pixel == BLACK, f"{name} at t={t}: {pixel}"
            elif state["alpha"] > 0.98 and state["tint"] in (0xFF0000, 0x0000FF):
                assert pixel == (RED if state["tint"] == 0xFF0000 else BLUE), f"{name} at t={t}: {pixel}"
    finally:
        page.close()


def test_slide_in_starts_off_stage_and_slide_out_ends_off_stage(context: Any, tmp_path: Path, pixi_js: str) -> None:
    half = 50  # the square is 100 px
    page = _open(context, tmp_path, pixi_js, _scene({"slide": "in", "side": "left"}))
    try:
        seek(page, 0.0)
        start = page.evaluate(_STATE)
        assert start["x"] + half <= 0 and start["y"] == 300, start  # wholly off the left edge, same y
        assert pixels_at(page, [(5, 300), (400, 300)]) == [BLACK, BLACK]
        seek(page, 1.0)
        end = page.evaluate(_STATE)
        assert (end["x"], end["y"]) == (400, 300)
        assert pixels_at(page, [(400, 300)]) == [RED]
    finally:
        page.close()
    page = _open(context, tmp_path, pixi_js, _scene({"slide": "out"}))  # default side: right
    try:
        seek(page, 1.0)
        end = page.evaluate(_STATE)
        assert end["x"] - half >= 800 and end["y"] == 300, end
        assert pixels_at(page, [(400, 300), (795, 300)]) == [BLACK, BLACK]
    finally:
        page.close()


@pytest.mark.parametrize(("how", "bottom"), [("bottom", True), ("off", False)])
def test_fall(how: str, bottom: bool, context: Any, tmp_path: Path, pixi_js: str) -> None:
    page = _open(context, tmp_path, pixi_js, _scene({"fall": how}))
    try:
        seek(page, 1.0)
        end = page.evaluate(_STATE)
        assert end["x"] == 400
        if bottom:  # the box touches the bottom edge, and the square is drawn there
            assert math.isclose(end["y"] + 50, 600, abs_tol=0.5), end
            assert pixels_at(page, [(400, 595), (400, 300)]) == [RED, BLACK]
        else:  # wholly below the stage
            assert end["y"] - 50 >= 600, end
            assert pixels_at(page, [(400, 595)]) == [BLACK]
    finally:
        page.close()
