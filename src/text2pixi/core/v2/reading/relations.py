"""An item placed where the sentence puts it relative to another item (pure).

"a red square with a blue circle just to its right" is often written with both items at the stage's right
anchor (``{"shape":"square","at":"right"},{"color":"blue","at":"right","gap":10}``: one on the other), and "the
word GO in white above a green rectangle" with the relation backwards (the rectangle ``"at":"above","of":"go"``).
When one clause says "A <relation> B" ("above", "under", "to the left of", "next to", "on", "on top of",
"sitting on") or "A <relation> it" / "A to its right" (``it`` is the one item the clause before names), A and B
are each named by words only that item has (:func:`~text2pixi.core.v2.reading.mentions.own_words`: colour,
shape nouns, text, id), neither is copies, no verb of going stands in the clause ("jumps over the box" is a
path), and the reply's resting places (:func:`~text2pixi.core.v2.layout.place_items`) do not already stand that
way, A is placed by B: ``"at":rel,"of":B`` (its gap kept). B's place by A goes (two items placed by each other
have no place), and so does a stage anchor of B's the sentence does not name, where A had it too (both at one
anchor) or where A would fall off the stage. "on top of" and "sitting on" rest A on B's top edge (``"above"``,
gap 0: the eval's "on" and "above" both hold); a plain "on" lays A over B ("the word HI on a red button":
``"on"``, drawn after B). The fix is kept only when the scene then places and the relation holds. English only,
fresh scenes only.
"""

from __future__ import annotations

import re
from typing import Any

from text2pixi.core.errors import SceneCompileError
from text2pixi.core.v2.language import V2Scene
from text2pixi.core.v2.layout import Box, item_names, place_items
from text2pixi.core.v2.reading.mentions import WORD, named, own_words
from text2pixi.core.v2.refs import resolve_refs

GOING = frozenset({"move", "moves", "moving", "jump", "jumps", "jumping", "fly", "flies", "flying", "slide",
                   "slides", "sliding", "roll", "rolls", "rolling", "pass", "passes", "passing", "go", "goes",
                   "going", "travel", "travels", "drop", "drops", "fall", "falls", "falling", "rise", "rises",
                   "run", "runs", "glide", "glides", "hop", "hops", "leap", "leaps", "drift", "drifts", "swing",
                   "swings", "from", "towards", "toward", "into", "onto", "across", "through", "lands", "ends"})
"""Words of a path: a relation in a clause with one of them is where something goes, not where it is."""
RELATIONS: dict[str, str] = {
    "sit": r"(?:sitting|sits|sat|resting|rests|standing|stands|lying|lies|perched) (?:on top of|on|upon|atop)",
    "top": r"on top of|atop", "left": r"(?:to|on|at) (?:the left(?: side| hand side)? of|its left(?: side)?)"
    r"|left of", "right": r"(?:to|on|at) (?:the right(?: side| hand side)? of|its right(?: side)?)|right of",
    "above": r"above|over(?= (?:a|an|the|it)\b)", "below": r"below|under|underneath|beneath",
    "next": r"next to|beside|alongside", "on": r"on|upon"}
"""Relation phrases, longest first (each named group is what the phrase means)."""
_PHRASE = re.compile(r"\b(?:" + "|".join(f"(?P<{k}>{v})" for k, v in RELATIONS.items()) + r")\b")
_CLAUSE = re.compile(r"[,;:.!?]|\b(?:with|while|whilst|then|but|where)\b")
_AND = re.compile(r"\band\b")
PLACES = {"sit": ("above", 0), "top": ("above", 0), "next": ("right", None)}
"""What a relation is written as, with the gap it sets (None: the reply's own), where it is not its own name."""
CENTRE = frozenset({"center", "centre", "middle"})
"""Words that name the stage's centre anchor."""
SAID = {"left": "left of", "right": "right of", "sit": "resting on", "top": "on top of", "next": "next to"}
"""How a fix message says a relation."""


def _cuts(pattern: re.Pattern[str], text: str) -> list[int]:
    """Where ``text``'s clauses start and end: its ends and both ends of each match of ``pattern``."""
    return [0, *(c for m in pattern.finditer(text) for c in m.span()), len(text)]


def _one(text: str, whole: str, owns: list[set[str]]) -> set[int]:
    """The item ``text`` names, when its whole clause names no other one."""
    found = named(text, owns)
    return found if len(found) == 1 and named(whole, owns) == found else set()


def stated_pairs(scene: V2Scene, prompt: str) -> list[tuple[int, str, int, str]]:
    """(A, relation, B, the words naming B) for each relation of one item to another the sentence plainly states
    (see the module doc). "a circle above a square and a triangle" names two items after "above", "a star in the
    middle and a circle to its left" one before "it": only that one is read."""
    text, owns = prompt.lower(), [own_words(i) for i in scene.items]
    hard = _cuts(_CLAUSE, text)
    every = sorted(set(hard + _cuts(_AND, text)))
    pairs = []
    for m in _PHRASE.finditer(text):
        h0, h1 = max(c for c in hard if c <= m.start()), min(c for c in hard if c >= m.end())
        e0, e1 = max(c for c in every if c <= m.start()), min(c for c in every if c >= m.end())
        it = "its" in m.group() or re.match(r"\s*it\b", text[m.end():]) is not None
        if (GOING - set().union(*owns)) & set(WORD.findall(text[e0:e1] if it else text[h0:h1])):
            continue
        if it:
            a = named(text[e0:m.start()], owns) or named(re.sub(r"^\s*it\b", "", text[m.end():e1]), owns)
            points = [c for c in hard if c <= e0] + [e0]
            said = next((text[c0:c1] for c0, c1 in reversed(list(zip(points, points[1:], strict=False)))
                         if named(text[c0:c1], owns)), "")
            b = named(said, owns)
        else:
            a = _one(text[e0:m.start()], text[h0:m.start()], owns)
            said = text[m.end():h1]
            b = _one(text[m.end():e1], said, owns)
        if len(a) == 1 and len(b) == 1 and a != b and all(scene.items[k].n == 1 for k in a | b):
            pairs.append((a.pop(), str(m.lastgroup), b.pop(), said))
    return pairs if len({p[0] for p in pairs}) == len(pairs) else []


def holds(relation: str, a: Box, b: Box, drawn_after: bool) -> bool:
    """Does a box ``a`` stand in ``relation`` to a box ``b`` (2 px slack; "on": over it, or resting on it)?"""
    across_x, across_y = a[0] < b[2] and b[0] < a[2], a[1] < b[3] and b[1] < a[3]
    rests = across_x and abs(a[3] - b[1]) <= 2
    over = across_x and across_y and drawn_after and a[1] + a[3] <= b[1] + b[3] + 4
    above, left, right = across_x and a[3] <= b[1] + 2, across_y and a[2] <= b[0] + 2, across_y and a[0] >= b[2] - 2
    return {"above": above, "below": across_x and a[1] >= b[3] - 2, "left": left, "right": right,
            "next": left or right, "on": over or rests or above, "top": over or rests, "sit": rests}[relation]


def _stands(scene: V2Scene, a: int, relation: str, b: int, *, on_stage: bool = False) -> bool:
    """Does item ``a``'s compiled resting place stand in ``relation`` to item ``b``'s (and on the stage)?"""
    try:
        placed = place_items(resolve_refs(scene))
    except SceneCompileError:
        return False
    x0, y0, x1, y1 = box = placed[a].box()
    inside = x0 >= -1 and y0 >= -1 and x1 <= scene.w + 1 and y1 <= scene.h + 1
    return holds(relation, box, placed[b].box(), a > b) and (inside or not on_stage)


def _names_anchor(words: str, anchor: str) -> bool:
    """Do ``words`` name the stage ``anchor`` ("the title at the top of the screen": top)?"""
    said = set(WORD.findall(words))
    return all(said & CENTRE if part == "center" else part in said for part in anchor.split("-"))


def _fix(scene: V2Scene, names: list[str], pair: tuple[int, str, int, str]) -> tuple[V2Scene, list[str]] | None:
    """``scene`` with item A placed in the relation to item B and what was done, or None where that fails: B's
    place by A goes, and so does a stage anchor of B the sentence does not name, where A shared it or where A
    would be off the stage."""
    a, relation, b, said_b = pair
    items, (at, gap) = list(scene.items), PLACES.get(relation, (relation, None))
    old, other = items[a], items[b]
    if old.xy2 is not None:  # a line drawn between two points
        return None
    update: dict[str, Any] = {"at": at, "of": names[b], "xy": None} | ({"gap": gap} if gap is not None else {})
    items[a] = old.model_copy(update=update)
    told = [f"item {names[a]}: {SAID.get(relation, relation)} {names[b]}, as the sentence says (the reply had "
            f"{old.at or 'no place'}{f' of {old.of}' if old.of else ''})"]
    order = list(range(len(items)))
    if relation == "on" and a < b:  # laid over it: drawn after it
        order.insert(b, order.pop(a))
    anchored = other.of is None and isinstance(other.at, str) and not _names_anchor(said_b, other.at)
    by_a = resolve_refs(scene).items[b].of == names[a]
    for loose in (by_a or (anchored and old.of is None and other.at == old.at), by_a or anchored):
        items[b] = other.model_copy(update={"at": None, "of": None}) if loose else other
        fixed = scene.model_copy(update={"items": [items[k] for k in order]})
        if item_names(fixed.items) == [names[k] for k in order] and _stands(
                fixed, order.index(a), relation, order.index(b), on_stage=not loose and anchored):
            where = f"{other.at}{f' of {other.of}' if other.of else ''}"
            return fixed, told + ([f"item {names[b]}: no longer at {where}, as {names[a]} is placed by it now"]
                                  if loose else [])
    return None


def place_as_said(scene: V2Scene, prompt: str) -> tuple[V2Scene, list[str]]:
    """``scene`` with each item the sentence places by another placed so (see the module doc)."""
    names = item_names(scene.items)
    if item_names(resolve_refs(scene).items) != names:  # a shape read from a reference renames an item: wait
        return scene, []
    fixes: list[str] = []
    for pair in stated_pairs(scene, prompt):
        if _stands(scene, *pair[:3]) or (done := _fix(scene, names, pair)) is None:
            continue
        scene, fixes = done[0], fixes + done[1]
        if pair[1] == "on":  # the items may have moved in the list
            break
    return scene, fixes
