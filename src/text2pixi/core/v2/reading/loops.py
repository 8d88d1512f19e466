"""A loop the sentence asks for and the reply forgot (pure).

"goes left and then right, over and over" is often written as the two moves (or four) without ``"loop":true``:
the sequence plays once. When the sentence says "forever" (or "over and over", "keeps", ...: :data:`LOOP_WORDS`)
and an item has a sequence of two or more steps that all end (none forever) and no loop, the item loops
forever. A single step is left alone: "spins forever" is the step's own ``times``, which the model writes.

"grows and then shrinks back, three times in a row" is often unrolled the wrong number of times (the pair
written twice). When the sentence states one count N >= 2 of repetitions ("three times", "3 times", "twice",
"thrice": :data:`COUNT`; not "three times bigger", nor a count followed by more steps, "blinks 3 times then moves
right"), exactly one item has steps, and its ``do`` is a pattern of p >= 2 steps written r >= 2 times with
r != N (no step with ``times``, no loop), the item is the pattern once with ``"loop":N``: N plays in all (the
compiled ``cycle`` has ``times`` N, and the runtime plays cycles 0..N-1: ``Scene.duration`` is
start + N x one pass) (:func:`count_loops`). Unrolled the right number of times, it is left as written.
English only, fresh scenes only, like :mod:`text2pixi.core.v2.reading.fill`.
"""

from __future__ import annotations

import re
from typing import Any

from text2pixi.core.edit_words import NUMBER_WORDS, tokens
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


NUMBERS = {word: n for word, n in NUMBER_WORDS.items() if n <= 10}
"""Counts of plays spelled out, up to ten."""
COUNT = re.compile(r"\b(?:(twice|thrice)|(\d+|" + "|".join(NUMBERS) + r") times)\b(?!\s+(?:as|its|the|their|"
                   r"bigger|larger|smaller|faster|slower|longer|wider|taller|more|less|over)\b)")
"""A count of repetitions; not a factor ("twice as big", "three times its size", "twice the size")."""
LATER = re.compile(r"\b(?:then|after|afterwards|afterward|next|followed|before|finally)\b")
"""An order word after the count: the count belongs to one step of a longer sequence."""


def stated_count(prompt: str) -> int | None:
    """The one number of repetitions the sentence states (2..100), or None."""
    text = prompt.lower()
    counts: set[int] = set()
    for found in COUNT.finditer(text):
        if LATER.search(text, found.end()):
            return None
        word, number = found.groups()
        counts.add({"twice": 2, "thrice": 3}[word] if word else NUMBERS.get(number) or int(number))
    n = counts.pop() if len(counts) == 1 else None
    return n if n is not None and 2 <= n <= 100 else None


def _period(steps: list[Any]) -> int | None:
    """The length of the shortest pattern ``steps`` repeat (2 or more steps, 2 or more times), or None."""
    for p in range(1, len(steps) // 2 + 1):
        if len(steps) % p == 0 and steps == steps[:p] * (len(steps) // p):
            return p if p >= 2 else None
    return None


def count_loops(scene: V2Scene, prompt: str) -> tuple[V2Scene, list[str]]:
    """``scene`` with an item unrolled the wrong number of times looped the number of times the sentence says.

    ``"loop":N`` means N plays of the whole ``do`` in all, not N repeats after the first: the compiler's cycle
    has ``times`` N (:func:`~text2pixi.core.v2.order.cycle_of`), the runtime stops after cycle N-1, and the
    compiled scene lasts start + N x one pass (``Scene.duration``).
    """
    n = stated_count(prompt)
    moving = [k for k, item in enumerate(scene.items) if item.do]
    if n is None or len(moving) != 1:
        return scene, []
    item = scene.items[moving[0]]
    steps = list(item.do)
    p = _period(steps)
    if p is None or item.loop is not False or any(getattr(s, "times", None) is not None for s in steps):
        return scene, []
    r = len(steps) // p
    if r == n:
        return scene, []
    items = list(scene.items)
    items[moving[0]] = item.model_copy(update={"do": steps[:p], "loop": n})
    fix = (f"item {item.id or item.shape}: plays its {p} steps {n} times (\"loop\":{n}), as the sentence counts "
           f"them (the reply wrote them {r} times)")
    return scene.model_copy(update={"items": items}), [fix]
