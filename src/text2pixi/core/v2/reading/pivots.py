"""A pivot the sentence names and the reply left out (pure).

- "rotates 90 degrees about its bottom-left corner", "grows from its top-left corner", "its left side stays
  put": when the sentence names exactly one point of the object itself (``its`` + a corner, edge, side or end)
  and exactly one item turns or scales with no ``about`` on any of those steps, they all get that pivot (an
  item has one pivot).

The shape a sentence names ("a yellow bar grows") is :mod:`text2pixi.core.v2.reading.nouns`'s. English only,
fresh scenes only (:mod:`text2pixi.core.v2.reading`).
"""

from __future__ import annotations

import re

from text2pixi.core.v2.language import GrowStep, RotateStep, ScaleStep, ShrinkStep, SpinStep, V2Scene
from text2pixi.core.v2.reading.places import VERTICAL

_ITS = re.compile(r"\bits (?:(top|upper|bottom|lower)[ -](left|right)|(left|right|top|bottom)"
                  r"(?: (?:edge|side|end|corner))?)\b")
TURNS = (RotateStep, SpinStep, ScaleStep, GrowStep, ShrinkStep)


def named_pivot(prompt: str) -> str | None:
    """The one point of the object the sentence turns or scales it about, as an ``about`` value, or None."""
    found = {f"{VERTICAL[v]}-{h}" if v else side for v, h, side in _ITS.findall(prompt.lower())}
    return found.pop() if len(found) == 1 else None


def fill_pivot(scene: V2Scene, prompt: str) -> tuple[V2Scene, list[str]]:
    """``scene`` with the pivot the sentence names and the reply left out (see the module doc)."""
    pivot = named_pivot(prompt)
    turning = [k for k, item in enumerate(scene.items) if any(isinstance(s, TURNS) for s in item.do)]
    if pivot is None or len(turning) != 1:
        return scene, []
    item = scene.items[turning[0]]
    if any(getattr(s, "about", None) is not None for s in item.do if isinstance(s, TURNS)):
        return scene, []
    steps = [s.model_copy(update={"about": pivot}) if isinstance(s, TURNS) else s for s in item.do]
    items = list(scene.items)
    items[turning[0]] = item.model_copy(update={"do": steps})
    fix = f"item {item.id or item.shape}: turns and scales about its {pivot}, as the sentence says"
    return scene.model_copy(update={"items": items}), [fix]
