"""An item a reference names and the reply never wrote, added from the sentence (pure).

"a small red circle on top of a large yellow square" is often written as the circle alone, placed by the square
it never wrote: ``{"shape":"circle","color":"red","at":"top","of":"yellow"}`` (a compile error: "'yellow' is not
an item id"). When a reference (``of``, ``after``, a step's ``of``) names no item
(:func:`~text2pixi.core.v2.refs.dangling`), the word is a colour or a shape noun, exactly one noun phrase of the
sentence has it ("a large yellow square": size, colour, shape noun) and no other item could be that object (of
its shape, of none written, or of its colour), the item is added from the phrase, just before
the first item that refers to it, and the references name it. English only, fresh scenes only.

Which item a sentence's words name (:func:`own_words`, :func:`named`) is read here for
:mod:`~text2pixi.core.v2.reading.relations` too.
"""

from __future__ import annotations

import re
from typing import Any

from text2pixi.core.colors import CSS_COLOR_NAMES
from text2pixi.core.v2.language import Item, V2Scene
from text2pixi.core.v2.layout import item_names
from text2pixi.core.v2.refs import SHAPE_WORDS, dangling

NOUNS = SHAPE_WORDS | {"bar": "rect", "box": "rect", "block": "rect", "dot": "circle", "disc": "circle",
                       "button": "roundrect", "card": "roundrect", "text": "text", "word": "text", "title": "text",
                       "label": "text", "caption": "text"}
"""Nouns a sentence names an item's shape by (a box may be a square too: :data:`ALSO`)."""
ALSO = {"square": {"box", "block"}, "roundrect": {"rectangle", "box"}}
SMALL = frozenset({"a", "an", "the", "it", "its", "to", "of", "on", "in", "at", "and", "with", "is", "my"})
"""Words of an item's text that name nothing by themselves."""
SIZES = {"tiny": "tiny", "small": "small", "little": "small", "medium": "medium", "large": "large", "big": "large",
         "huge": "huge", "giant": "huge"}
"""Size words of a noun phrase, as an item's size."""
BOXES = frozenset({"square", "rect", "roundrect"})
"""Shapes a model writes for one another ("a square" drawn as a rect): an item of one may be the other."""
WORD = re.compile(r"[a-z0-9']+")
_PHRASE = re.compile(r"\b(?:(" + "|".join(SIZES) + r") )?(?:(" + "|".join(CSS_COLOR_NAMES) + r") )?("
                     + "|".join(w for w, s in NOUNS.items() if s != "text") + r")\b")


def own_words(item: Item) -> set[str]:
    """Words a sentence may name ``item`` by: colours, nouns of a shape it wrote, text words, id."""
    words = {c.lower() for c in (item.color, *(item.colors or []), item.id) if c}
    if "shape" in item.model_fields_set:
        words |= {w for w, s in NOUNS.items() if s == item.shape} | ALSO.get(item.shape, set()) | {item.shape}
    return words | (set(WORD.findall((item.text or "").lower())) - SMALL)


def named(text: str, owns: list[set[str]]) -> set[int]:
    """The items ``text`` names by words no other item has (two-word colours joined: "light blue")."""
    words = WORD.findall(text)
    said = set(words) | {a + b for a, b in zip(words, words[1:], strict=False)}
    return {k for k, own in enumerate(owns) if said & (own - set().union(*owns[:k], *owns[k + 1:]))}


def _could_be(item: Item, shape: str, color: str | None) -> bool:
    """Could ``item`` be the object of a phrase naming ``shape`` and ``color`` (a colour slip is a slip: "a yellow
    square" written orange is still the square)?"""
    same = "shape" not in item.model_fields_set or item.shape == shape or {item.shape, shape} <= BOXES
    return same or (item.color is not None and item.color.lower() == color)


def _refs(item: Item) -> list[str | None]:
    return [item.of, item.after, *(getattr(step, "of", None) for step in item.do)]


def _point(item: Item, word: str, name: str) -> Item:
    """``item`` with its references to ``word`` naming ``name``."""
    update: dict[str, Any] = {key: name for key in ("of", "after") if getattr(item, key) == word}
    if any(getattr(step, "of", None) == word for step in item.do):
        update["do"] = [s.model_copy(update={"of": name}) if getattr(s, "of", None) == word else s for s in item.do]
    return item.model_copy(update=update) if update else item


def add_missing_referents(scene: V2Scene, prompt: str) -> tuple[V2Scene, list[str]]:
    """``scene`` with each object a reference names and the reply left out added (see the module doc)."""
    fixes: list[str] = []
    for word in dict.fromkeys(dangling(scene)):
        phrases = [m for m in _PHRASE.finditer(prompt.lower()) if word.lower() in (m.group(2), m.group(3))]
        if len(phrases) != 1:
            continue
        size, color, noun = phrases[0].groups()
        shape = NOUNS[noun]
        first = next(k for k, item in enumerate(scene.items) if word in _refs(item))
        if any(_could_be(item, shape, color) for k, item in enumerate(scene.items) if k != first):
            continue
        new = Item.model_validate({"shape": shape} | ({"color": color} if color else {})
                                  | ({"size": SIZES[size]} if size else {}))
        names = item_names(scene.items)
        items = [*scene.items[:first], new, *scene.items[first:]]
        if item_names(items)[:first] + item_names(items)[first + 1:] != names:  # another item would be renamed
            continue
        name = item_names(items)[first]
        items = [_point(item, word, name) for item in items]
        scene = scene.model_copy(update={"items": items})
        fixes.append(f"item {name}: added, the {phrases[0].group()} the sentence names (the reply placed item "
                     f"{names[first]} by {word!r} and never wrote it)")
    return scene, fixes
