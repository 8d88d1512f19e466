"""References by what an item is (shape, colour, text) resolve to its id when they pick out one item."""

from __future__ import annotations

import pytest

from text2pixi.core.errors import SceneCompileError
from text2pixi.core.v2 import V2Scene, compile_scene
from text2pixi.core.v2.refs import resolve_refs


def _scene(*items: dict[str, object]) -> V2Scene:
    return V2Scene.model_validate({"items": list(items)})


def test_shape_colour_and_text_references_resolve_to_the_one_item_they_name() -> None:
    scene = _scene({"id": "box", "shape": "square", "color": "green", "at": "center"},
                   {"id": "ball", "color": "red", "at": "right", "of": "square"},
                   {"id": "t", "shape": "text", "text": "GO", "at": "above", "of": "green",
                    "do": [{"to": "below", "of": "rectangle"}]},
                   {"id": "late", "shape": "star", "after": "go"})
    resolved = resolve_refs(scene)
    assert [i.of for i in resolved.items] == [None, "box", "box", None]
    assert resolved.items[2].do[0].of == "rectangle"  # no rectangle here: left for the compiler's error
    assert resolved.items[3].after == "t"
    with pytest.raises(SceneCompileError, match="'rectangle' is not an item id"):
        compile_scene(scene)


def test_compiled_positions_are_those_of_the_id_reference() -> None:
    by_word = _scene({"id": "box", "shape": "square", "color": "green", "at": "center"},
                     {"id": "ball", "color": "red", "at": "right", "of": "green"})
    by_id = _scene({"id": "box", "shape": "square", "color": "green", "at": "center"},
                   {"id": "ball", "color": "red", "at": "right", "of": "box"})
    assert compile_scene(by_word) == compile_scene(by_id)


def test_an_ambiguous_word_is_left_alone() -> None:
    scene = _scene({"id": "a", "color": "red"}, {"id": "b", "color": "blue"},
                   {"id": "c", "at": "above", "of": "circle"})
    assert resolve_refs(scene) == scene
    with pytest.raises(SceneCompileError, match="'circle' is not an item id"):
        compile_scene(scene)
