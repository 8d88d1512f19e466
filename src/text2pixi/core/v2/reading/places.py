"""A destination the sentence names, where the reply wrote a move by some distance (pure).

"moves from the top left corner to the bottom right corner" is often written ``"at":"top-left"`` and then
``{"move":"down-right"}`` or ``{"move":"right","by":150}``: it starts right and ends short of the corner. When
the sentence names exactly one destination that is a place on the stage ("to the bottom right corner", "to the
left side", "to the centre", "to the right edge", "reaches the right edge"), exactly one item moves, and that
item has exactly one move step and no other step that goes somewhere, the move step goes to that place:
``{"to":anchor}`` (an edge: ``{"move":side,"by":"edge"}``, touching it), keeping its timing. A bare "to the
right" is a direction, not a place, and stays as written. English only, fresh scenes only
(:mod:`text2pixi.core.v2.reading`).
"""

from __future__ import annotations

import re
from typing import Any

from text2pixi.core.v2.language import MoveStep, ToStep, V2Scene, XyStep

_CORNER = r"(top|upper|bottom|lower)[ -](left|right)(?: corner| hand corner)?"
_PLACE = re.compile(r"\b(?:to|towards|reaches|reach|hits|as far as) the (?:" + _CORNER
                    + r"|(left|right|top|bottom) (edge|side)|(centre|center|middle))\b")
VERTICAL = {"top": "top", "upper": "top", "bottom": "bottom", "lower": "bottom"}
"""A corner's vertical word, as an anchor names it ("upper left" is top-left)."""


def destination(prompt: str) -> dict[str, Any] | None:
    """The one stage place the sentence moves something to, as the step that goes there, or None."""
    found = _PLACE.findall(prompt.lower())
    if len(found) != 1:
        return None
    vertical, horizontal, side, kind, middle = found[0]
    if vertical:
        return {"to": f"{VERTICAL[vertical]}-{horizontal}"}
    if middle:
        return {"to": "center"}
    if kind == "edge":
        return {"move": side, "by": "edge"}
    return {"to": side}


def go_to_named_place(scene: V2Scene, prompt: str) -> tuple[V2Scene, list[str]]:
    """``scene`` with its one move step sent to the one place the sentence names (see the module doc)."""
    place = destination(prompt)
    if place is None:
        return scene, []
    moving = [k for k, item in enumerate(scene.items)
              if any(isinstance(step, MoveStep | ToStep | XyStep) for step in item.do)]
    if len(moving) != 1:
        return scene, []
    item = scene.items[moving[0]]
    goes = [j for j, step in enumerate(item.do) if isinstance(step, MoveStep | ToStep | XyStep)]
    if len(goes) != 1 or not isinstance(item.do[goes[0]], MoveStep):
        return scene, []
    j = goes[0]
    old = item.do[j]
    if isinstance(old, MoveStep) and old.by == place.get("by") and old.move == place.get("move"):
        return scene, []
    timing = old.model_dump(by_alias=True, exclude_defaults=True, include={"dur", "ease", "times", "yoyo", "with_",
                                                                          "delay"})
    step = (MoveStep if "move" in place else ToStep).model_validate(place | timing)
    steps = list(item.do)
    steps[j] = step
    items = list(scene.items)
    items[moving[0]] = item.model_copy(update={"do": steps})
    where = f"to {place['to']}" if "to" in place else f"to the {place['move']} edge"
    fix = (f"item {item.id or item.shape} step {j + 1}: goes {where}, the place the sentence names (the reply "
           "moved it by a distance)")
    return scene.model_copy(update={"items": items}), [fix]
