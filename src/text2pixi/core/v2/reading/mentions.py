"""Which item of a scene a sentence's words name (pure).

The passes that read how items stand or follow one another (:mod:`.referents`, :mod:`.relations`,
:mod:`.handoffs`) first find each item in the sentence: by its colours, its id, the words of its text, and the
nouns of its shape (with their plurals). A word that two items share names neither.
"""

from __future__ import annotations

import re

from text2pixi.core.v2.language import Item
from text2pixi.core.v2.refs import SHAPE_WORDS

NOUNS = SHAPE_WORDS | {"bar": "rect", "box": "rect", "block": "rect", "dot": "circle", "disc": "circle",
                       "button": "roundrect", "card": "roundrect", "text": "text", "word": "text", "title": "text",
                       "label": "text", "caption": "text"}
"""Nouns a sentence names an item's shape by (a box may be a square too: :data:`ALSO`)."""
ALSO = {"square": {"box", "block"}, "roundrect": {"rectangle", "box"}}
SMALL = frozenset({"a", "an", "the", "it", "its", "to", "of", "on", "in", "at", "and", "with", "is", "my"})
"""Words of an item's text that name nothing by themselves."""
WORD = re.compile(r"[a-z0-9']+")


def own_words(item: Item, *, unwritten_shape: bool = False) -> set[str]:
    """Words a sentence may name ``item`` by: colours, id, text words, and the nouns of its shape (plurals too).

    The nouns of a shape the reply did not write (the default circle) count only with ``unwritten_shape``: an
    item without a shape may well be what the sentence calls a rectangle."""
    words = {c.lower() for c in (item.color, *(item.colors or []), item.id) if c}
    if "shape" in item.model_fields_set or unwritten_shape:
        nouns = {w for w, s in NOUNS.items() if s == item.shape} | ALSO.get(item.shape, set()) | {item.shape}
        words |= nouns | {w + "s" for w in nouns}
    return words | (set(WORD.findall((item.text or "").lower())) - SMALL)


def named(text: str, owns: list[set[str]]) -> set[int]:
    """The items ``text`` names by words no other item has (two-word colours joined: "light blue")."""
    words = WORD.findall(text)
    said = set(words) | {a + b for a, b in zip(words, words[1:], strict=False)}
    return {k for k, own in enumerate(owns) if said & (own - set().union(*owns[:k], *owns[k + 1:]))}
