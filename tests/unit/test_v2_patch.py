"""Refinement patches: each edit to the exact v2 scene and compiled positions/timelines, the changed paths,
precise errors for bad edits, the schema's key order, and every edit-quality fixture case expressible."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from text2pixi.core.edit_checks import RefinementCase, check_case
from text2pixi.core.errors import SceneCompileError
from text2pixi.core.scene import Scene
from text2pixi.core.v2.compiler import compile_scene
from text2pixi.core.v2.convert import from_v1
from text2pixi.core.v2.language import Item, V2Scene
from text2pixi.core.v2.patch import (
    OP_VERBS,
    RESETTABLE,
    Patch,
    apply_patch,
    changed_paths,
    named,
    patch_json_schema,
)
from text2pixi.engine.grammar import compact_gbnf

BASE = V2Scene.model_validate_json(
    '{"bg":"white","items":[{"id":"box","shape":"square","color":"blue","size":100,"xy":[400,300],'
    '"do":[{"move":"right","by":100}]},{"id":"label","shape":"text","text":"Hi","color":"black","at":"above",'
    '"of":"box"},{"id":"ball","color":"red","size":60,"xy":[150,150],"after":"box","do":[{"bounce":50,"times":1}]}]}')


def patch(text: str) -> Patch:
    return Patch.model_validate_json(text)


def edited(text: str, base: V2Scene = BASE) -> V2Scene:
    return apply_patch(base, patch(text))


def objs(scene: V2Scene) -> dict[str, Any]:
    return {o.id: o for o in compile_scene(scene).objects}


def anims(scene: V2Scene, target: str) -> list[dict[str, Any]]:
    """The target's compiled animations, defaults included except an absent cycle."""
    return [{k: v for k, v in a.model_dump().items() if k != "cycle" or v is not None}
            for a in compile_scene(scene).anims if a.target == target]


def test_set_changes_only_the_keys_it_names() -> None:
    new = edited('{"edit":[{"set":"box","color":"red"}]}')
    assert new == named(BASE).model_copy(update={"items": [
        BASE.items[0].model_copy(update={"color": "red"}), *BASE.items[1:]]})
    assert objs(new)["box"].color == "red"
    assert compile_scene(new).anims == compile_scene(BASE).anims


def test_set_on_a_list_of_ids_changes_each() -> None:
    new = edited('{"edit":[{"set":["box","ball"],"color":"green","size":"small"}]}')
    assert [(i.color, i.size) for i in new.items] == [("green", "small"), ("black", "medium"), ("green", "small")]


def test_set_do_replaces_the_steps_and_then_appends() -> None:
    replaced = edited('{"edit":[{"set":"box","do":[{"spin":"ccw","times":1}]}]}')
    assert replaced.items[0].model_dump(mode="json", exclude_defaults=True, by_alias=True)["do"] == [
        {"spin": "ccw", "times": 1}]
    appended = edited('{"edit":[{"then":"box","do":[{"move":"down","by":100,"dur":3}]}]}')
    assert anims(appended, "box") == [
        {"type": "move", "target": "box", "dur": 1.0, "delay": 0.0, "ease": "easeInOut", "repeat": 0,
         "yoyo": False, "x": 500, "y": 300},
        {"type": "move", "target": "box", "dur": 3.0, "delay": 1.0, "ease": "easeInOut", "repeat": 0,
         "yoyo": False, "x": 500, "y": 400}]


def test_then_rotates_about_a_corner_after_the_last_step() -> None:
    new = edited('{"edit":[{"then":"box","do":[{"rotate":90,"dir":"ccw","about":"bottom-left"}]}]}')
    box = objs(new)["box"]
    assert box.pivot == (-50.0, 50.0)
    assert anims(new, "box")[1] == {"type": "rotate", "target": "box", "dur": 1.0, "delay": 1.0,
                                    "ease": "easeInOut", "repeat": 0, "yoyo": False, "by": -90}


def test_a_with_step_appended_runs_with_the_last_group() -> None:
    new = edited('{"edit":[{"then":"box","do":[{"color":"red","with":true}]}]}')
    assert [(a["type"], a["delay"]) for a in anims(new, "box")] == [("move", 0.0), ("color", 0.0)]


def test_tune_changes_every_step_without_copying_it() -> None:
    base = V2Scene.model_validate_json('{"items":[{"id":"s","do":[{"spin":"cw"},{"wait":1},'
                                       '{"rotate":-90,"delay":0.5},{"move":"up","dur":3}]}]}')
    new = edited('{"edit":[{"tune":"s","faster":2,"dir":"ccw","times":1}]}', base)
    assert new.items[0].model_dump(mode="json", exclude_defaults=True, by_alias=True)["do"] == [
        {"spin": "ccw", "dur": 1.0, "times": 1}, {"wait": 0.5},
        {"rotate": 90, "dir": "ccw", "dur": 0.5, "times": 1, "delay": 0.25}, {"move": "up", "dur": 1.5, "times": 1}]
    assert [(a["type"], a.get("by"), a["dur"], a["delay"]) for a in anims(new, "s")] == [
        ("rotate", -360, 1.0, 0.0), ("rotate", -90, 0.5, 1.75), ("move", None, 1.5, 2.25)]
    eased = edited('{"edit":[{"tune":"s","ease":"bounce","dur":2}]}', base).items[0]
    assert [(getattr(st, "ease", None), getattr(st, "dur", None)) for st in eased.do] == [
        ("bounce", 2.0), (None, None), ("bounce", 2.0), ("bounce", 2.0)]


def test_slowing_past_the_longest_duration_stops_at_it() -> None:
    scene = edited('{"edit":[{"set":"box","do":[{"move":"up","dur":10}]},{"tune":"box","slower":10}]}')
    assert [step.dur for item in scene.items if item.id == "box" for step in item.do] == [60.0]


@pytest.mark.parametrize(("tune", "dur"), [('"faster":2', 0.5), ('"faster":0.5', 0.5), ('"faster":1', 0.5),
                                           ('"slower":4', 4.0), ('"slower":0.25', 4.0), ('"slower":1', 2.0)])
def test_faster_and_slower_read_a_factor_either_way_and_one_as_twice(tune: str, dur: float) -> None:
    assert edited(f'{{"edit":[{{"tune":"box",{tune}}}]}}').items[0].do[0].dur == dur


def test_add_places_relative_to_an_existing_item() -> None:
    new = edited('{"edit":[{"add":{"id":"dot","color":"green","size":60,"at":"below","of":"box"}}]}')
    assert new.items[-1] == Item(id="dot", color="green", size=60, at="below", of="box")
    dot = objs(new)["dot"]
    assert (dot.x, dot.y) == (400, 300 + 50 + 20 + 30)


def test_add_without_id_gets_a_unique_name_and_every_id_is_written_out() -> None:
    base = V2Scene.model_validate({"items": [{"shape": "square"}, {"xy": [100, 100]}]})
    new = edited('{"edit":[{"add":{"xy":[700,100]}}]}', base)
    assert [i.id for i in new.items] == ["square", "circle", "circle2"]


def test_set_at_replaces_the_placement_and_a_relation_keeps_of() -> None:
    assert edited('{"edit":[{"set":"box","at":"top-left"}]}').items[0].xy is None
    assert objs(edited('{"edit":[{"set":"box","at":"top-left"}]}'))["box"].x == 70
    below = edited('{"edit":[{"set":"label","at":"below"}]}').items[1]
    assert (below.at, below.of) == ("below", "box")
    pinned = edited('{"edit":[{"set":"label","xy":[100,500]}]}').items[1]
    assert (pinned.at, pinned.of, pinned.xy) == (None, None, [100, 500])


def test_set_copies_drops_the_single_place() -> None:
    new = edited('{"edit":[{"set":"ball","n":3,"layout":"column","in":"left"}]}')
    assert new.items[2].xy is None
    assert [(o.x, o.y) for o in compile_scene(new).objects if o.id.startswith("ball")] == [
        (133, 100), (133, 300), (133, 500)]


def test_shape_changes_drop_keys_of_the_old_shape() -> None:
    assert edited('{"edit":[{"set":"label","shape":"star"}]}').items[1].text is None
    line = V2Scene.model_validate({"items": [{"id": "l", "shape": "line", "xy": [0, 0], "xy2": [100, 50]}]})
    square = edited('{"edit":[{"set":"l","shape":"square"}]}', line).items[0]
    assert (square.xy, square.xy2) == ([50, 25], None)


def test_null_resets_after_so_the_item_starts_at_zero() -> None:
    assert anims(BASE, "ball")[0]["delay"] == 1.0
    new = edited('{"edit":[{"set":"ball","after":null}]}')
    assert new.items[2].after is None
    assert anims(new, "ball")[0]["delay"] == 0.0


def test_remove_keeps_dependants_where_and_when_they_were() -> None:
    base = BASE.model_copy(update={"items": [BASE.items[0].model_copy(update={"start": 0.5}), *BASE.items[1:]]})
    before = objs(base)["label"]
    new = edited('{"edit":[{"remove":"box"}]}', base)
    assert [i.id for i in new.items] == ["label", "ball"]
    label, ball = new.items
    assert (label.at, label.of, label.xy) == (None, None, [before.x, before.y])
    assert (objs(new)["label"].x, objs(new)["label"].y) == (before.x, before.y)
    assert (ball.after, ball.start) == (None, 0.5)
    assert anims(new, "ball")[0]["delay"] == 0.5


def test_bg_changes_the_background_only() -> None:
    new = edited('{"edit":[{"bg":"navy"}]}')
    assert new == named(BASE).model_copy(update={"bg": "navy"})


def test_edits_apply_in_order() -> None:
    new = edited('{"edit":[{"add":{"id":"sun","at":"top-right"}},{"set":"sun","color":"gold"},{"remove":"label"}]}')
    assert [i.id for i in new.items] == ["box", "ball", "sun"]
    assert new.items[-1].color == "gold"


@pytest.mark.parametrize(("text", "paths"), [
    ('{"edit":[{"set":"box","color":"red"}]}', ["items.box.color"]),
    ('{"edit":[{"set":"box","color":"blue"}]}', []),
    ('{"edit":[{"then":"box","do":[{"spin":"cw"}]}]}', ["items.box.do"]),
    ('{"edit":[{"add":{"id":"sun"}},{"bg":"navy"}]}', ["bg", "items.sun"]),
    ('{"edit":[{"remove":"box"}]}', ["items.ball.after", "items.box", "items.label.at", "items.label.of",
                                     "items.label.xy"]),
    ('{"edit":[{"set":"box","at":"top"}]}', ["items.box.at", "items.box.xy"]),
    ('{"edit":[{"tune":["box","ball"],"slower":2}]}', ["items.ball.do", "items.box.do"]),
])
def test_changed_paths_are_what_the_patch_changed(text: str, paths: list[str]) -> None:
    assert changed_paths(BASE, patch(text)) == paths


def test_changed_paths_ignore_ids_written_out() -> None:
    base = V2Scene.model_validate({"items": [{"shape": "square"}]})
    assert changed_paths(base, patch('{"edit":[{"set":"square","color":"red"}]}')) == ["items.square.color"]


@pytest.mark.parametrize(("text", "message"), [
    ('{"edit":[{"set":"boxx","color":"red"}]}', 'edit 1 ("set":"boxx"): no item \'boxx\' (ids: box, label, ball)'),
    ('{"edit":[{"remove":"box"},{"set":"box","color":"red"}]}',
     'edit 2 ("set":"box"): \'box\' was removed by edit 1'),
    ('{"edit":[{"add":{"id":"ball"}}]}', 'edit 1 ("add"): id \'ball\' is taken; give the new item another "id"'),
    ('{"edit":[{"set":"ball","at":"top","n":3}]}', 'edit 1 ("set":"ball"): item \'ball\' has 3 '
     'copies and a single place'),
    ('{"edit":[{"set":"label","text":null}]}', 'edit 1 ("set":"label"): item \'label\' is text '
     'but has no "text"'),
    ('{"edit":[{"remove":"box"},{"set":"ball","after":"box"}]}',
     'edit 2: item \'ball\' has "after":"box", but edit 1 removed it (ids: label, ball); name an item that is there'),
    ('{"edit":[{"set":"ball","at":"left","of":"moon"}]}',
     'edit 1: item \'ball\' has "of":"moon", but there is no such item'),
    ('{"edit":[{"then":"ball","do":[{"to":"right","of":"sky"}]}]}',
     'edit 1: item \'ball\' has step 2 "of":"sky", but there is no such item'),
    ('{"edit":[{"tune":"label","faster":2}]}',
     'edit 1 ("tune":"label"): item \'label\' has no steps; add some with {"then":"label","do":[...]}'),
    ('{"edit":[{"tune":"box","dir":"ccw"}]}',
     'edit 1 ("tune":"box"): item \'box\' has no spin or rotate step to turn ccw; add one with "then"'),
    ('{"edit":[{"remove":["box","label","ball"]}]}',
     'edit 1 ("remove":["box","label","ball"]): a scene needs at least one item'),
])
def test_bad_edits_name_the_edit_and_say_why(text: str, message: str) -> None:
    with pytest.raises(SceneCompileError) as err:
        edited(text)
    assert str(err.value).startswith(message), str(err.value)


def test_a_copy_id_points_at_its_item() -> None:
    base = V2Scene.model_validate({"items": [{"id": "sq", "shape": "square", "n": 3}]})
    with pytest.raises(SceneCompileError, match=r"'sq2' is copy 2 of item 'sq'; edit 'sq' \(\"colors\""):
        edited('{"edit":[{"set":"sq2","color":"red"}]}', base)


def test_too_many_items_is_a_scene_error() -> None:
    adds = ",".join(f'{{"add":{{"id":"c{k}"}}}}' for k in range(14))
    with pytest.raises(SceneCompileError, match="the edited scene is not valid: items: List should have at most 16"):
        edited(f'{{"edit":[{adds}]}}')


@pytest.mark.parametrize(("data", "message"), [
    ({"edit": [{"grow": "box"}]}, "an edit starts with one verb key: set, then, tune, add, remove, bg"),
    ({"edit": [{"tune": "box"}]}, 'a "tune" edit needs at least one of faster, slower, dir, ease, times, yoyo, dur'),
    ({"edit": [{"tune": "box", "times": 0}]}, "times must be 1 or more, or -1 for forever"),
    ({"edit": [{"tune": "box", "slower": 0}]}, "Input should be greater than 0"),
    ({"edit": [{"tune": "box", "faster": 2, "slower": 2}]}, '"faster" and "slower" together; give one'),
    ({"edit": [{"set": "box"}]}, 'a "set" edit needs at least one key to change'),
    ({"edit": [{"set": "box", "n": None}]}, '"n":null: only after, aspect, at, color'),
    ({"edit": [{"set": "box", "id": "crate"}]}, "Extra inputs are not permitted"),
    ({"edit": [{"set": "box", "colour": "red"}]}, "Extra inputs are not permitted"),
    ({"edit": [{"then": "box", "do": []}]}, "List should have at least 1 item"),
    ({"edit": [{"remove": "Box"}]}, "String should match pattern"),
    ({"edit": [{"bg": "reddish"}]}, "bg"),
    ({"edit": []}, "List should have at least 1 item"),
    ({"edits": [{"bg": "red"}]}, "Extra inputs are not permitted"),
])
def test_malformed_patches_are_refused_with_a_reason(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as err:
        Patch.model_validate(data)
    assert message in str(err.value)


def test_schema_key_order_and_nulls() -> None:
    schema = patch_json_schema()
    defs = schema["$defs"]
    assert list(schema["properties"]) == ["edit"]
    assert [next(iter(defs[f"{name}Op"]["properties"])) for name in ("Set", "Then", "Tune", "Add", "Remove", "Bg")] == \
        list(OP_VERBS)
    item_keys = [k for k in defs["Item"]["properties"] if k != "id"]
    assert list(defs["SetOp"]["properties"]) == ["set", *item_keys]
    assert defs["SetOp"]["required"] == ["set"]
    assert list(defs["ThenOp"]["properties"]) == ["then", "do"]
    assert list(defs["TuneOp"]["properties"]) == ["tune", "faster", "slower", "dir", "ease", "times", "yoyo", "dur"]
    nullable = {k for k, v in defs["SetOp"]["properties"].items() if {"type": "null"} in v.get("anyOf", [])}
    assert nullable == RESETTABLE == {"text", "color", "aspect", "inner", "radius", "pts", "at", "of", "xy", "xy2",
                                      "in", "cols", "colors", "stagger", "after"}
    others = {**defs, "SetOp": {}}
    assert '{"type": "null"}' not in json.dumps(others)
    gbnf = compact_gbnf(schema)
    assert 'space ::= ""' in gbnf
    for verb in OP_VERBS:
        assert f'"\\"{verb}\\""' in gbnf, verb


def test_patch_json_round_trips_in_grammar_order() -> None:
    text = ('{"edit":[{"set":["a","b"],"color":"red","at":"below","of":"c","after":null,'
            '"do":[{"move":"down","by":100,"dur":3}]},{"then":"a","do":[{"spin":"ccw","with":true}]},'
            '{"tune":"a","faster":1.5,"dir":"cw","ease":"back","times":-1,"yoyo":false,"dur":2},'
            '{"add":{"id":"d","shape":"star","at":"top"}},{"remove":"e"},{"bg":"navy"}]}')
    assert patch(text).to_json() == text


CASES = json.loads((Path(__file__).parents[1] / "fixtures" / "refinements.json").read_text())["cases"]
FIXTURE_PATCHES = {
    "ball-blue": '{"set":"ball","color":"blue"}',
    "box-yellow": '{"set":"box","color":"yellow"}',
    "ball-slower": '{"tune":"ball","slower":2}',
    "box-spin-faster": '{"tune":"box","faster":2}',
    "bg-white": '{"bg":"white"}',
    "ball-bigger": '{"set":"ball","size":120}',
    "box-smaller": '{"set":"box","size":50}',
    "add-star": '{"add":{"id":"star","shape":"star","color":"yellow","at":"center"}}',
    "remove-box": '{"remove":"box"}',
    "ball-elastic": '{"tune":"ball","ease":"elastic"}',
    "text-goodbye": '{"set":"title","text":"Goodbye"}',
    "star-red": '{"set":"star","color":"red"}',
    "star-reverse": '{"tune":"star","dir":"ccw"}',
    "text-bigger": '{"set":"title","size":60}',
    "star-slower": '{"tune":"star","slower":2}',
    "star-points": '{"set":"star","points":8}',
    "middle-red": '{"set":"sq2","color":"red"}',
    "all-purple": '{"set":["sq1","sq2","sq3"],"color":"purple"}',
    "squares-faster": '{"tune":["sq1","sq2","sq3"],"faster":2}',
    "bg-black": '{"bg":"black"}',
    "pulse-slower": '{"set":"dot","do":[{"scale":1.5,"dur":2,"ease":"easeInOut","times":-1,"yoyo":true}]}',
    "dot-green": '{"set":"dot","color":"green"}',
    "dot-left": '{"set":"dot","xy":[200,300]}',
    "play-once": '{"tune":"dot","times":1}',
}


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_every_fixture_refinement_is_one_short_patch(case: dict[str, Any]) -> None:
    """On the v1 base converted on read, the hand-written patch makes the change and keeps everything else."""
    refinement = RefinementCase.model_validate(case)
    new = compile_scene(apply_patch(from_v1(Scene.model_validate(case["base"])),
                                    patch(f'{{"edit":[{FIXTURE_PATCHES[case["name"]]}]}}')))
    result = check_case(refinement, new)
    assert (result.changed, result.preserved, result.problems) == (True, True, [])
