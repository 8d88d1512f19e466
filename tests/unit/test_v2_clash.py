"""A model-written item in the background's own colour is settled as the sentence allows."""

from __future__ import annotations

from text2pixi.core.v2 import V2Scene, compile_scene
from text2pixi.core.v2.reading.clash import settle_clashes


def _scene(data: dict) -> V2Scene:
    return V2Scene.model_validate(data)


def test_an_unasked_background_gives_way_to_the_items():
    scene = _scene({"bg": "pink", "items": [{"shape": "text", "text": "Happy Birthday", "color": "pink"}]})
    settled, fixes = settle_clashes(scene, "the words Happy Birthday in pink")
    assert settled.bg in ("black", "white") and settled.items == scene.items and fixes
    compile_scene(settled)


def test_an_unasked_item_colour_gives_way_to_an_asked_background():
    scene = _scene({"bg": "navy", "items": [{"color": "navy"}]})
    settled, fixes = settle_clashes(scene, "a ball on a navy background")
    assert settled.bg == "navy" and settled.items[0].color is None and fixes
    compile_scene(settled)


def test_both_asked_for_is_left_to_the_compilers_error():
    scene = _scene({"bg": "white", "items": [{"color": "white"}]})
    assert settle_clashes(scene, "a white ball on a white background") == (scene, [])


def test_the_backgrounds_own_colour_is_dropped_from_per_copy_colours():
    """Seen on the default model: "twelve stars in a ring, each one a different colour" with black among the
    colours on the default black background; the other eleven stay as written."""
    colors = ["red", "orange", "yellow", "black", "green", "blue"]
    scene = _scene({"items": [{"shape": "star", "n": 6, "layout": "ring", "colors": colors}]})
    settled, fixes = settle_clashes(scene, "six stars in a ring, each one a different colour")
    assert settled.bg == "black" and settled.items[0].colors == [c for c in colors if c != "black"]
    assert fixes == ["item star: black dropped from its colours (the background's own, and the sentence names no "
                     "such colour)"]
    compile_scene(settled)


def test_the_new_background_shows_every_stated_colour_not_only_the_clashing_one():
    # green rect on a green bg: white would show the rect best alone, but hide the white text
    scene = V2Scene.model_validate_json(
        '{"bg":"green","items":[{"shape":"text","text":"GO","color":"white","at":"above","of":"rect"},'
        '{"shape":"rect","color":"green"}]}')
    settled, fixes = settle_clashes(scene, "the word GO in white above a green rectangle")
    assert settled.bg == "black" and fixes
    compile_scene(settled)
