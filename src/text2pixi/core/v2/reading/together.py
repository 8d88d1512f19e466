"""Two steps the sentence plays at the same time, where the reply played them one after the other (pure).

"a white circle moves to the right and turns red at the same time" is often written
``"do":[{"move":"right"},{"color":"red"}]``: the colour changes only once the move has ended. When the sentence
says the steps are simultaneous (:data:`TOGETHER`: "at the same time", "simultaneously", "while", "as it",
"together") and orders nothing (no :data:`SEQUENCE` word), and exactly one item moves, with exactly two steps
next to each other (waits aside) and no ``with`` yet, its second step gets ``"with":true``. Where "while" joins
two items ("a red ball bounces while a blue square spins") each has its own step, and they already play
together: nothing to do; nor where "together" may join copies ("two circles move right together"). English
only, fresh scenes only (:mod:`text2pixi.core.v2.reading`).
"""

from __future__ import annotations

import re

from text2pixi.core.v2.language import V2Scene, verb_of

TOGETHER = re.compile(r"\b(?:at the same time|simultaneously|while|as it|together)\b")
"""Phrases that say two things happen at once."""
SEQUENCE = re.compile(r"\b(?:then|after|afterwards|afterward|before|first|once|followed|later|finally|next(?! to\b))\b")
"""Words that order things ("next to" is a place, not an order)."""


def play_together(scene: V2Scene, prompt: str) -> tuple[V2Scene, list[str]]:
    """``scene`` with the one moving item's two steps played together when the sentence says so (see the doc)."""
    text = prompt.lower()
    said = set(TOGETHER.findall(text))
    if not said or SEQUENCE.search(text):
        return scene, []
    moving = [k for k, item in enumerate(scene.items) if any(verb_of(s) != "wait" for s in item.do)]
    if len(moving) != 1:
        return scene, []
    item = scene.items[moving[0]]
    if said == {"together"} and item.n > 1:  # "two circles move right together": the copies, not the steps
        return scene, []
    acts = [j for j, s in enumerate(item.do) if verb_of(s) != "wait"]
    if len(acts) != 2 or acts[1] != acts[0] + 1 or any(s.with_ for s in item.do):
        return scene, []
    steps = list(item.do)
    steps[acts[1]] = steps[acts[1]].model_copy(update={"with_": True})
    items = list(scene.items)
    items[moving[0]] = item.model_copy(update={"do": steps})
    fix = (f"item {item.id or item.shape} step {acts[1] + 1}: plays together with step {acts[0] + 1}, as the "
           "sentence says (the reply played them one after the other)")
    return scene.model_copy(update={"items": items}), [fix]
