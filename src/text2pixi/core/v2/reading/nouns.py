"""The shape of an item, from the nouns of its sentence (pure).

A small model writes the shape it was told most of the time, but not always:
- it leaves the key out, and the item is a circle (the default): "a yellow bar grows" written
  ``{"color":"yellow",...}``, "the word GO in white above a green rectangle" written
  ``{"shape":"text","text":"GO",...},{"color":"green","at":"above","of":"go"}``. When exactly one item has no
  shape and the sentence names exactly one kind of object with a shape of its own that no other item is, the item
  gets that shape (the rectangle above);
- it writes a near miss: "a bouncing blue ball" as ``{"shape":"ellipse",...}``. When the scene has one item that
  is not text, no noun of the sentence can mean its shape, the sentence names no more objects than the scene has
  items, and it names exactly one shape noun, the item gets that shape. A box may be a square or a rounded one
  and a rect may draw a line: those are readings, not slips, and stay.

Text items never change, and a sentence that names no shape ("a grey cloud" drawn as an ellipse) changes
nothing. Paths and layouts ("moves in a circle", "five stars in a line") are not objects. English only, fresh
scenes only (:mod:`text2pixi.core.v2.reading`).
"""

from __future__ import annotations

import re

from text2pixi.core.edit_words import kinds_named
from text2pixi.core.v2.language import Item, V2Scene
from text2pixi.core.v2.layout import item_names
from text2pixi.core.v2.refs import repoint

SHAPES = {"circle": "circle", "ball": "circle", "square": "square", "rectangle": "rect", "bar": "rect",
          "box": "rect", "block": "rect", "ellipse": "ellipse", "oval": "ellipse", "triangle": "triangle",
          "star": "star", "hexagon": "polygon", "line": "line"}
"""Nouns with a shape of their own (``kinds_named`` also knows them; a square is not a rect here, and a pentagon
is left out: its sides are not the polygon's default)."""
NOUNS = SHAPES | {"balls": "circle", "squares": "square", "rectangles": "rect", "bars": "rect", "boxes": "rect",
                  "ellipses": "ellipse", "ovals": "ellipse", "triangles": "triangle", "stars": "star",
                  "hexagons": "polygon", "lines": "line"}
""":data:`SHAPES` and their plurals ("circles" and "blocks" are left out: more often verbs, "a bird circles")."""
_KIND = {"square": "rect"}
READINGS = ({"square", "rect", "roundrect"}, {"rect", "line"})
"""Shapes that may each draw what the other's noun names (a box, a thick line): never swapped here."""
_PATHS = re.compile(r"\b(?:in|along|around|into) (?:a|an|one|the) (?:(?:straight|single|big|large|small|wide|"
                    r"perfect|full|neat|long|horizontal|vertical) )?(?:line|circle|ring|square|triangle|star|row|"
                    r"column|grid)s?\b|\bstraight lines?\b|\blines? (?:up|of)\b|\ban? (?:ring|row|column|grid) of\b")
"""Phrases where a shape noun is a path or a layout, not an object ("moves in a circle", "a line of stars")."""
_DETERMINERS = re.compile(r"\b(?:a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|\d+)\b"
                          r"(?! (?:\d+ ?)?(?:px|pixels?|seconds?|secs?|s|degrees?|times|percent|by|after|another|"
                          r"other|the|of|above|below|on|at|a|an|more|bit|little|while|moment|time|half|few|"
                          r"different|quarter)\b)")
"""Words that introduce an object ("a", "four"), not a number of units, "a bit", "one by one", "a different"."""


def _objects_text(prompt: str) -> str:
    """The sentence, lower case, without its path and layout phrases."""
    return _PATHS.sub(" ", prompt.lower())


def shape_nouns(prompt: str) -> list[str]:
    """The shape nouns of the sentence that name objects, in order (repeats kept)."""
    return [w for w in re.findall(r"[a-z]+", _objects_text(prompt)) if w in NOUNS]


def objects_named(prompt: str) -> int:
    """How many objects (or groups of copies) the sentence names, at least: its determiners ("a", "four") or
    its nouns of a kind of object ("the word"), whichever are more."""
    text = _objects_text(prompt)
    nouns = [w for w in re.findall(r"[a-z]+", text) if kinds_named(w)]
    return max(len(_DETERMINERS.findall(text)), len(nouns))


def kind_of(shape: str) -> str:
    """The kind of object (:func:`~text2pixi.core.edit_words.kinds_named`) a shape draws: a square is a rect."""
    return _KIND.get(shape, shape)


def is_named(shape: str, prompt: str) -> bool:
    """Can some noun of the sentence (any word for that kind of object, "planet", "egg") mean ``shape``?"""
    kind = kind_of(shape)
    return any(kind in kinds_named(w) for w in re.findall(r"[a-z]+", _objects_text(prompt)))


def _reading(a: str, b: str) -> bool:
    return any(a in pair and b in pair for pair in READINGS)


def _fix(item: Item, shape: str) -> tuple[Item, str]:
    was = f"wrote {item.shape}" if "shape" in item.model_fields_set else "left it out"
    return (item.model_copy(update={"shape": shape}),
            f"item {item.id or shape}: shape {shape}, as the sentence names it (the reply {was})")


def fill_shapes(scene: V2Scene, prompt: str) -> tuple[V2Scene, list[str]]:
    """``scene`` with the shape the sentence names for an item that left it out or wrote a near miss."""
    nouns = shape_nouns(prompt)
    items = list(scene.items)
    bare = [k for k, item in enumerate(items) if "shape" not in item.model_fields_set]
    solid = [k for k, item in enumerate(items) if item.shape != "text"]
    if len(bare) == 1:
        k = bare[0]
        others = [kind_of(i.shape) for j, i in enumerate(items) if j != k]
        missing = {NOUNS[w] for w in nouns if not kinds_named(w) & set(others)}
        if len(missing) != 1 or (shape := missing.pop()) == items[k].shape:
            return scene, []
    elif len(solid) == 1 and not bare and objects_named(prompt) <= len(items):
        k = solid[0]
        named = {NOUNS[w] for w in nouns}
        if len(named) != 1 or is_named(items[k].shape, prompt) or _reading(shape := named.pop(), items[k].shape):
            return scene, []
    else:
        return _by_colour(scene, prompt, bare)
    items[k], fix = _fix(items[k], shape)
    return _renamed(scene, items), [fix]


def _renamed(scene: V2Scene, items: list[Item]) -> V2Scene:
    """``scene`` with ``items``, whose references still name the items they named: a new shape renames its item
    (``circle`` becomes ``rect``) and the items after it of either shape (``circle2`` becomes ``circle``)."""
    moved = {old: new for old, new in zip(item_names(scene.items), item_names(items), strict=True) if old != new}
    return scene.model_copy(update={"items": [repoint(item, moved) for item in items] if moved else items})


def _by_colour(scene: V2Scene, prompt: str, bare: list[int]) -> tuple[V2Scene, list[str]]:
    """Several items without a shape: each one whose colour the sentence gives to one shape noun ("a brown box
    on the bottom with a small green ball on it") and to no other item takes that noun's shape."""
    items, fixes, text = list(scene.items), [], _objects_text(prompt)
    for k in bare if len(bare) > 1 else []:
        color = (items[k].color or "").lower()
        if not color or any(j != k and (i.color or "").lower() == color for j, i in enumerate(items)):
            continue
        shapes = {NOUNS[w] for w in re.findall(rf"\b{re.escape(color)} ([a-z]+)\b", text) if w in NOUNS}
        if len(shapes) == 1 and (shape := shapes.pop()) != items[k].shape:
            items[k], fix = _fix(items[k], shape)
            fixes.append(fix)
    return (_renamed(scene, items), fixes) if fixes else (scene, [])
