"""A loop the sentence asks for and the reply forgot (pure).

"goes left and then right, over and over" is often written as the two moves (or four) without ``"loop":true``:
the sequence plays once. When the sentence says "forever" (or "over and over", "keeps", ...: :data:`LOOP_WORDS`)
and an item has a sequence of two or more steps that all end (none forever) and no loop, the item loops
forever. A single step is left alone: "spins forever" is the step's own ``times``, which the model writes.
English only, fresh scenes only, like :mod:`text2pixi.core.v2.reading.fill`.
"""

from __future__ import annotations

from text2pixi.core.edit_words import tokens
from text2pixi.core.v2.language import V2Scene, verb_of
from text2pixi.core.v2.motion import LOOPING

LOOP_WORDS = frozenset({"forever", "endlessly", "repeatedly", "continuously", "keeps", "keep", "nonstop",
                        "repeating", "loop", "looping", "loops"})
LOOP_PHRASES = ("over and over", "again and again", "on and on", "back and forth", "to and fro",
                "without stopping", "without end")


def _ends(step: object, last: bool) -> bool:
    """Does the step end? Presets that repeat by default repeat when they come last with no ``times``."""
    times = getattr(step, "times", None)
    if times is not None:
        return bool(times != -1)
    return not (last and verb_of(step) in LOOPING)


def add_loops(scene: V2Scene, prompt: str) -> tuple[V2Scene, list[str]]:
    """``scene`` with a forever loop on each finite multi-step item when the sentence asks for one."""
    text = prompt.lower()
    if not (tokens(text) & LOOP_WORDS or any(p in text for p in LOOP_PHRASES)):
        return scene, []
    items, fixes = list(scene.items), []
    for k, item in enumerate(items):
        steps = [s for s in item.do if verb_of(s) != "wait"]
        if item.loop is not False or len(steps) < 2 or not all(
                _ends(s, j == len(item.do) - 1) for j, s in enumerate(item.do)):
            continue
        items[k] = item.model_copy(update={"loop": True})
        fixes.append(f"item {item.id or item.shape}: loops forever, as the sentence says (the reply played its "
                     f"{len(item.do)} steps once)")
    return (scene.model_copy(update={"items": items}), fixes) if fixes else (scene, [])
