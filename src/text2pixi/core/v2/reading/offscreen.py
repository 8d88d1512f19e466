"""An item the sentence sends off the stage, and brings back, where the reply moved it some way (pure).

"a purple ball rolls to the right until it is off the screen" is often written ``{"move":"right"}``: a quarter
of the stage, kept on it. When the sentence sends something off the stage (:data:`OFF`: "off the screen",
"off-screen", "out of sight", "leaves the screen", ...), exactly one item goes anywhere, and that item has
exactly one move step, by some pixels or by the default distance, that step goes ``"by":"off"``, keeping its
timing. Its other steps that go somewhere may only be a way back (``{"to":"start"}``).

"a white square slides off the screen to the left and then comes back to where it started" also loses the way
back: when the sentence brings it back (:data:`BACK`) and no step does (nor a yoyo), ``{"to":"start"}`` is
added after it, as long as the move (its ``dur`` when written). A "fall off" or a slide out already leaves the
stage and is left alone, as is anything the sentence says without (:data:`NOT`: "never comes back"). English
only, fresh scenes only (:mod:`text2pixi.core.v2.reading`).
"""

from __future__ import annotations

import re

from text2pixi.core.v2.language import MAX_STEPS, Item, MoveStep, ToStep, V2Scene
from text2pixi.core.v2.reading.places import GOES

_STAGE = r"(?:screen|stage|picture|frame|view|sight|scene)"
OFF = re.compile(r"(?<!bounce )(?<!bounces )(?<!bouncing )\b(?:off(?:[ -]| the (?:\w+ )?(?:(?:edge|side) of the )?)"
                 + _STAGE + r"|offscreen|out of (?:the )?" + _STAGE + r"|(?:leaves?|leaving|exits?|exiting) the "
                 + _STAGE + r")\b(?!'s| (?:edges?|sides?|walls?|borders?|corners?)\b)")
"""Phrases that send an item past the edge of the stage (not "bounces off the screen edges")."""
BACK = re.compile(r"\b(?:(?:comes?|came|coming|goes|going|moves?|moving|slides?|sliding|rolls?|rolling|flies|"
                  r"flying|heads?|heading|travels?|travelling|traveling) back|returns?|returning)\b"
                  r"(?! to the (?!start))(?! and forth)"
                  r"|\bback to (?:where it (?:started|began|was)|its (?:start|starting|original|initial)|the start)")
"""Phrases that bring it back where it began (not "returns to the centre", another place; not "back and forth")."""
NOT = re.compile(r"\b(?:not|never|without|no|nor)\b|n't\b")
"""A word that says the phrase does not happen, when it is among the three words before it."""


def stated(pattern: re.Pattern[str], text: str) -> bool:
    """Does ``text`` say ``pattern`` without one of :data:`NOT` among the three words before it?"""
    return any(not NOT.search(" ".join(text[:m.start()].split()[-3:])) for m in pattern.finditer(text))


def _the_move(item: Item) -> int | None:
    """The index of the item's one move step, when its other steps that go somewhere only go back after it."""
    moves = [j for j, step in enumerate(item.do) if isinstance(step, MoveStep)]
    if len(moves) != 1:
        return None
    others = [(j, step) for j, step in enumerate(item.do) if isinstance(step, GOES) and j != moves[0]]
    backs = all(_back(step) and j > moves[0] for j, step in others)
    return moves[0] if backs else None


def _back(step: object) -> bool:
    return isinstance(step, ToStep) and step.to == "start"


def go_off_screen(scene: V2Scene, prompt: str) -> tuple[V2Scene, list[str]]:
    """``scene`` with its one move sent off the stage, and back, as the sentence says (see the module doc)."""
    text = prompt.lower()
    if not stated(OFF, text):
        return scene, []
    moving = [k for k, item in enumerate(scene.items) if any(isinstance(s, GOES) for s in item.do)]
    if len(moving) != 1:
        return scene, []
    item = scene.items[moving[0]]
    j = _the_move(item)
    if j is None:
        return scene, []
    move = item.do[j]
    assert isinstance(move, MoveStep)
    steps, fixes, name = list(item.do), [], item.id or item.shape
    if move.by == "edge" or (
            isinstance(move.by, int) and re.search(rf"\b{move.by}\s*(?:px|pixels?)\b", text)):
        return scene, []  # the edge is a place the reply chose; a distance the sentence gives is the user's
    if move.by != "off":
        steps[j] = move.model_copy(update={"by": "off"})
        fixes.append(f"item {name} step {j + 1}: goes off the stage, as the sentence says (the reply moved it "
                     f"{'by ' + str(move.by) + ' px' if move.by else 'a quarter of the stage'})")
    back = any(_back(s) for s in steps) or move.yoyo
    if stated(BACK, text) and not back and len(steps) < MAX_STEPS:
        steps.insert(j + 1, ToStep.model_validate({"to": "start"} | ({"dur": move.dur} if move.dur else {})))
        fixes.append(f"item {name} step {j + 2}: comes back to where it started, as the sentence says (the reply "
                     "left it off the stage)")
    if not fixes:
        return scene, []
    items = list(scene.items)
    items[moving[0]] = item.model_copy(update={"do": steps})
    return scene.model_copy(update={"items": items}), fixes
