"""The compiled scene's extensions in a real Chromium: pivot, x/y scale tracks, looped sequences, off-stage places.

For each scene of ``tests.unit.test_compiled_scene.EXTENDED`` the standalone page is paused at exact
``seek(t)`` times and every object's Pixi transform (position, pivot, angle, scale, alpha, tint) is read from
``__PIXI_APP__`` and compared with ``core.timeline`` (the runtime's arithmetic in Python); then geometry worked
out by hand is checked on the transforms (``toGlobal``, ``getBounds``) and on the pixels.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from tests.frames import count_colour, pixels_at, pixi_frame, seek
from tests.pixels import open_html
from tests.unit.test_compiled_scene import EXTENDED
from text2pixi.core.codegen import render_page
from text2pixi.core.scene import Scene
from text2pixi.core.timeline import initial_value, position, tracks

pytestmark = pytest.mark.browser

_TRANSFORMS = """() => Object.fromEntries(globalThis.__PIXI_APP__.stage.children.map((c) => [c.label, {
  x: c.position.x, y: c.position.y, px: c.pivot.x, py: c.pivot.y, angle: c.angle, sx: c.scale.x, sy: c.scale.y,
  alpha: c.alpha, tint: c.tint }]))"""

_POINT = """([label, x, y]) => {
  const c = globalThis.__PIXI_APP__.stage.children.find((o) => o.label === label);
  const p = c.toGlobal({ x, y });
  return [p.x, p.y];
}"""

_BOUNDS = """(label) => {
  const b = globalThis.__PIXI_APP__.stage.children.find((o) => o.label === label).getBounds();
  return [b.minX, b.minY, b.maxX, b.maxY];
}"""

TIMES = (0.0, 0.25, 0.5, 0.75, 1.0, 1.3, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.25, 7.0, 33.75)


@pytest.fixture()
def context(browser):  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": 900, "height": 700}, device_scale_factor=1)
    yield ctx
    ctx.close()


@pytest.fixture()
def open_scene(context: Any, tmp_path: Path, pixi_js: str):  # type: ignore[no-untyped-def]
    pages: list[Any] = []

    def opener(scene: Scene) -> Any:
        page, errors, _ = open_html(context, tmp_path / f"scene{len(pages)}.html", render_page(scene, pixi_js))
        pages.append(page)
        assert page.evaluate("document.body.dataset.state") == "playing", errors
        return page

    yield opener
    for page in pages:
        page.close()


def expected(scene: Scene, t: float) -> dict[str, dict[str, float]]:
    """What the page's transforms must be at ``t``, from the timeline."""
    state = tracks(scene)
    out = {}
    for obj in scene.objects:
        def value(prop: str, obj: Any = obj) -> tuple[float, ...]:
            track = state.get((obj.id, prop))
            return track.value(t) if track else initial_value(obj, prop)

        x, y = position(obj, value("pos"))
        px, py = obj.pivot or (0.0, 0.0)
        r, g, b = (max(0, min(255, round(c))) for c in value("tint"))
        out[obj.id] = {"x": x, "y": y, "px": px, "py": py, "angle": value("angle")[0], "sx": value("sx")[0],
                       "sy": value("sy")[0], "alpha": value("alpha")[0], "tint": (r << 16) + (g << 8) + b}
    return out


@pytest.mark.parametrize("name", list(EXTENDED))
def test_transforms_equal_the_timeline_at_exact_times(name: str, open_scene: Any) -> None:
    scene = EXTENDED[name]
    page = open_scene(scene)
    for t in TIMES:
        seek(page, t)
        got = page.evaluate(_TRANSFORMS)
        for oid, want in expected(scene, t).items():
            for key, v in want.items():
                assert got[oid][key] == pytest.approx(v, abs=1e-9), f"{name}: {oid}.{key} at t={t}"


def test_a_square_turns_about_its_bottom_left_corner(open_scene: Any) -> None:
    page = open_scene(EXTENDED["pivot"])
    blue, black = [0x33, 0x66, 0xFF], [0, 0, 0]
    for t in (0.0, 0.3, 0.5, 1.0, 2.0):
        seek(page, t)
        assert page.evaluate(_POINT, ["sq", -40, 40]) == pytest.approx([360, 340], abs=1e-9), t
    seek(page, 1.0)  # 90 degrees anticlockwise about (360, 340)
    assert page.evaluate(_POINT, ["sq", 40, -40]) == pytest.approx([280, 260], abs=1e-9)
    assert page.evaluate(_BOUNDS, "sq") == pytest.approx([280, 260, 360, 340], abs=1e-6)
    assert pixels_at(page, [[300, 280], [340, 320], [420, 300], [400, 265]]) == [blue, blue, black, black]
    seek(page, 0.5)  # 45 degrees: the far corner straight above the pivot
    assert page.evaluate(_POINT, ["sq", 40, -40]) == pytest.approx([360, 340 - 80 * math.sqrt(2)], abs=1e-9)
    seek(page, 0.0)
    assert pixels_at(page, [[300, 280], [420, 300]]) == [black, blue]
    # the bar turns about its right end, which moves with the centre: (200+60, 480) -> (300+60, 420)
    for t, end in ((0.0, [260, 480]), (1.0, [310, 450]), (2.0, [360, 420]), (4.0, [360, 420])):
        seek(page, t)
        assert page.evaluate(_POINT, ["bar", 60, 0]) == pytest.approx(end, abs=1e-9), t
    seek(page, 2.0)  # 90 degrees clockwise at 1.5x: the bar points straight up from its right end
    assert page.evaluate(_POINT, ["bar", -60, 0]) == pytest.approx([360, 420 - 180], abs=1e-9)


def test_scaling_in_x_only_and_then_both_axes(open_scene: Any) -> None:
    page = open_scene(EXTENDED["axis"])
    seek(page, 1.0)  # x doubled about the left edge (250): 250..450, height unchanged
    assert page.evaluate(_BOUNDS, "wide") == pytest.approx([250, 170, 450, 230], abs=1e-6)
    green, dark = [0x22, 0xCC, 0x66], [0x10, 0x10, 0x10]
    assert pixels_at(page, [[260, 200], [440, 200], [300, 175], [300, 236]]) == [green, green, green, dark]
    seek(page, 1.5)  # both axes from their own values: sx 2 -> 1.25, sy 1 -> 0.75
    assert page.evaluate(_BOUNDS, "wide") == pytest.approx([250, 177.5, 375, 222.5], abs=1e-6)
    seek(page, 2.0)
    assert page.evaluate(_BOUNDS, "wide") == pytest.approx([250, 185, 300, 215], abs=1e-6)
    seek(page, 0.5)  # y only, about the centre: 60 -> 120 tall, 80 wide
    assert page.evaluate(_BOUNDS, "egg") == pytest.approx([560, 340, 640, 460], abs=0.5)


def test_a_looped_sequence_replays_from_its_beginning(open_scene: Any) -> None:
    page = open_scene(EXTENDED["cycle"])
    yellow, navy = [255, 255, 0], [0, 0, 128]
    for t, (x, y) in ((1.0, (250, 150)), (2.5, (350, 350)), (3.0, (350, 350)), (3.5, (150, 150)),
                      (4.0, (250, 150)), (33.5, (150, 150))):
        seek(page, t)
        got = page.evaluate(_TRANSFORMS)["dot"]
        assert (got["x"], got["y"]) == pytest.approx((x, y), abs=1e-9), t
        others = [[150, 150], [350, 150], [350, 350], [250, 150]]
        shown = pixels_at(page, others)
        assert [p for p, c in zip(others, shown, strict=True) if c == yellow] == [[x, y]], t
        assert all(c == navy for c in shown if c != yellow)
    # the tile recolours late in each of its two cycles, and keeps the new colour after them
    pink, blue = [0xFF, 0x66, 0xCC], [0x00, 0xCC, 0xFF]
    for t, colour in ((0.9, pink), (1.6, blue), (2.9, pink), (3.6, blue), (9.0, blue)):
        assert pixels_at(page, [[600, 420]], t) == [colour], t


def test_objects_may_start_and_end_off_the_stage(open_scene: Any) -> None:
    page = open_scene(EXTENDED["offstage"])
    red, blue = [0xCC, 0, 0], [0, 0, 0xCC]
    frame = pixi_frame(page, 0.0)
    assert page.evaluate(_BOUNDS, "inner")[2] == pytest.approx(-20)
    assert count_colour(frame, red) == 0 and count_colour(frame, blue) > 4000
    frame = pixi_frame(page, 2.0)
    assert page.evaluate(_BOUNDS, "outer")[0] == pytest.approx(955)
    assert count_colour(frame, blue) == 0 and count_colour(frame, red) > 4500
    assert pixels_at(page, [[300, 200]]) == [red]
