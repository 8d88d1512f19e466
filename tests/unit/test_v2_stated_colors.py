"""A colour the v2 scene states is never changed by the compiler: one equal to the background is an error that
names the item (the compiled scene could never show it), anything else compiles as written."""

from __future__ import annotations

from typing import Any

import pytest

from text2pixi.core.errors import SceneCompileError
from text2pixi.core.scene import Scene
from text2pixi.core.v2.compiler import compile_scene
from text2pixi.core.v2.language import V2Scene


def compile_(data: dict[str, Any]) -> Scene:
    return compile_scene(V2Scene.model_validate(data))


@pytest.mark.parametrize(("scene", "message"), [
    ({"bg": "white", "items": [{"id": "sun", "shape": "text", "text": "Hi", "color": "white"}]},
     "item 'sun': \"color\" white on a white background, so it would be invisible: choose another \"color\" or "
     "another \"bg\""),
    ({"items": [{"id": "box", "shape": "square", "color": "#000000"}]},  # bg omitted: black, other spelling
     "item 'box': \"color\" #000000 on a black background"),
    ({"bg": "navy", "items": [{"id": "dots", "n": 3, "colors": ["gold", "#000080"]}]},  # copy 2 is navy
     "item 'dots': \"colors\" #000080 on a navy background"),
])
def test_a_stated_colour_equal_to_the_background_names_the_item(scene: dict[str, Any], message: str) -> None:
    with pytest.raises(SceneCompileError) as info:
        compile_(scene)
    assert str(info.value).startswith(message)
    assert info.value.item == scene["items"][0]["id"]


def test_colours_that_are_not_the_background_compile_unchanged() -> None:
    # near-invisible is the sanity review's business (it knows the sentence), not the compiler's
    compiled = compile_({"bg": "#f0f0f0", "items": [{"id": "a", "color": "white"},
                                                      {"id": "dots", "n": 2, "colors": ["red"]},
                                                      {"id": "pair", "n": 1, "colors": ["blue", "#f0f0f0"]}]})
    assert compiled.bg == "#f0f0f0"
    assert [o.color for o in compiled.objects] == ["white", "red", "red", "blue"]  # "pair" never shows its 2nd
    # an omitted colour is chosen to show, on any background, even one the palette would match
    assert all(o.color != "black" for o in compile_({"bg": "black", "items": [{}, {"shape": "text", "text": "x"}]})
               .objects)
