"""The v2 compiler: each construct to exact compiled positions and timelines, the defaults, and the errors."""

from __future__ import annotations

from typing import Any

import pytest

from text2pixi.core import timeline as tl
from text2pixi.core.errors import SceneCompileError
from text2pixi.core.scene import Scene
from text2pixi.core.v2.compiler import compile_scene
from text2pixi.core.v2.defaults import contrast
from text2pixi.core.v2.language import V2Scene


def compile_(data: dict[str, Any]) -> Scene:
    return compile_scene(V2Scene.model_validate(data))


def one(item: dict[str, Any], **scene: Any) -> Scene:
    return compile_({**scene, "items": [item]})


def objs(scene: Scene) -> dict[str, Any]:
    return {o.id: o for o in scene.objects}


def anims(scene: Scene) -> list[dict[str, Any]]:
    return [a.model_dump(exclude_defaults=True, exclude={"type"}) | {"type": a.type} for a in scene.anims]


def at(scene: Scene, target: str, prop: str, t: float) -> tuple[float, ...]:
    return tl.tracks(scene)[(target, prop)].value(t)


# --- placement ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("anchor", "x", "y"), [
    ("center", 400, 300), ("top", 400, 68), ("bottom", 400, 532), ("left", 68, 300), ("right", 732, 300),
    ("top-left", 68, 68), ("top-right", 732, 68), ("bottom-left", 68, 532), ("bottom-right", 732, 532),
])
def test_anchor_is_inset_by_the_margin(anchor: str, x: int, y: int) -> None:
    o = one({"at": anchor}).objects[0]  # medium circle: 0.16 * 600 = 96 across, r 48, margin 20
    assert (o.x, o.y, o.r) == (x, y, 48)


def test_fractions_of_the_stage_and_absolute_pixels() -> None:
    assert (lambda o: (o.x, o.y))(one({"at": [0.25, 0.75]}).objects[0]) == (200, 450)
    assert (lambda o: (o.x, o.y))(one({"xy": [10, 20]}).objects[0]) == (10, 20)


@pytest.mark.parametrize(("relation", "x", "y"), [
    ("left", 300, 300), ("right", 500, 300), ("above", 400, 200), ("below", 400, 400), ("on", 400, 300),
])
def test_relative_placement_with_gap(relation: str, x: int, y: int) -> None:
    scene = compile_({"items": [
        {"id": "ball", "size": 60, "at": relation, "of": "box"},
        {"id": "box", "shape": "square", "size": 100, "at": "center"},
    ]})
    ball = objs(scene)["ball"]
    assert (ball.x, ball.y) == (x, y)  # box half 50 + gap 20 + ball half 30
    order = [o.id for o in scene.objects]
    assert order == (["box", "ball"] if relation == "on" else ["ball", "box"])


def test_relative_gap_is_stated_in_pixels() -> None:
    scene = compile_({"items": [{"id": "box", "shape": "square", "size": 100},
                                {"size": 60, "at": "right", "of": "box", "gap": 0}]})
    assert objs(scene)["circle"].x == 400 + 50 + 30


def test_unplaced_items_spread_in_a_row_never_stacked() -> None:
    scene = compile_({"items": [{"shape": "square"}, {"shape": "circle"}]})
    assert [(o.x, o.y) for o in scene.objects] == [(200, 300), (600, 300)]
    assert [(o.x, o.y) for o in one({}).objects] == [(400, 300)]


def test_copies_in_a_row_column_grid_ring() -> None:
    row = one({"shape": "square", "n": 3})
    assert [(o.id, o.x, o.y) for o in row.objects] == [("square1", 133, 300), ("square2", 400, 300),
                                                      ("square3", 667, 300)]
    col = one({"n": 3, "layout": "column", "in": "left"})
    assert [(o.x, o.y) for o in col.objects] == [(133, 100), (133, 300), (133, 500)]
    grid = one({"shape": "square", "n": 9, "layout": "grid"})
    assert sorted({o.x for o in grid.objects}) == [133, 400, 667]
    assert sorted({o.y for o in grid.objects}) == [100, 300, 500]
    assert len(grid.objects) == 9
    grid2 = one({"n": 6, "layout": "grid", "cols": 2})
    assert [(o.x, o.y) for o in grid2.objects][:3] == [(200, 100), (600, 100), (200, 300)]
    ring = one({"n": 4, "layout": "ring"})  # radius 0.35 * 600 = 210, first at the top, clockwise
    assert [(o.x, o.y) for o in ring.objects] == [(400, 90), (610, 300), (400, 510), (190, 300)]


def test_copies_in_a_region_and_per_copy_colours() -> None:
    scene = one({"n": 3, "in": "top", "colors": ["red", "blue"]})
    assert [o.y for o in scene.objects] == [100, 100, 100]
    assert [o.color for o in scene.objects] == ["red", "blue", "red"]
    quad = one({"n": 2, "in": "bottom-right"})
    assert [(o.x, o.y) for o in quad.objects] == [(500, 450), (700, 450)]


def test_copies_shrink_to_fit_their_cell_never_grow() -> None:
    huge = one({"size": "huge", "n": 8})  # 240 across in cells 100 wide: 80 % of 100
    assert {o.r for o in huge.objects} == {40}
    small = one({"size": "small", "n": 2})
    assert {o.r for o in small.objects} == {30}


def test_shapes_and_sizes() -> None:
    scene = compile_({"items": [
        {"shape": "rect", "size": 160}, {"shape": "ellipse", "size": "large", "aspect": 0.5},
        {"shape": "roundrect", "size": 100}, {"shape": "triangle", "size": 50}, {"shape": "star", "size": 80},
        {"shape": "polygon", "sides": 4, "size": 100}, {"shape": "line", "size": 200, "rot": 90},
        {"shape": "text", "text": "Hi", "size": "large"},
    ], "w": 1600})
    o = scene.objects
    assert (o[0].w, o[0].h) == (160, 100)
    assert (o[1].w, o[1].h) == (75, 150)
    assert (o[2].w, o[2].h, o[2].radius) == (100, 62, 9)
    assert (o[3].w, o[3].h) == (50, 50)
    assert (o[4].r, o[4].points) == (40, 5)
    assert o[5].pts == [0, -50, 50, 0, 0, 50, -50, 0]
    assert (o[6].x2 - o[6].x, o[6].y2 - o[6].y, o[6].rot) == (0, 200, 0)
    assert o[7].size == 56


# --- steps ---------------------------------------------------------------------------------------------------

def steps(*do: dict[str, Any], **item: Any) -> Scene:
    return one({"id": "a", **item, "do": list(do)})


@pytest.mark.parametrize(("step", "x", "y"), [
    ({"move": "right", "by": 100}, 500, 300), ({"move": "east", "by": 100}, 500, 300),
    ({"move": "up", "by": 100}, 400, 200), ({"move": "north", "by": 100}, 400, 200),
    ({"move": "northeast", "by": 100}, 471, 229), ({"move": "down-left", "by": 100}, 329, 371),
    ({"move": "down"}, 400, 450), ({"move": "left"}, 200, 300), ({"move": "up-right"}, 600, 150),
    ({"move": "right", "by": "edge"}, 752, 300), ({"move": "up", "by": "edge"}, 400, 48),
    ({"move": "left", "by": "off"}, -58, 300), ({"move": "down", "by": "off"}, 400, 658),
    ({"to": "top-left"}, 68, 68), ({"to": [0.5, 0.1]}, 400, 60), ({"xy": [10, 20]}, 10, 20),
    ({"fall": "bottom"}, 400, 552), ({"fall": "off"}, 400, 658), ({"slide": "out", "side": "right"}, 858, 300),
    ({"slide": "out", "side": "top"}, 400, -58),
])
def test_moves_resolve_to_exact_destinations(step: dict[str, Any], x: int, y: int) -> None:
    a = anims(steps(step))[-1]
    assert (a["type"], a["x"], a["y"]) == ("move", x, y)


def test_default_move_stays_on_stage_and_never_stands_still() -> None:
    near = anims(steps({"move": "right"}, at="right"))[0]  # 20 px of room: too little, so the quarter
    assert near["x"] == 732 + 200
    clamp = anims(steps({"move": "right"}, xy=[500, 300]))[0]  # quarter 200, room 252: kept whole
    assert clamp["x"] == 700
    part = anims(steps({"move": "right"}, xy=[600, 300]))[0]  # room 152 of 200: stops at the edge
    assert part["x"] == 752


def test_moves_played_together_add_up_to_one_diagonal_move() -> None:
    scene = steps({"move": "up", "by": 80}, {"move": "right", "by": 80, "with": True}, {"move": "down", "by": 50})
    assert [(a["x"], a["y"], a.get("delay", 0.0)) for a in anims(scene)] == [(480, 220, 0.0), (480, 270, 1.0)]
    assert at(scene, "a", "pos", 0.5) == pytest.approx((440, 260))  # half-way along the diagonal
    apart = steps({"move": "up", "by": 80}, {"move": "right", "by": 80, "with": True, "dur": 2})
    assert [(a["x"], a["y"]) for a in anims(apart)] == [(400, 220), (480, 300)]  # other timing: as written


def test_move_defaults_and_options() -> None:
    a = anims(steps({"move": "right", "by": 100, "dur": 3, "ease": "linear", "times": 2, "yoyo": True}))[0]
    assert a == {"type": "move", "target": "a", "x": 500, "y": 300, "dur": 3.0, "repeat": 1, "yoyo": True}
    b = anims(steps({"move": "right", "by": 100}))[0]
    assert (b.get("dur", 1.0), b["ease"]) == (1.0, "easeInOut")


def test_to_another_item_and_back_to_start() -> None:
    scene = compile_({"items": [
        {"id": "a", "xy": [100, 100], "size": 60, "do": [{"to": "left", "of": "box"}, {"to": "start"},
                                                         {"to": "on", "of": "box"}, {"to": "top", "of": "box"}]},
        {"id": "box", "shape": "square", "size": 100, "at": "center"},
    ]})
    xs = [(a["x"], a["y"]) for a in anims(scene)]
    assert xs == [(300, 300), (100, 100), (400, 300), (400, 200)]


def test_spin_and_rotate() -> None:
    spin = anims(steps({"spin": "ccw", "turns": 2}))[0]
    assert spin == {"type": "rotate", "target": "a", "by": -720, "dur": 4.0, "repeat": -1}
    rot = steps({"rotate": 90, "dir": "ccw", "about": "bottom-left", "dur": 3}, shape="square", size=80)
    assert anims(rot)[0] == {"type": "rotate", "target": "a", "by": -90, "dur": 3.0, "ease": "easeInOut"}
    assert rot.objects[0].pivot == (-40.0, 40.0)
    assert at(rot, "a", "angle", 3.0) == (-90.0,)


def test_scale_axes_grow_shrink_and_pivot() -> None:
    scene = steps({"scale": 2, "axis": "x", "about": "left"}, {"grow": 2}, {"shrink": 2}, {"shrink": 0.5},
                  shape="square", size=80)
    a = anims(scene)
    assert [(x["to"], x.get("axis", "xy"), x.get("delay", 0.0)) for x in a] == [
        (2.0, "x", 0.0), (4.0, "x", 1.0), (2.0, "y", 1.0), (2.0, "x", 2.0), (1.0, "y", 2.0),
        (1.0, "x", 3.0), (0.5, "y", 3.0)]
    assert scene.objects[0].pivot == (-40.0, 0.0)
    assert at(scene, "a", "sx", 1.0) == (2.0,) and at(scene, "a", "sy", 1.0) == (1.0,)
    assert at(scene, "a", "sx", 4.0) == (1.0,) and at(scene, "a", "sy", 4.0) == (0.5,)
    with pytest.raises(SceneCompileError, match="at most 20"):
        steps({"grow": 5}, {"grow": 5})


def test_fade_in_starts_invisible_and_fade_out_and_to() -> None:
    fin = steps({"fade": "in"})
    assert fin.objects[0].alpha == 0.0 and anims(fin)[0] == {"type": "fade", "target": "a", "to": 1.0}
    assert at(fin, "a", "alpha", 0.5) == (0.5,)
    keep = steps({"fade": "out"}, {"fade": "in"})
    assert keep.objects[0].alpha == 1.0 and [a["to"] for a in anims(keep)] == [0.0, 1.0]
    assert anims(steps({"fade": 0.3}))[0]["to"] == 0.3
    half = steps({"fade": "in"}, alpha=0.5)
    assert half.objects[0].alpha == 0.0 and anims(half)[0]["to"] == 0.5


def test_colour_change() -> None:
    scene = steps({"color": "purple", "dur": 2}, color="red")
    assert anims(scene)[0] == {"type": "color", "target": "a", "to": "purple", "dur": 2.0}
    assert at(scene, "a", "tint", 2.0) == (128.0, 0.0, 128.0)


def test_presets_have_their_documented_timelines() -> None:
    assert anims(steps({"pulse": 1.2}))[0] == {
        "type": "scale", "target": "a", "to": 1.2, "dur": 0.5, "ease": "easeInOut", "repeat": -1, "yoyo": True}
    assert anims(steps({"pulse": 1.5, "times": 2}))[0]["repeat"] == 3
    assert anims(steps({"bounce": 100}))[0] == {
        "type": "move", "target": "a", "x": 400, "y": 200, "dur": 0.4, "ease": "easeOut", "repeat": -1, "yoyo": True}
    assert anims(steps({"float": 20}))[0] == {
        "type": "move", "target": "a", "x": 400, "y": 280, "ease": "easeInOut", "repeat": -1,
        "yoyo": True}
    shake = anims(steps({"shake": 10}))
    assert [(a["x"], a["dur"], a.get("delay", 0.0), a.get("repeat", 0)) for a in shake] == [
        (410, 0.05, 0.0, 0), (390, 0.1, 0.05, 3), (400, 0.05, 0.45, 0)]
    blink = steps({"blink": 3})
    assert anims(blink)[0] == {"type": "fade", "target": "a", "to": 0.0, "dur": 0.25, "repeat": 5, "yoyo": True}
    assert at(blink, "a", "alpha", 0.25) == (0.0,) and at(blink, "a", "alpha", 1.5) == (1.0,)


def test_slide_in_starts_off_stage() -> None:
    scene = steps({"slide": "in", "side": "left"})
    assert (scene.objects[0].x, scene.objects[0].y) == (-58, 300)
    a = anims(scene)[0]
    assert (a["x"], a["y"], a["ease"]) == (400, 300, "easeOut")
    assert at(scene, "a", "pos", 1.0) == (400.0, 300.0)
    with pytest.raises(SceneCompileError, match="first movement"):
        steps({"move": "up", "by": 10}, {"slide": "in"})


def test_bounce_hops_up_then_comes_back() -> None:
    scene = steps({"bounce": 100, "times": 1})
    assert at(scene, "a", "pos", 0.4) == (400.0, 200.0)
    assert at(scene, "a", "pos", 0.8) == (400.0, 300.0)


# --- order ---------------------------------------------------------------------------------------------------

def delays(scene: Scene) -> list[float]:
    return [a.delay for a in scene.anims]


def test_then_with_and_delay() -> None:
    seq = steps({"move": "right", "by": 100}, {"move": "down", "by": 100}, {"move": "left", "by": 100},
                {"move": "up", "by": 100})
    assert delays(seq) == [0.0, 1.0, 2.0, 3.0]
    assert [(a.x, a.y) for a in seq.anims] == [(500, 300), (500, 400), (400, 400), (400, 300)]  # type: ignore[union-attr]
    assert at(seq, "a", "pos", 2.0) == (500.0, 400.0)
    together = steps({"move": "right", "by": 100, "dur": 2}, {"spin": "cw", "with": True},
                     {"fade": "out", "with": True, "delay": 0.5}, {"color": "red"})
    assert delays(together) == [0.0, 0.0, 0.5, 2.0]
    assert steps({"wait": 1.5}, {"fade": "out"}).anims[0].delay == 1.5


def test_looping_presets_loop_forever_only_when_last() -> None:
    assert steps({"spin": "cw"}).anims[0].repeat == -1
    assert [a.repeat for a in steps({"spin": "cw"}, {"fade": "out"}).anims] == [0, 0]
    assert steps({"pulse": 1.2}, {"spin": "cw", "with": True}).anims[0].repeat == -1


def test_after_and_start_across_items() -> None:
    scene = compile_({"items": [
        {"id": "b", "after": "a", "start": 0.5, "do": [{"fade": "out"}]},
        {"id": "a", "start": 1, "do": [{"move": "up", "by": 10, "dur": 2}, {"spin": "cw"}]},
        {"id": "c", "after": "b", "do": [{"fade": "out"}]},
    ]})
    by_target = {a.target: a.delay for a in scene.anims if a.type == "fade"}
    assert by_target == {"b": 5.5, "c": 6.5}  # a: 1 + 2 + spin's first turn 2 = 5; b: +0.5, lasts 1


def test_stagger_in_seconds_and_then() -> None:
    sec = one({"n": 3, "stagger": 0.25, "do": [{"fade": "out"}]})
    assert delays(sec) == [0.0, 0.25, 0.5]
    then = one({"n": 3, "stagger": "then", "do": [{"move": "up", "by": 20}, {"fade": "out"}]})
    assert delays(then) == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]


def test_loop_compiles_to_cycle() -> None:
    scene = steps({"move": "right", "by": 100}, {"move": "down", "by": 100}, {"move": "left", "by": 100},
                  {"move": "up", "by": 100}, loop=True, start=1)
    assert {(a.cycle.start, a.cycle.every, a.cycle.times) for a in scene.anims if a.cycle} == {(1.0, 4.0, -1)}
    assert len([a for a in scene.anims if a.cycle]) == 4
    assert scene.duration() is None
    assert at(scene, "a", "pos", 2.5) == at(scene, "a", "pos", 6.5) == at(scene, "a", "pos", 10.5)
    assert at(scene, "a", "pos", 5.0) == (400.0, 300.0)
    three = steps({"pulse": 1.5}, loop=3)
    assert three.anims[0].cycle is not None and three.anims[0].cycle.times == 3
    assert three.anims[0].repeat == 1  # a looped preset plays once per cycle
    assert three.duration() == 3.0


# --- defaults ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("bg", ["black", "white", "#f0f0f0", "navy", "orange", "yellow", "gray", "darkgreen"])
def test_omitted_colours_contrast_with_the_background(bg: str) -> None:
    scene = compile_({"bg": bg, "items": [{"shape": "square"}, {}, {"shape": "line"},
                                          {"shape": "text", "text": "hi"}]})
    for o in scene.objects:
        assert contrast(o.color, bg) >= 3.0, (o.id, o.color, bg)


def test_stated_colours_and_background_are_never_changed() -> None:
    scene = compile_({"bg": "#f0f0f0", "items": [{"color": "white"}, {"colors": ["yellow", "red"], "n": 2}]})
    assert scene.bg == "#f0f0f0"
    assert [o.color for o in scene.objects] == ["white", "yellow", "red"]
    assert compile_({"items": [{}]}).bg == "black"


def test_default_ids_are_unique_and_follow_the_shape() -> None:
    scene = compile_({"items": [{}, {}, {"id": "circle3"}, {"shape": "square"}]})
    assert [o.id for o in scene.objects] == ["circle", "circle2", "circle3", "square"]


# --- errors --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("data", "message"), [
    ({"items": [{"at": "left", "of": "box"}]}, "item 'circle': \"of\":'box' is not an item id (ids: circle)"),
    ({"items": [{"id": "a", "do": [{"to": "left", "of": "zz"}]}]}, "item 'a' step 1: \"of\":'zz' is not an item id"),
    ({"items": [{"id": "a", "after": "b"}, {"id": "b", "after": "a"}]}, "in a circle (a -> b -> a)"),
    ({"items": [{"id": "a", "after": "x"}]}, "\"after\":'x' is not an item id"),
    ({"items": [{"id": "a", "at": "left", "of": "b"}, {"id": "b", "at": "right", "of": "c"},
                {"id": "c", "at": "above", "of": "a"}]},
     "placed relative to each other in a circle"),  # two-item loops are broken by refs.resolve_refs
    ({"items": [{"id": "a", "do": [{"spin": "cw", "times": -1}, {"fade": "out"}]}]},
     "item 'a' step 2: never starts: step 1 repeats forever"),
    ({"items": [{"id": "a", "loop": True, "do": [{"spin": "cw", "times": -1}]}]}, "repeats forever inside a \"loop\""),
    ({"items": [{"id": "a", "do": [{"rotate": 90, "about": "top"}, {"grow": 2, "about": "left"}]}]},
     "an item has one pivot"),
    ({"items": [{"id": "a", "at": [0.5, 0.2], "of": "b"}, {"id": "b"}]}, "cannot be relative to another item"),
    ({"items": [{"at": "above"}]}, "item 'circle': \"at\":'above' is a place relative to another item; add \"of\""),
    ({"items": [{"id": "a", "do": [{"to": "above"}]}]}, "needs \"of\""),
    # 11 items x 16 copies x 3 steps; objects cannot pass their bound (16 items x 16 copies = 256, the bound)
    ({"items": [{"id": c, "n": 16, "do": [{"spin": "cw"}, {"pulse": 1.2}, {"fade": "in"}]} for c in "abcdefghijk"]},
     "528 animations; at most 512"),
    ({"items": [{"id": "a"}, {"id": "a"}]}, "ids must be unique; repeated: a"),
])
def test_errors_name_the_item_the_step_and_the_fix(data: dict[str, Any], message: str) -> None:
    with pytest.raises(SceneCompileError) as err:
        compile_(data)
    assert message in str(err.value)
    assert err.value.code == "invalid_scene"


def test_a_gap_with_a_stage_anchor_is_the_distance_from_the_edge() -> None:
    def left_x(item: dict[str, Any]) -> float:
        (obj,) = compile_scene(V2Scene.model_validate({"items": [item]})).objects
        return obj.x - obj.w / 2  # type: ignore[union-attr]

    assert left_x({"shape": "square", "at": "left"}) == 20  # the default gap is the stage margin
    assert left_x({"shape": "square", "at": "left", "gap": 0}) == 0  # "against the left edge"
    assert left_x({"shape": "square", "at": "left", "gap": 50}) == 50
