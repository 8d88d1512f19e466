"""Copies arranged, placed and counted as the sentence says (pure).

- a layout: "twelve stars in a ring" written ``{"shape":"star","n":12,...}`` is a row, the default. When the
  sentence names exactly one arrangement (:data:`LAYOUTS`: "in a ring", "in a circle", "arranged around"; "in a
  column", "stacked", "one above the other"; "in a grid") and no row ("in a row", "side by side"), and the scene
  has exactly one item with copies, laid in a row, they take that layout;
- a stray place: "four blue triangles stacked in a column on the left side of the screen" written
  ``{"shape":"triangle","n":4,...},{"at":"left"}`` draws a circle (the default) at the left. An item with nothing
  but a place (``at``, maybe ``of`` and ``gap``) right after an item with no place is that item's place (``in``
  for copies, ``at`` for one), and is dropped, when nothing refers to it and the sentence names no object for it:
  no ball or circle, no more objects than the other items ("a ball at the right" is a ball);
- a count written twice: "two squares side by side with a 40 pixel gap between them, one orange and one purple"
  written as two items of two squares each. When the sentence names N objects of a kind ("two squares") and the
  reply wrote N items of that kind with N copies each, each is one; where the sentence puts them side by side a
  number of pixels apart, each goes that far to the right of the one before.

English only, fresh scenes only (:mod:`text2pixi.core.v2.reading`).
"""

from __future__ import annotations

import re
from typing import Any, get_args

from text2pixi.core.colors import CSS_COLOR_NAMES
from text2pixi.core.edit_words import NUMBER_WORDS, kinds_named
from text2pixi.core.v2.language import Anchor, Item, V2Scene
from text2pixi.core.v2.layout import item_names
from text2pixi.core.v2.reading.nouns import is_named, kind_of, objects_named
from text2pixi.core.v2.refs import references

LAYOUTS = {
    "ring": re.compile(r"\bin an? (?:circle|ring|circular)\b|\ban? ring of\b|\b(?:arranged|placed|spaced|positioned|"
                       r"spread|dotted|evenly)(?: \w+){0,2} around\b|\b(?:form|forms|forming) an? (?:circle|ring)\b"),
    "column": re.compile(r"\bin an? (?:column|vertical (?:line|row|stack))\b|\bstacked\b|\ban? (?:stack|column) of\b"
                         r"|\bone (?:above|below|under|on top of) (?:the other|another)\b|\bon top of each other\b"),
    "grid": re.compile(r"\bin an? (?:[\w ]{1,12} )?grid\b|\ban? (?:[\w ]{1,12} )?grid of\b|\bin rows and columns\b"),
    "row": re.compile(r"\bin an? (?:(?:straight|single|horizontal) )?(?:row|line)\b|\ban? (?:row|line) of\b"
                      r"|\bside by side\b|\bnext to (?:each other|one another)\b|\bhorizontally\b"),
}
"""What the sentence says copies are arranged in (a row is the default)."""
ADJECTIVES = frozenset(CSS_COLOR_NAMES) | {"dark", "light", "bright", "pale", "big", "small", "large", "tiny",
                                           "huge", "little", "medium", "identical", "equal", "matching"}
"""Words allowed between a number and its noun ("two big orange squares")."""
UNITS = frozenset({"px", "pixel", "pixels", "s", "sec", "secs", "second", "seconds", "degrees", "times", "percent",
                   "x", "by"})
"""Words after a number that make it a measure, not a count of objects ("40 pixels", "3 by 3")."""
PLACE_ONLY = frozenset({"at", "of", "gap"})
_SIDE = re.compile(r"\bside by side\b|\b(?:next to|beside) (?:each other|one another)\b|\bin a row\b")
_GAP = re.compile(r"(\d+)[ -]?(?:px|pixels?) (?:gap|apart|space|spacing|between)\b"
                  r"|\b(?:gap|space|spacing|distance) of (\d+)[ -]?(?:px|pixels?)\b")


def layout_said(prompt: str) -> str | None:
    """The one arrangement other than a row the sentence names for copies, or None."""
    found = {name for name, pattern in LAYOUTS.items() if pattern.search(prompt.lower())}
    return found.pop() if len(found) == 1 and "row" not in found else None


def _layouts(scene: V2Scene, prompt: str) -> tuple[V2Scene, list[str]]:
    copies = [k for k, item in enumerate(scene.items) if item.n > 1]
    layout = layout_said(prompt)
    if layout is None or len(copies) != 1 or scene.items[copies[0]].layout != "row":
        return scene, []
    items, item = list(scene.items), scene.items[copies[0]]
    items[copies[0]] = item.model_copy(update={"layout": layout})
    return scene.model_copy(update={"items": items}), [
        f"item {item.id or item.shape}: its {item.n} copies in a {layout}, as the sentence says (the reply laid them "
        "in a row)"]


def _place(before: Item, name: str, stray: Item) -> dict[str, Any] | None:
    """The place a stray item gives the item before it, or None when it cannot be that item's."""
    if before.at is not None or before.xy is not None or before.in_ is not None:
        return None
    if before.n > 1:
        return {"in_": stray.at} if stray.of is None and stray.at in get_args(Anchor) else None
    if stray.of == name or (stray.of is None and stray.at in ("above", "below", "on")):
        return None
    return {"at": stray.at, "of": stray.of} | ({"gap": stray.gap} if "gap" in stray.model_fields_set else {})


def _strays(scene: V2Scene, prompt: str) -> tuple[V2Scene, list[str]]:
    items, names, fixes = list(scene.items), item_names(scene.items), []
    kept: list[int] = []
    for k, item in enumerate(scene.items):
        place = None
        if kept and kept[-1] == k - 1 and item.at is not None and item.model_fields_set <= PLACE_ONLY:
            place = _place(items[k - 1], names[k - 1], item)
        if place is None:
            kept.append(k)
            continue
        items[k - 1] = items[k - 1].model_copy(update=place)
        where = f"in {place['in_']}" if "in_" in place else f"at {item.at}" + (f" of {item.of}" if item.of else "")
        fixes.append(f"item {items[k - 1].id or items[k - 1].shape}: {where}, the place the sentence gives it (the "
                     "reply wrote the place as an item of its own, dropped)")
    if not fixes or is_named("circle", prompt) or objects_named(prompt) > len(kept):
        return scene, []
    fixed = [items[k] for k in kept]
    moved = {names[k] for k in range(len(items)) if k not in kept}
    moved |= {names[k] for k, new in zip(kept, item_names(fixed), strict=True) if names[k] != new}
    refs = {r for i in scene.items for r in references(i) if r}
    return (scene, []) if refs & moved else (scene.model_copy(update={"items": fixed}), fixes)


def numbered(prompt: str) -> list[tuple[int, set[str]]]:
    """Each "N <noun>" of the sentence (N of 2 or more): N and the kinds of object the noun may name; nothing
    when the sentence counts more than once ("three rows of three circles" are nine)."""
    words, found, counts = re.findall(r"[a-z0-9]+", prompt.lower()), [], 0
    for k, word in enumerate(words):
        n = NUMBER_WORDS.get(word) or (int(word) if word.isdigit() else 0)
        if n >= 2 and words[k + 1:k + 2] and words[k + 1] not in UNITS:
            counts += 1
        for noun in words[k + 1:k + 4] if n >= 2 else []:
            if kinds := kinds_named(noun):
                found.append((n, kinds))
            if kinds or noun not in ADJECTIVES:
                break
    return found if counts == 1 else []


def _counts(scene: V2Scene, prompt: str) -> tuple[V2Scene, list[str]]:
    items, fixes = list(scene.items), []
    gaps = {int(a or b) for a, b in _GAP.findall(prompt.lower())}
    for n, kinds in numbered(prompt):
        group = [k for k, item in enumerate(items) if item.shape != "text" and kind_of(item.shape) in kinds]
        if len(group) != n or any(items[k].n != n or items[k].in_ is not None for k in group):
            continue
        for k in group:
            items[k] = items[k].model_copy(update={"n": 1})
        fixes.append(f"items {', '.join(item_names(items)[k] for k in group)}: one each, the sentence's {n} (the reply "
                     f"wrote {n} items of {n} copies)")
        if _SIDE.search(prompt.lower()) and len(gaps) == 1:
            names = item_names(items)
            for before, k in zip(group, group[1:], strict=False):
                items[k] = items[k].model_copy(update={"at": "right", "of": names[before], "gap": min(gaps)})
            fixes.append(f"items {', '.join(names[k] for k in group)}: side by side, {min(gaps)} px apart, as the "
                         "sentence says")
    return (scene.model_copy(update={"items": items}), fixes) if fixes else (scene, [])


def arrange_as_said(scene: V2Scene, prompt: str) -> tuple[V2Scene, list[str]]:
    """``scene`` with stray places given to their items, counts written twice undone, and copies laid out as the
    sentence says (see the module doc)."""
    fixes: list[str] = []
    for fix in (_strays, _counts, _layouts):
        scene, done = fix(scene, prompt)
        fixes += done
    return scene, fixes
