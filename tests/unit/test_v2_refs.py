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


def test_a_reference_to_nothing_or_to_itself_means_the_one_other_item() -> None:
    """Seen on the default model: "the word Welcome with a green circle underneath it" written with an unnamed text
    item and "of":"title"; "the word GO above a green rectangle" with "of" naming GO itself; "a star directly
    above a triangle" with "at":"above" and no "of"."""
    welcome = _scene({"shape": "text", "text": "Welcome"}, {"color": "green", "at": "below", "of": "title"})
    assert resolve_refs(welcome).items[1].of == "text"
    go = _scene({"id": "go", "shape": "text", "text": "GO", "at": "above", "of": "go"},
                {"shape": "rect", "color": "green"})
    assert resolve_refs(go).items[0].of == "rect"
    star = _scene({"shape": "star", "at": "above"}, {"shape": "triangle"})
    assert resolve_refs(star).items[0].of == "triangle"
    top = compile_scene(star)
    assert top.objects[0].y < top.objects[1].y
    # The other item already refers to this one: no reading is left, the compiler names the problem.
    both = _scene({"id": "a", "at": "left", "of": "zz"}, {"id": "b", "at": "right", "of": "a"})
    assert resolve_refs(both) == both
    # Two candidates: left alone.
    three = _scene({"id": "a", "at": "above", "of": "zz"}, {"id": "b"}, {"id": "c"})
    assert resolve_refs(three) == three


def test_the_stage_named_as_an_item_means_the_stage() -> None:
    scene = _scene({"shape": "line", "at": "left", "of": "stage"}, {"id": "t", "shape": "text", "text": "hi",
                                                                     "at": "above", "of": "screen",
                                                                     "do": [{"to": "below", "of": "canvas"}]})
    resolved = resolve_refs(scene)
    assert [(i.at, i.of) for i in resolved.items] == [("left", None), ("top", None)]
    assert (resolved.items[1].do[0].to, resolved.items[1].do[0].of) == ("bottom", None)
    assert compile_scene(scene) == compile_scene(resolved)


def test_a_stage_anchor_written_with_an_item_means_the_place_next_to_it() -> None:
    scene = _scene({"id": "ground", "shape": "rect", "at": "bottom"},
                   {"id": "ball", "at": "top", "of": "ground", "do": [{"to": "bottom", "of": "rect"}]},
                   {"id": "sun", "at": "top-right", "of": "ground"})
    resolved = resolve_refs(scene)
    assert [(i.at, i.of) for i in resolved.items] == [("bottom", None), ("above", "ground"), ("above", "ground")]
    assert (resolved.items[1].do[0].to, resolved.items[1].do[0].of) == ("below", "ground")
    same = _scene({"id": "ground", "shape": "rect", "at": "bottom"},
                  {"id": "ball", "at": "above", "of": "ground", "do": [{"to": "below", "of": "ground"}]},
                  {"id": "sun", "at": "above", "of": "ground"})
    assert compile_scene(scene) == compile_scene(same)


def test_an_item_without_a_shape_takes_the_one_a_reference_names() -> None:
    scene = _scene({"shape": "star", "at": "above", "of": "triangle"}, {"color": "green"})
    resolved = resolve_refs(scene)
    assert [i.shape for i in resolved.items] == ["star", "triangle"] and resolved.items[0].of == "triangle"
    (star, triangle) = compile_scene(scene).objects
    assert (star.type, triangle.type) == ("star", "triangle") and star.y < triangle.y
    # a written shape is the model's choice, and two bare items leave the word ambiguous: both stay
    for kept in (_scene({"shape": "star", "at": "above", "of": "triangle"}, {"shape": "circle"}),
                 _scene({"shape": "star", "at": "above", "of": "triangle"}, {}, {"color": "red"})):
        assert [i.shape for i in resolve_refs(kept).items] == [i.shape for i in kept.items]


@pytest.mark.parametrize(("source", "resolved"), [
    # "a yellow star directly above a green triangle": each placed above the other; the first written is the subject
    ('{"items":[{"shape":"star","color":"yellow","at":"above","of":"triangle"},'
     '{"shape":"triangle","color":"green","at":"above","of":"star"}]}',
     '{"items":[{"shape":"star","color":"yellow","at":"above","of":"triangle"},{"shape":"triangle","color":"green"}]}'),
    # the square placed by itself ("red"), the circle by the square: the square's own place goes
    ('{"items":[{"shape":"square","color":"red","at":"right","of":"red"},'
     '{"shape":"circle","color":"blue","at":"right","of":"red"}]}',
     '{"items":[{"shape":"square","color":"red"},{"color":"blue","at":"right","of":"square"}]}'),
])
def test_two_items_placed_by_each_other_keep_one_of_the_places(source: str, resolved: str) -> None:
    scene = V2Scene.model_validate_json(source)
    assert resolve_refs(scene).to_json() == resolved
    first, second = compile_scene(scene).objects
    assert first.y < second.y if first.type == "star" else second.x > first.x


def test_a_longer_circle_is_left_for_the_compiler() -> None:
    scene = _scene({"id": "a", "at": "left", "of": "b"}, {"id": "b", "at": "left", "of": "c"},
                   {"id": "c", "at": "left", "of": "a"})
    assert resolve_refs(scene) == scene
    with pytest.raises(SceneCompileError, match="in a circle"):
        compile_scene(scene)
