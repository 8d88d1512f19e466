"""Timeline-based quality checks on order and repetition (sequences, loops, before/while/after, oscillating
presets, spins), each on hand-built compiled scenes that pass and fail."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.test_eval_space import move, passes, scene, square
from text2pixi.core.scene import Scene

PATH = [{"kind": "move", "direction": d} for d in ("right", "down", "left", "up")]
RIGHT_DOWN_LEFT_UP = [move("sq", 600, 300), move("sq", 600, 500, delay=1), move("sq", 400, 500, delay=2),
                      move("sq", 400, 300, delay=3)]


def _looped(times: int) -> Scene:
    cycle = {"start": 0, "every": 4, "times": times}
    return scene([square()], [{**m, "cycle": cycle} for m in RIGHT_DOWN_LEFT_UP])


def test_sequence_of_moves() -> None:
    spec = {"check": "sequence", "kind": "square", "steps": PATH}
    assert passes(spec, scene([square()], RIGHT_DOWN_LEFT_UP))
    at_once = scene([square()], [{**m, "delay": 0} for m in RIGHT_DOWN_LEFT_UP])   # the failure
    assert not passes(spec, at_once)
    backwards = scene([square()], [move("sq", 400, 500), move("sq", 600, 500, delay=1), move("sq", 600, 300,
                                                                                             delay=2)])
    assert not passes(spec, backwards)
    with_distance = {"check": "sequence", "kind": "square", "steps": [
        {"kind": "move", "direction": "east", "distance": 200},
        {"kind": "move", "direction": "south", "distance": 200}]}
    assert passes(with_distance, scene([square()], RIGHT_DOWN_LEFT_UP))
    assert not passes({**with_distance, "steps": [{"kind": "move", "direction": "east", "distance": 100},
                                                  {"kind": "move", "direction": "south"}]},
                      scene([square()], RIGHT_DOWN_LEFT_UP))


def test_sequence_of_kinds_and_overlap() -> None:
    steps = [{"kind": "rotate", "direction": "cw"}, {"kind": "move", "direction": "up-left"},
             {"kind": "fade", "way": "out"}]
    spec = {"check": "sequence", "kind": "square", "steps": steps}
    good = scene([square()], [{"type": "rotate", "target": "sq", "by": 360}, move("sq", 100, 100, delay=1),
                              {"type": "fade", "target": "sq", "to": 0, "delay": 2}])
    assert passes(spec, good)
    overlapping = scene([square()], [{"type": "rotate", "target": "sq", "by": 360, "dur": 2},
                                     move("sq", 100, 100, delay=1), {"type": "fade", "target": "sq", "to": 0,
                                                                     "delay": 2}])
    assert not passes(spec, overlapping)
    grow_shrink = {"check": "sequence", "kind": "square",
                   "steps": [{"kind": "scale", "way": "grow"}, {"kind": "scale", "way": "shrink"}]}
    yoyo = scene([square()], [{"type": "scale", "target": "sq", "to": 2, "yoyo": True, "repeat": 5}])
    assert passes(grow_shrink, yoyo)   # one yoyo animation shows grow, then shrink
    assert not passes(grow_shrink, scene([square()], [{"type": "scale", "target": "sq", "to": 2}]))
    recolour = {"check": "sequence", "kind": "square", "steps": [{"kind": "move"}, {"kind": "color", "to": "red"}]}
    then_red = [move("sq", 600, 300), {"type": "color", "target": "sq", "to": "red", "delay": 1}]
    assert passes(recolour, scene([square()], then_red))
    assert not passes(recolour, scene([square()], [then_red[0], {**then_red[1], "to": "blue"}]))


def test_loop_of_a_whole_sequence() -> None:
    forever = {"check": "loop", "kind": "square", "times": -1, "min_legs": 4}
    assert passes(forever, _looped(-1))
    assert not passes(forever, _looped(3))                         # stops after three cycles
    assert passes({**forever, "times": 3}, _looped(3))
    assert not passes({**forever, "times": 3}, _looped(2))
    last_only = scene([square()], RIGHT_DOWN_LEFT_UP[:3] + [{**RIGHT_DOWN_LEFT_UP[3], "repeat": -1, "yoyo": True}])
    assert not passes(forever, last_only)                          # only the last leg repeats
    assert not passes(forever, scene([square()], RIGHT_DOWN_LEFT_UP))
    back_and_forth = scene([square()], [move("sq", 200, 300, repeat=-1, yoyo=True)])
    assert passes({"check": "loop", "kind": "square"}, back_and_forth)          # left, then right, forever
    assert not passes({"check": "loop", "kind": "square", "min_legs": 4}, back_and_forth)


def _two(anim_a: dict[str, Any], anim_b: dict[str, Any]) -> Scene:
    return scene([square("a", 200, 300, color="red"), square("b", 600, 300, color="blue")],
                 [{**anim_a, "target": "a"}, {**anim_b, "target": "b"}])


@pytest.mark.parametrize(("a", "b", "rel", "ok"), [
    ({"delay": 0, "dur": 1}, {"delay": 1, "dur": 1}, "before", True),
    ({"delay": 0, "dur": 1}, {"delay": 0.5, "dur": 1}, "before", False),
    ({"delay": 2, "dur": 1}, {"delay": 0, "dur": 2}, "after", True),
    ({"delay": 0, "dur": 1}, {"delay": 0, "dur": 2}, "after", False),
    ({"delay": 0, "dur": 2}, {"delay": 0.5, "dur": 1}, "while", True),
    ({"delay": 0, "dur": 1}, {"delay": 1, "dur": 1}, "while", False),
    ({"delay": 0, "dur": 1, "repeat": -1}, {"delay": 3, "dur": 1}, "while", True),
    ({"delay": 0.1, "dur": 1}, {"delay": 0, "dur": 3}, "together", True),
    ({"delay": 1, "dur": 1}, {"delay": 0, "dur": 3}, "together", False),
])
def test_interval(a: dict[str, Any], b: dict[str, Any], rel: str, ok: bool) -> None:
    s = _two({"type": "move", "x": 200, "y": 100, **a}, {"type": "move", "x": 600, "y": 500, **b})
    spec = {"check": "interval", "a": {"color": "red"}, "b": {"color": "blue"}, "a_kind": "move", "b_kind": "move",
            "rel": rel}
    assert passes(spec, s) is ok


def test_interval_between_two_kinds_of_one_object_and_missing_kinds() -> None:
    s = scene([square()], [move("sq", 600, 300, dur=2), {"type": "color", "target": "sq", "to": "red", "dur": 2}])
    same = {"check": "interval", "a": {"kind": "square"}, "b": {"kind": "square"}, "a_kind": "move",
            "b_kind": "color"}
    assert passes({**same, "rel": "together"}, s) and not passes({**same, "rel": "before"}, s)
    assert not passes({**same, "b_kind": "fade", "rel": "while"}, s)


@pytest.mark.parametrize(("anim", "check", "ok"), [
    (move("sq", 400, 200, dur=0.5, repeat=-1, yoyo=True, ease="easeOut"), {"props": ["y"], "min_range": 50}, True),
    (move("sq", 400, 200, dur=0.5), {"props": ["y"]}, False),                     # one move is not a bounce
    (move("sq", 410, 300, dur=0.05, repeat=9, yoyo=True), {"props": ["x"], "min_swings": 3, "max_range": 40}, True),
    (move("sq", 410, 300, dur=0.05, repeat=9, yoyo=True), {"props": ["y"], "min_swings": 3}, False),
    (move("sq", 600, 300, dur=0.5, repeat=3, yoyo=True), {"props": ["x"], "max_range": 40}, False),   # too wide
    ({"type": "scale", "target": "sq", "to": 1.2, "dur": 0.5, "repeat": -1, "yoyo": True},
     {"props": ["scale"], "min_range": 0.1, "forever": True}, True),
    ({"type": "scale", "target": "sq", "to": 1.2, "dur": 0.5, "repeat": 3, "yoyo": True},
     {"props": ["scale"], "forever": True}, False),
    ({"type": "fade", "target": "sq", "to": 0, "dur": 0.3, "repeat": -1, "yoyo": True},
     {"props": ["alpha"], "min_range": 0.6}, True),
    ({"type": "fade", "target": "sq", "to": 0.8, "dur": 0.3, "repeat": -1, "yoyo": True},
     {"props": ["alpha"], "min_range": 0.6}, False),
    ({"type": "rotate", "target": "sq", "by": 15, "dur": 0.2, "repeat": -1, "yoyo": True},
     {"props": ["angle", "x"]}, True),
])
def test_oscillate(anim: dict[str, Any], check: dict[str, Any], ok: bool) -> None:
    assert passes({"check": "oscillate", "kind": "square", **check}, scene([square()], [anim])) is ok


@pytest.mark.parametrize(("anim", "check", "ok"), [
    ({"by": 360, "dur": 2, "repeat": -1}, {"forever": True}, True),
    ({"by": 360, "dur": 2, "repeat": -1, "yoyo": True}, {}, False),       # back and forth is not a spin
    ({"by": -360, "dur": 1, "repeat": -1}, {"direction": "ccw", "min_turns": 2}, True),
    ({"by": -360, "dur": 1, "repeat": -1}, {"direction": "cw"}, False),
    ({"by": 720, "dur": 2}, {"min_turns": 2, "direction": "cw"}, True),
    ({"by": 720, "dur": 2}, {"forever": True}, False),
    ({"by": 90, "dur": 1}, {}, False),
])
def test_spin(anim: dict[str, Any], check: dict[str, Any], ok: bool) -> None:
    s = scene([square()], [{"type": "rotate", "target": "sq", **anim}])
    assert passes({"check": "spin", "kind": "square", **check}, s) is ok


def test_a_spin_is_not_a_wobble() -> None:
    spin = scene([square()], [{"type": "rotate", "target": "sq", "by": 360, "dur": 1, "repeat": -1}])
    assert not passes({"check": "oscillate", "kind": "square", "props": ["angle"]}, spin)


def test_forever_counts_a_looped_sequence() -> None:
    cycle = {"start": 0, "every": 2, "times": -1}
    s = scene([square()], [{"type": "color", "target": "sq", "to": "red", "cycle": cycle},
                           {"type": "color", "target": "sq", "to": "blue", "delay": 1, "cycle": cycle}])
    timing = {"check": "timing", "kind": "square", "anim": "color", "forever": True}
    assert passes(timing, s)
    assert not passes(timing, scene([square()], [{"type": "color", "target": "sq", "to": "red"}]))
