"""Timeline-based quality checks on pivots, scale axes, visibility and fade-ins, each on hand-built compiled
scenes (with the pivot and scale-axis extensions) that pass and fail."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.test_eval_space import move, passes, scene, square
from text2pixi.core.scene import Scene
from text2pixi.quality.sampling import SceneTimeline, local_point


def _turn(pivot: list[float] | None, by: int = -90, **obj: Any) -> Scene:
    return scene([square(pivot=pivot, **obj)], [{"type": "rotate", "target": "sq", "by": by, "dur": 1}])


def test_points_of_an_object_follow_the_pivot() -> None:
    s = _turn([-40, 40])
    view, obj = SceneTimeline(s), s.objects[0]
    assert local_point(obj, "bottom-left") == (-40, 40) and local_point(obj, "top") == (0, -40)
    corner = [view.point(obj, (-40, 40), t) for t in (0, 0.5, 1)]
    assert all(abs(x - 360) < 1e-6 and abs(y - 340) < 1e-6 for x, y in corner)
    top_right = view.point(obj, (40, -40), 1.0)    # after a quarter turn anticlockwise about the bottom-left
    assert (round(top_right[0]), round(top_right[1])) == (280, 260)


@pytest.mark.parametrize(("s", "check", "ok"), [
    (_turn([-40, 40]), {"about": "bottom-left", "what": "rotate"}, True),
    (_turn([-40, 40]), {"about": "bottom-right"}, False),
    (_turn(None), {"about": "bottom-left"}, False),                     # turns about its centre
    (_turn(None), {"about": "center"}, True),
    (_turn([-40, 0], by=60), {"about": "left", "what": "rotate"}, True),
    (_turn([-40, 40], by=5), {"about": "bottom-left"}, False),          # barely turns
    (scene([square(pivot=[-40, -40])], [{"type": "scale", "target": "sq", "to": 3}]),
     {"about": "top-left", "what": "scale"}, True),
    (scene([square()], [{"type": "scale", "target": "sq", "to": 3}]), {"about": "top-left", "what": "scale"}, False),
    (scene([square(pivot=[-40, -40])], [{"type": "scale", "target": "sq", "to": 3}, move("sq", 600, 300)]),
     {"about": "top-left"}, False),                                     # moves while it scales
    (scene([square(pivot=[-40, -40])], [move("sq", 600, 300)]), {"about": "top-left"}, False),
])
def test_pivot(s: Scene, check: dict[str, Any], ok: bool) -> None:
    assert passes({"check": "pivot", "kind": "square", **check}, s) is ok


def _scale(axis: str, to: float, yoyo: bool = False) -> Scene:
    return scene([square(w=160, h=40)], [{"type": "scale", "target": "sq", "to": to, "axis": axis, "yoyo": yoyo,
                                         "repeat": 1 if yoyo else 0}])


@pytest.mark.parametrize(("s", "check", "ok"), [
    (_scale("x", 2), {"axis": "x", "way": "grow", "factor": 1.8}, True),
    (_scale("x", 2), {"axis": "y"}, False),
    (_scale("x", 2), {"axis": "xy"}, False),
    (_scale("xy", 2), {"axis": "x"}, False),                     # both change: not x only
    (_scale("xy", 2), {"axis": "xy", "way": "grow", "factor": 2}, True),
    (_scale("y", 0.5), {"axis": "y", "way": "shrink", "factor": 1.8}, True),
    (_scale("y", 0.5), {"axis": "y", "way": "grow"}, False),
    (_scale("y", 1.1), {"axis": "y"}, False),                    # less than the default factor 1.2
    (_scale("x", 2, yoyo=True), {"axis": "x", "way": "grow", "factor": 1.8}, True),   # grows, then back
])
def test_axis_scale(s: Scene, check: dict[str, Any], ok: bool) -> None:
    assert passes({"check": "axis_scale", "kind": "rect", **check}, s) is ok


def _shape(color: str | None, bg: str, **extra: Any) -> Scene:
    obj = {"type": "circle", "id": "c", "x": 400, "y": 300, "r": 50, **({"color": color} if color else {}), **extra}
    return scene([obj], bg=bg)


@pytest.mark.parametrize(("color", "bg", "ratio", "ok"), [
    ("white", "#f0f0f0", 3.0, False),   # the invisible default: 1.14
    ("black", "#f0f0f0", 3.0, True),
    ("white", "navy", 4.5, True),
    ("yellow", "white", 1.5, False),    # 1.07
    ("blue", "black", 3.0, False),      # 2.44: plainly visible, under WCAG's 3
    ("blue", "black", 2.0, True),
])
def test_visible_contrast(color: str, bg: str, ratio: float, ok: bool) -> None:
    assert passes({"check": "visible", "kind": "circle", "min_ratio": ratio}, _shape(color, bg)) is ok


def test_visible_needs_the_stage_and_some_opacity_at_one_moment() -> None:
    circle = {"type": "circle", "id": "c", "x": 400, "y": 300, "r": 50, "color": "white"}
    faint = scene([{**circle, "alpha": 0.1}], bg="black")
    assert not passes({"check": "visible", "kind": "circle"}, faint)      # white at 10 % on black: 1.9
    fading_in = scene([{**circle, "alpha": 0}], [{"type": "fade", "target": "c", "to": 1}], bg="black")
    assert passes({"check": "visible", "kind": "circle"}, fading_in)
    offstage = scene([{**circle, "x": -200}], [move("c", -300, 300)], bg="black")
    assert not passes({"check": "visible", "kind": "circle"}, offstage)
    slides_in = scene([{**circle, "x": -200}], [move("c", 400, 300)], bg="black")
    assert passes({"check": "visible", "kind": "circle"}, slides_in)
    dark = {**circle, "color": "#050505"}
    assert not passes({"check": "visible", "kind": "circle"}, scene([dark], bg="black"))
    assert passes({"check": "visible", "kind": "circle"},
                  scene([dark], [{"type": "color", "target": "c", "to": "white"}], bg="black"))


def test_starts_hidden() -> None:
    circle = {"type": "circle", "id": "c", "x": 400, "y": 300, "r": 50}
    spec = {"check": "starts_hidden", "kind": "circle"}
    assert passes(spec, scene([{**circle, "alpha": 0}], [{"type": "fade", "target": "c", "to": 1, "delay": 1}]))
    assert not passes(spec, scene([circle], [{"type": "fade", "target": "c", "to": 1}]))   # the failure
    assert not passes(spec, scene([{**circle, "alpha": 0}], [{"type": "fade", "target": "c", "to": 0.5}]))
