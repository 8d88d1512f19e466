"""An item a reference names and the reply never wrote, added from the sentence (pure).

"a small red circle on top of a large yellow square" is often written as the circle alone, placed by the square
it never wrote: ``{"shape":"circle","color":"red","at":"top","of":"yellow"}`` (a compile error: "'yellow' is not
an item id"). When a reference (``of``, ``after``, a step's ``of``) names no item
(:func:`~text2pixi.core.v2.refs.dangling`), the word is a colour or a shape noun, exactly one noun phrase of the
sentence has it ("a large yellow square": size, colour, shape noun) and no other item could be that object (of
its shape, of none written, or of its colour), the item is added from the phrase, just before
the first item that refers to it, and the references name it. English only, fresh scenes only.

"""

from __future__ import annotations

import re

from text2pixi.core.colors import CSS_COLOR_NAMES
from text2pixi.core.v2.language import Item, V2Scene
from text2pixi.core.v2.layout import item_names
from text2pixi.core.v2.reading.mentions import NOUNS
from text2pixi.core.v2.refs import dangling, references, repoint

SIZES = {"tiny": "tiny", "small": "small", "little": "small", "medium": "medium", "large": "large", "big": "large",
         "huge": "huge", "giant": "huge"}
"""Size words of a noun phrase, as an item's size."""
BOXES = frozenset({"square", "rect", "roundrect"})
"""Shapes a model writes for one another ("a square" drawn as a rect): an item of one may be the other."""
_PHRASE = re.compile(r"\b(?:(" + "|".join(SIZES) + r") )?(?:(" + "|".join(CSS_COLOR_NAMES) + r") )?("
                     + "|".join(w for w, s in NOUNS.items() if s != "text") + r")\b")


def _could_be(item: Item, shape: str, color: str | None) -> bool:
    """Could ``item`` be the object of a phrase naming ``shape`` and ``color`` (a colour slip is a slip: "a yellow
    square" written orange is still the square)?"""
    same = "shape" not in item.model_fields_set or item.shape == shape or {item.shape, shape} <= BOXES
    return same or (item.color is not None and item.color.lower() == color)


def add_missing_referents(scene: V2Scene, prompt: str) -> tuple[V2Scene, list[str]]:
    """``scene`` with each object a reference names and the reply left out added (see the module doc)."""
    fixes: list[str] = []
    for word in dict.fromkeys(dangling(scene)):
        phrases = [m for m in _PHRASE.finditer(prompt.lower()) if word.lower() in (m.group(2), m.group(3))]
        if len(phrases) != 1:
            continue
        size, color, noun = phrases[0].groups()
        shape = NOUNS[noun]
        first = next(k for k, item in enumerate(scene.items) if word in references(item))
        if any(_could_be(item, shape, color) for k, item in enumerate(scene.items) if k != first):
            continue
        new = Item.model_validate({"shape": shape} | ({"color": color} if color else {})
                                  | ({"size": SIZES[size]} if size else {}))
        names = item_names(scene.items)
        items = [*scene.items[:first], new, *scene.items[first:]]
        if item_names(items)[:first] + item_names(items)[first + 1:] != names:  # another item would be renamed
            continue
        name = item_names(items)[first]
        items = [repoint(item, {word: name}) for item in items]
        scene = scene.model_copy(update={"items": items})
        fixes.append(f"item {name}: added, the {phrases[0].group()} the sentence names (the reply placed item "
                     f"{names[first]} by {word!r} and never wrote it)")
    return scene, fixes
