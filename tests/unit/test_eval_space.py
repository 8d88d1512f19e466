"""Timeline-based quality checks on where things are and go, each on a hand-built compiled scene that
passes and one that fails."""

from __future__ import annotations

from typing import Any

import pytest

from text2pixi.core.scene import Scene
from text2pixi.quality.cases import Case, evaluate_case
from text2pixi.quality.sampling import SceneTimeline, direction_vector, legs


def scene(objects: list[dict[str, Any]], anims: list[dict[str, Any]] | None = None, **stage: Any) -> Scene:
    return Scene.model_validate({"objects": objects, "anims": anims or [], **stage})


def passes(check: dict[str, Any], s: Scene) -> bool:
    c = Case.model_validate({"id": "t", "prompt": "p", "difficulty": "easy", "category": "motion", "expect": [check]})
    return evaluate_case(c, s)[0].passed


def square(id_: str = "sq", x: int = 400, y: int = 300, size: int = 80, **extra: Any) -> dict[str, Any]:
    return {"type": "rect", "id": id_, "x": x, "y": y, "w": size, "h": size, **extra}


def move(target: str, x: int, y: int, **extra: Any) -> dict[str, Any]:
    return {"type": "move", "target": target, "x": x, "y": y, **extra}


NE_150 = scene([square()], [move("sq", 506, 194, dur=2)])  # 106 px right, 106 px up: 150 px north-east


def test_directions_are_unit_vectors() -> None:
    assert direction_vector("north") == (0.0, -1.0) and direction_vector("west") == (-1.0, 0.0)
    nx, ny = direction_vector("northeast")
    assert direction_vector("up-right") == direction_vector("north-east") == (nx, ny) and nx > 0 > ny


@pytest.mark.parametrize(("check", "ok"), [
    ({"direction": "north-east", "distance": 150}, True),
    ({"direction": "up-right"}, True),
    ({"direction": "north", "tol_deg": 50}, True),
    ({"direction": "north"}, False),            # 45 degrees off, tolerance 30
    ({"direction": "north-east", "distance": 100}, False),   # 150 px is 50 % more
    ({"direction": "south-west"}, False),
    ({"direction": "north-east", "end": 1.0, "distance": 75}, True),   # halfway at 1 s
])
def test_displacement(check: dict[str, Any], ok: bool) -> None:
    assert passes({"check": "displacement", "kind": "square", **check}, NE_150) is ok


def test_displacement_needs_a_visible_move() -> None:
    still = scene([square()], [move("sq", 405, 300)])
    assert not passes({"check": "displacement", "kind": "square", "direction": "right"}, still)


def test_located_edges_off_stage_and_back() -> None:
    off_and_back = scene([square()], [move("sq", -100, 300, dur=1), move("sq", 400, 300, dur=1, delay=1)])
    assert passes({"check": "located", "kind": "square", "where": "off", "when": "any"}, off_and_back)
    assert passes({"check": "located", "kind": "square", "where": "start", "when": "end"}, off_and_back)
    assert passes({"check": "located", "kind": "square", "where": "off", "when": 1.0}, off_and_back)
    assert not passes({"check": "located", "kind": "square", "where": "off", "when": "end"}, off_and_back)
    assert passes({"check": "located", "kind": "square", "where": "inside", "when": "end"}, off_and_back)
    gone = scene([square()], [move("sq", -100, 300, dur=1)])
    assert not passes({"check": "located", "kind": "square", "where": "start", "when": "end"}, gone)
    to_edge = scene([square()], [move("sq", 40, 300)])   # box from 0 to 80: touches the left edge
    assert passes({"check": "located", "kind": "square", "where": "edge-left"}, to_edge)
    assert not passes({"check": "located", "kind": "square", "where": "edge-right"}, to_edge)
    assert not passes({"check": "located", "kind": "square", "where": "edge-left", "when": "start"}, to_edge)
    assert passes({"check": "located", "kind": "square", "where": "left"}, to_edge)


def _pair(circle_x: int, circle_y: int, r: int = 30, circle_first: bool = False) -> Scene:
    objs = [square("box", 400, 300, 100, color="red"),
            {"type": "circle", "id": "c", "x": circle_x, "y": circle_y, "r": r, "color": "blue"}]
    return scene(objs[::-1] if circle_first else objs)


@pytest.mark.parametrize(("s", "check", "ok"), [
    (_pair(510, 300), {"rel": "next_to", "min_gap": 25, "max_gap": 60}, True),    # box edge 450, circle edge 480
    (_pair(520, 300), {"rel": "next_to", "min_gap": 30, "max_gap": 50}, True),    # gap 40
    (_pair(600, 300), {"rel": "next_to", "min_gap": 30, "max_gap": 50}, False),   # gap 120
    (_pair(520, 300), {"rel": "right_of", "aligned": True}, True),
    (_pair(520, 380), {"rel": "right_of", "aligned": True}, False),
    (_pair(520, 380), {"rel": "right_of"}, True),
    (_pair(400, 200), {"rel": "above", "aligned": True}, True),
    (_pair(400, 200), {"rel": "below"}, False),
    (_pair(400, 290), {"rel": "on"}, True),
    (_pair(400, 290, circle_first=True), {"rel": "on"}, False),   # drawn under the box
    (_pair(400, 200), {"rel": "on"}, False),                      # apart
    (_pair(400, 200), {"rel": "apart", "max_gap": 30}, True),
    (_pair(400, 290), {"rel": "overlap"}, True),
])
def test_relation_at_time(s: Scene, check: dict[str, Any], ok: bool) -> None:
    spec = {"check": "relation_at_time", "a": {"kind": "circle"}, "b": {"kind": "square"}, **check}
    assert passes(spec, s) is ok


def test_relation_at_the_end_follows_the_moves() -> None:
    s = scene([square("box", 400, 300, 100), {"type": "circle", "id": "c", "x": 100, "y": 300, "r": 20}],
              [move("c", 400, 150)])
    spec = {"check": "relation_at_time", "a": {"kind": "circle"}, "b": {"kind": "square"}, "rel": "above"}
    assert passes({**spec, "when": "end"}, s) and not passes(spec, s)


def _grid(rows: int, cols: int, dx: int = 150, dy: int = 150, jitter: int = 0) -> Scene:
    return scene([square(f"s{r}{c}", 150 + c * dx + (jitter if (r, c) == (1, 1) else 0), 100 + r * dy, 60)
                  for r in range(rows) for c in range(cols)])


@pytest.mark.parametrize(("s", "rows", "cols", "ok"), [
    (_grid(3, 3), 3, 3, True),
    (_grid(2, 4), 2, 4, True),
    (_grid(2, 4), 4, 2, False),
    (_grid(3, 3, jitter=50), 3, 3, False),
    (_grid(3, 3, dx=40), 3, 3, False),       # cells closer than the squares' size: overlapping
    (_grid(1, 9), 3, 3, False),              # a row of nine is not a 3x3 grid
    (scene([square("one", 400, 300)]), 3, 3, False),
])
def test_grid(s: Scene, rows: int, cols: int, ok: bool) -> None:
    assert passes({"check": "grid", "kind": "square", "rows": rows, "cols": cols}, s) is ok


def test_grid_span() -> None:
    assert passes({"check": "grid", "kind": "square", "rows": 3, "cols": 3, "min_span": 0.35}, _grid(3, 3))
    assert not passes({"check": "grid", "kind": "square", "rows": 3, "cols": 3, "min_span": 0.35},
                      _grid(3, 3, dx=70, dy=70))


def _ring(n: int, radius: float = 150, squash: float = 1.0, centre: bool = True) -> Scene:
    import math
    objs = [{"type": "circle", "id": f"c{k}", "x": round(400 + radius * math.cos(2 * math.pi * k / n)),
             "y": round(300 + squash * radius * math.sin(2 * math.pi * k / n)), "r": 15, "color": "white"}
            for k in range(n)]
    if centre:
        objs.append({"type": "star", "id": "sun", "x": 400, "y": 300, "r": 40, "color": "yellow"})
    return scene(objs)


def test_ring() -> None:
    spec = {"check": "ring", "kind": "circle"}
    assert passes(spec, _ring(8)) and passes(spec, _ring(3))
    assert not passes(spec, _ring(8, squash=0.5))       # an ellipse, not a ring
    assert not passes(spec, _ring(8, radius=10))        # all on one point
    assert not passes(spec, _grid(3, 3))                # no circles at all
    assert passes({"check": "ring", "kind": "square"}, _grid(2, 2, dx=300, dy=300))   # a square's corners are
    around = {**spec, "around": {"kind": "star"}}
    assert passes(around, _ring(6)) and not passes(around, _ring(6, centre=False))


def test_varied_colours() -> None:
    mixed = scene([square(f"s{k}", 100 + 100 * k, 300, 40, color=c) for k, c in enumerate(["red", "blue", "gold"])])
    assert passes({"check": "varied", "kind": "square", "min": 3}, mixed)
    assert not passes({"check": "varied", "kind": "square", "min": 4}, mixed)
    assert not passes({"check": "varied", "kind": "square"}, _grid(2, 2))


def test_arrangement_even_and_span() -> None:
    crammed = scene([square(f"s{k}", x, 300, 40) for k, x in enumerate((100, 200, 300))])
    spread = scene([square(f"s{k}", x, 300, 40) for k, x in enumerate((133, 400, 667))])
    uneven = scene([square(f"s{k}", x, 300, 40) for k, x in enumerate((100, 150, 700))])
    row = {"check": "arrangement", "kind": "square", "line": "row"}
    assert all(passes(row, s) for s in (crammed, spread, uneven))   # the v1 verdicts stay
    assert passes({**row, "min_span": 0.5}, spread) and not passes({**row, "min_span": 0.5}, crammed)
    assert passes({**row, "even": True}, crammed) and not passes({**row, "even": True}, uneven)


def test_legs_follow_what_is_seen() -> None:
    path = scene([square()], [move("sq", 600, 300), move("sq", 600, 500, delay=1), move("sq", 400, 500, delay=2)])
    found = [leg for leg in legs(SceneTimeline(path), path.objects[0]) if leg.kind == "move"]
    assert [(round(leg.b.x - leg.a.x), round(leg.b.y - leg.a.y)) for leg in found] == [(200, 0), (0, 200), (-200, 0)]
    assert [round(leg.start, 1) for leg in found] == [0.0, 1.0, 2.0]
    # the same moves all at once: only the last-started one is seen (later tracks override)
    at_once = scene([square()], [move("sq", 600, 300), move("sq", 600, 500), move("sq", 400, 500)])
    seen = [leg for leg in legs(SceneTimeline(at_once), at_once.objects[0]) if leg.kind == "move"]
    assert len(seen) == 1


def test_on_top_of_means_drawn_over_or_resting_on() -> None:
    resting = _pair(400, 220)   # circle bottom 250 = box top 250
    assert passes({"check": "relation_at_time", "a": {"kind": "circle"}, "b": {"kind": "square"}, "rel": "on"},
                  resting)
