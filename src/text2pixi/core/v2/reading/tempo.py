"""A slow tempo the sentence asks for and the reply left at the verbs' defaults (pure).

"a grey cloud slowly fades away in a blue sky" is often written ``{"fade":"out"}``: the default second, not
slow at all. When the sentence says so (:data:`SLOW`: "slowly", "gently", "gradually", "leisurely"), says
nothing fast (:data:`FAST`) and gives no seconds, exactly one item has steps, and no step in the scene writes a
``dur``, each of that item's timed steps takes twice its verb's default (:data:`~text2pixi.core.v2.motion.DUR`;
a spin twice its time per turn, so a slow spin turns at half the speed). A step that repeats, forever or a
number of times, slows each of its plays. English only, fresh scenes only (:mod:`text2pixi.core.v2.reading`).
"""

from __future__ import annotations

import re

from text2pixi.core.edit_words import tokens
from text2pixi.core.v2.language import SpinStep, V2Scene, WaitStep, verb_of
from text2pixi.core.v2.motion import DUR

SLOW = frozenset({"slowly", "gently", "gradually", "leisurely", "lazily"})
"""Words that ask for a slower motion than the default."""
FAST = frozenset({"quickly", "quick", "fast", "rapidly", "rapid", "swiftly", "speedily", "briskly", "suddenly",
                  "instantly", "faster", "hurriedly"})
"""Words that ask for a fast motion: with them the sentence's tempo is mixed, and left to the reply."""
SLOWER = 2.0
"""How many times its default a slow step lasts."""
_SECONDS = re.compile(r"\d+(?:\.\d+)?\s*(?:s|sec|secs|seconds?)\b|\b(?:seconds?|a second|minutes?)\b")


def slow_down(scene: V2Scene, prompt: str) -> tuple[V2Scene, list[str]]:
    """``scene`` with its one moving item's steps at twice their default length (see the module doc)."""
    words = tokens(prompt)
    if not words & SLOW or words & FAST or _SECONDS.search(prompt.lower()):
        return scene, []
    if any(getattr(step, "dur", None) is not None for item in scene.items for step in item.do):
        return scene, []
    moving = [k for k, item in enumerate(scene.items) if item.do]
    if len(moving) != 1:
        return scene, []
    item = scene.items[moving[0]]
    steps = []
    for step in item.do:
        if not isinstance(step, WaitStep):
            usual = 2.0 * step.turns if isinstance(step, SpinStep) else DUR[verb_of(step)]
            step = step.model_validate(step.model_dump(by_alias=True, exclude_unset=True) | {"dur": SLOWER * usual})
        steps.append(step)
    if steps == list(item.do):
        return scene, []
    items = list(scene.items)
    items[moving[0]] = item.model_copy(update={"do": steps})
    fix = (f"item {item.id or item.shape}: its steps take {SLOWER:g} times their usual time, as the sentence says "
           f"(the reply wrote no dur)")
    return scene.model_copy(update={"items": items}), [fix]
