from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from text2pixi.core.colors import color_to_hex
from text2pixi.core.prompt import EXAMPLES
from text2pixi.core.scene import MAX_OBJECTS, STAGE_BOUNDS, Scene, scene_json_schema

BALL = {"type": "circle", "id": "ball", "x": 400, "y": 300, "r": 40, "color": "red"}


def scene(**kw: object) -> dict[str, object]:
    base: dict[str, object] = {"bg": "black", "objects": [BALL], "anims": []}
    base.update(kw)
    return base


def error_of(data: dict[str, object]) -> str:
    """The error the v1 generation path (stage bounds held) sends back to the model."""
    with pytest.raises(ValidationError) as info:
        Scene.model_validate(data, context={STAGE_BOUNDS: True})
    return str(info.value)


def test_minimal_scene_defaults() -> None:
    s = Scene.model_validate(scene())
    assert (s.w, s.h) == (800, 600)
    assert s.objects[0].alpha == 1.0 and s.objects[0].rot == 0
    assert s.duration() == 0.0


def test_every_object_kind_and_animation_kind_validates() -> None:
    data = scene(objects=[
        BALL,
        {"type": "rect", "id": "box", "x": 100, "y": 100, "w": 50, "h": 30, "color": "#00ff00"},
        {"type": "roundrect", "id": "card", "x": 200, "y": 100, "w": 80, "h": 50, "radius": 8},
        {"type": "ellipse", "id": "egg", "x": 300, "y": 100, "w": 60, "h": 40, "color": "SkyBlue"},
        {"type": "triangle", "id": "tri", "x": 400, "y": 100, "w": 60, "h": 50},
        {"type": "star", "id": "star", "x": 500, "y": 100, "r": 40, "points": 6, "inner": 15},
        {"type": "polygon", "id": "poly", "x": 600, "y": 100, "pts": [0, -20, 20, 0, 0, 20, -20, 0]},
        {"type": "line", "id": "ln", "x": 10, "y": 500, "x2": 790, "y2": 500, "width": 3},
        {"type": "text", "id": "title", "x": 400, "y": 40, "text": "Hi", "size": 24},
    ], anims=[
        {"type": "move", "target": "ball", "x": 700, "y": 300, "dur": 2, "ease": "easeInOut"},
        {"type": "rotate", "target": "box", "by": -90, "repeat": -1},
        {"type": "scale", "target": "star", "to": 2, "yoyo": True, "repeat": 3},
        {"type": "fade", "target": "title", "to": 0, "delay": 1},
        {"type": "color", "target": "egg", "to": "orange"},
    ])
    s = Scene.model_validate(data)
    assert s.objects[3].color == "skyblue"  # CSS names are case-insensitive, stored lower-case
    assert s.duration() is None  # one animation repeats forever
    assert color_to_hex("skyblue") == "#87ceeb"


def test_ids_must_be_unique() -> None:
    assert "ids must be unique; repeated: ball" in error_of(scene(objects=[BALL, {**BALL, "color": "blue"}]))


def test_animation_must_target_an_existing_object() -> None:
    msg = error_of(scene(anims=[{"type": "fade", "target": "ghost", "to": 0}]))
    assert "anims[0] targets 'ghost', which is not an object id (ids: ball)" in msg


def test_positions_must_be_inside_the_stage() -> None:
    assert "outside the 800x600 stage" in error_of(scene(objects=[{**BALL, "x": 900}]))
    msg = error_of(scene(anims=[{"type": "move", "target": "ball", "x": 400, "y": 700}]))
    assert "anims[0] move destination (400,700) is outside" in msg
    assert "line 'l' end" in error_of(scene(objects=[{"type": "line", "id": "l", "x": 0, "y": 0, "x2": 1000, "y2": 0}]))
    Scene.model_validate(scene(w=1000, objects=[{**BALL, "x": 900}]), context={STAGE_BOUNDS: True})  # wider: fits
    Scene.model_validate(scene(objects=[{**BALL, "x": 900}]))  # a compiled scene may go off-stage


def test_transparent_object_without_fade_is_rejected() -> None:
    assert "alpha 0 and no fade animation" in error_of(scene(objects=[{**BALL, "alpha": 0}]))
    Scene.model_validate(scene(objects=[{**BALL, "alpha": 0}], anims=[{"type": "fade", "target": "ball", "to": 1}]))


def test_object_in_background_colour_is_rejected() -> None:
    assert "invisible" in error_of(scene(bg="red"))
    assert "invisible" in error_of(scene(bg="#ff0000"))  # same colour, other spelling


@pytest.mark.parametrize(
    ("patch", "fragment"),
    [
        ({"color": "reddish"}, "not a CSS colour name"),
        ({"alpha": 1.5}, "less than or equal to 1"),
        ({"r": 0}, "greater than or equal to 1"),
        ({"id": "Ball!"}, "should match pattern"),
        ({"radius": 3}, "Extra inputs are not permitted"),
        ({"type": "hexagon"}, "does not match any of the expected tags"),
    ],
)
def test_object_field_errors_are_precise(patch: dict[str, object], fragment: str) -> None:
    assert fragment in error_of(scene(objects=[{**BALL, **patch}]))


def test_bounds_on_lists_and_strings() -> None:
    many = [{**BALL, "id": f"b{i}"} for i in range(MAX_OBJECTS + 1)]
    assert f"at most {MAX_OBJECTS} items" in error_of(scene(objects=many))
    assert "at least 1 item" in error_of(scene(objects=[]))
    long_text = {"type": "text", "id": "t", "x": 1, "y": 1, "text": "x" * 121}
    assert "at most 120 characters" in error_of(scene(objects=[long_text]))
    assert "even number of pts" in error_of(scene(objects=[{"type": "polygon", "id": "p", "x": 9, "y": 9,
                                                            "pts": [1, 2, 3, 4, 5, 6, 7]}]))


def test_json_schema_bounds_every_array_and_string() -> None:
    """A runaway model must not be able to write an unbounded document."""
    schema = scene_json_schema()
    unbounded: list[str] = []

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "array" and "maxItems" not in node:
                unbounded.append(path)
            if node.get("type") == "string" and not ({"maxLength", "enum", "const", "pattern"} & node.keys()):
                unbounded.append(path)
            for key, value in node.items():
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}/{i}")

    walk(schema, "#")
    assert unbounded == []
    described = json.dumps(schema)
    for unit in ("pixels", "degrees", "seconds"):
        assert unit in described


@pytest.mark.parametrize(("prompt", "answer"), EXAMPLES)
def test_prompt_examples_are_valid_compact_scenes(prompt: str, answer: str) -> None:
    Scene.model_validate_json(answer)
    assert " " not in answer.replace('"text":"Hello"', "")  # compact: no whitespace between tokens
