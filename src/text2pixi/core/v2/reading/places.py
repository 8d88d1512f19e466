"""A destination the sentence names, where the reply wrote a move by some distance or a slide in (pure).

"moves from the top left corner to the bottom right corner" is often written ``"at":"top-left"`` and then
``{"move":"down-right"}`` or ``{"move":"right","by":150}``: it starts right and ends short of the corner. When
the sentence names exactly one destination that is a place on the stage ("to the bottom right corner", "to the
left side", "to the centre", "to the right edge", "reaches the right edge"), exactly one item moves, and that
item has exactly one move step and no other step that goes somewhere, the move step goes to that place:
``{"to":anchor}`` (an edge: ``{"move":side,"by":"edge"}``, touching it), keeping its timing. A bare "to the
right" is a direction, not a place, and stays as written.

A slide in comes from off the stage to where the item already is, so "a red box slides over to the left edge of
the stage" written ``{"slide":"in","side":"left"}`` never reaches the edge: when the only step in the scene that
goes anywhere is a slide in, the sentence names one such place that is not where the item is, and it does not
bring the item in (:data:`ENTERS`: "slides in from the left", "enters"), the slide becomes the move there.

"drops in from the top" written ``{"slide":"in"}`` comes in from the left, the compiler's side: when the
sentence names one side it comes "from" (:data:`FROM_SIDE`) and no slide in of the scene names a side, they
all come from that one (:func:`slide_from_named_side`).

English only, fresh scenes only (:mod:`text2pixi.core.v2.reading`).
"""

from __future__ import annotations

import re
from typing import Any

from text2pixi.core.v2.language import MOVE_STEPS, FallStep, MoveStep, SlideStep, ToStep, V2Scene

_CORNER = r"(top|upper|bottom|lower)[ -](left|right)(?: corner| hand corner)?"
_PLACE = re.compile(r"\b(?:to|towards|reaches|reach|hits|as far as) the (?:" + _CORNER
                    + r"|(left|right|top|bottom) (edge|side)|(centre|center|middle))\b")
VERTICAL = {"top": "top", "upper": "top", "bottom": "bottom", "lower": "bottom"}
"""A corner's vertical word, as an anchor names it ("upper left" is top-left)."""
GOES = (*MOVE_STEPS, SlideStep, FallStep)
"""Steps that take an item somewhere."""
ENTERS = re.compile(r"\b(?:in from|from the|from off|enters?|entering|(?:slides?|sliding|comes?|coming|flies|flying|"
                    r"drops?|dropping|moves?|moving) in|appears?|appearing)\b")
"""Words that bring the item onto the stage: then a slide in is what the sentence says."""
FROM_SIDE = re.compile(r"\bfrom (?:the (left|right|top|bottom)(?![ -](?:hand )?(?:left|right))|(above)"
                       r"|(below|beneath))\b")
"""The side something comes from ("from the top", "from above"; not a corner, "from the top left")."""
SLIDE_IN_SIDE = "left"
"""The side a slide in comes from when it names none (:mod:`text2pixi.core.v2.motion`)."""


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


def _one_step(scene: V2Scene, kinds: tuple[type, ...]) -> tuple[int, int] | None:
    """(item, step) of the only step of these kinds, in the only item that has any, or None."""
    moving = [k for k, item in enumerate(scene.items) if any(isinstance(step, kinds) for step in item.do)]
    if len(moving) != 1:
        return None
    goes = [j for j, step in enumerate(scene.items[moving[0]].do) if isinstance(step, kinds)]
    return (moving[0], goes[0]) if len(goes) == 1 else None


def _slide_to(scene: V2Scene, prompt: str, place: dict[str, Any]) -> tuple[int, int] | None:
    """(item, step) of the scene's one slide in, when it stands for a move to ``place`` (see the module doc)."""
    found = _one_step(scene, GOES)
    if found is None or ENTERS.search(prompt.lower()):
        return None
    item, step = scene.items[found[0]], scene.items[found[0]].do[found[1]]
    if not (isinstance(step, SlideStep) and step.slide == "in") or item.n > 1 or item.of is not None:
        return None
    here = item.at if item.at is not None or item.xy is not None else "center"
    if isinstance(here, str) and (place.get("to") == here or place.get("move") in here.split("-")):
        return None  # it is there already: the slide in is how it gets there
    return found


def go_to_named_place(scene: V2Scene, prompt: str) -> tuple[V2Scene, list[str]]:
    """``scene`` with its one move step or slide in sent to the one place the sentence names (see the module doc)."""
    place = destination(prompt)
    if place is None:
        return scene, []
    found = _one_step(scene, MOVE_STEPS)
    if found is None or not isinstance(scene.items[found[0]].do[found[1]], MoveStep):
        found = _slide_to(scene, prompt, place)
    if found is None:
        return scene, []
    k, j = found
    item = scene.items[k]
    old = item.do[j]
    if isinstance(old, MoveStep) and old.by == place.get("by") and old.move == place.get("move"):
        return scene, []
    timing = old.model_dump(by_alias=True, exclude_defaults=True, include={"dur", "ease", "times", "yoyo", "with_",
                                                                          "delay"})
    step = (MoveStep if "move" in place else ToStep).model_validate(place | timing)
    steps = list(item.do)
    steps[j] = step
    items = list(scene.items)
    items[k] = item.model_copy(update={"do": steps})
    where = f"to {place['to']}" if "to" in place else f"to the {place['move']} edge"
    was = "slid it in from off the stage" if isinstance(old, SlideStep) else "moved it by a distance"
    fix = f"item {item.id or item.shape} step {j + 1}: goes {where}, the place the sentence names (the reply {was})"
    return scene.model_copy(update={"items": items}), [fix]


def slide_from_named_side(scene: V2Scene, prompt: str) -> tuple[V2Scene, list[str]]:
    """``scene`` with its slides in that name no side coming from the one side the sentence names."""
    sides = {side or ("top" if above else "bottom") for side, above, _ in FROM_SIDE.findall(prompt.lower())}
    if len(sides) != 1 or (side := sides.pop()) == SLIDE_IN_SIDE:
        return scene, []
    slides = [(k, j) for k, item in enumerate(scene.items) for j, step in enumerate(item.do)
              if isinstance(step, SlideStep) and step.slide == "in"]
    if not slides or any(getattr(scene.items[k].do[j], "side", None) is not None for k, j in slides):
        return scene, []
    items, fixes = list(scene.items), []
    for k, j in slides:
        steps = list(items[k].do)
        steps[j] = steps[j].model_copy(update={"side": side})
        items[k] = items[k].model_copy(update={"do": steps})
        fixes.append(f"item {items[k].id or items[k].shape} step {j + 1}: slides in from the {side}, as the "
                     f"sentence says (the reply named no side: from the {SLIDE_IN_SIDE})")
    return scene.model_copy(update={"items": items}), fixes
