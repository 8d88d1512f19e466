"""A pivot or a shape the sentence names and the reply left out (pure).

- "rotates 90 degrees about its bottom-left corner", "grows from its top-left corner", "its left side stays
  put": when the sentence names exactly one point of the object itself (``its`` + a corner, edge, side or end)
  and exactly one item turns or scales with no ``about`` on any of those steps, they all get that pivot (an
  item has one pivot);
- "a yellow bar grows": when the scene is one item that wrote no shape and the sentence names exactly one kind
  of object that has a shape of its own ("bar" is a rect), the item gets that shape.

English only, fresh scenes only (:mod:`text2pixi.core.v2.reading`).
"""

from __future__ import annotations

import re

from text2pixi.core.edit_words import kinds_named, tokens
from text2pixi.core.v2.language import GrowStep, RotateStep, ScaleStep, ShrinkStep, SpinStep, V2Scene
from text2pixi.core.v2.reading.places import VERTICAL

_ITS = re.compile(r"\bits (?:(top|upper|bottom|lower)[ -](left|right)|(left|right|top|bottom)"
                  r"(?: (?:edge|side|end|corner))?)\b")
TURNS = (RotateStep, SpinStep, ScaleStep, GrowStep, ShrinkStep)
SHAPES = {"circle": "circle", "ball": "circle", "square": "square", "rectangle": "rect", "bar": "rect",
          "box": "rect", "block": "rect", "ellipse": "ellipse", "oval": "ellipse", "triangle": "triangle",
          "star": "star", "hexagon": "polygon", "line": "line"}
"""Nouns with a shape of their own (``kinds_named`` also knows them; a square is not a rect here, and a pentagon
is left out: its sides are not the polygon's default)."""


def named_pivot(prompt: str) -> str | None:
    """The one point of the object the sentence turns or scales it about, as an ``about`` value, or None."""
    found = {f"{VERTICAL[v]}-{h}" if v else side for v, h, side in _ITS.findall(prompt.lower())}
    return found.pop() if len(found) == 1 else None


def fill_pivot_and_shape(scene: V2Scene, prompt: str) -> tuple[V2Scene, list[str]]:
    """``scene`` with the pivot and the shape the sentence names and the reply left out (see the module doc)."""
    items, fixes = list(scene.items), []
    pivot = named_pivot(prompt)
    turning = [k for k, item in enumerate(items) if any(isinstance(s, TURNS) for s in item.do)]
    if pivot is not None and len(turning) == 1:
        item = items[turning[0]]
        if all(getattr(s, "about", None) is None for s in item.do if isinstance(s, TURNS)):
            steps = [s.model_copy(update={"about": pivot}) if isinstance(s, TURNS) else s for s in item.do]
            items[turning[0]] = item.model_copy(update={"do": steps})
            fixes.append(f"item {item.id or item.shape}: turns and scales about its {pivot}, as the sentence says")
    if len(items) == 1 and "shape" not in items[0].model_fields_set:
        shapes = {SHAPES[w] for w in tokens(prompt) if w in SHAPES and kinds_named(w)}
        if len(shapes) == 1 and (shape := shapes.pop()) != items[0].shape:
            items[0] = items[0].model_copy(update={"shape": shape})
            fixes.append(f"item {items[0].id or shape}: shape {shape}, as the sentence names it")
    return (scene.model_copy(update={"items": items}), fixes) if fixes else (scene, [])
