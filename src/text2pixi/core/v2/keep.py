"""What a v2 refinement keeps: the base's value for every key of an edited item the instruction does not touch.

IO-free; the v2 counterpart of :func:`text2pixi.core.preserve.preserve`, applied to the patched *source*, so
the compiled scene and the source still agree. A patch that rewrites an item's steps (``"set":"box","do":[...]``)
to make a spin faster also tends to add ``yoyo``, halve a duration or change an ease nobody asked about
(measured on the default model). Where the patched item's steps are the base's verbs in the base's order,
each step key the instruction gives no reason to change (:func:`text2pixi.core.edit_words.edit_mentioned`) goes
back to its base value; item keys likewise. Steps added, removed or reordered are the patch's to decide, and
so are items the patch adds or removes. It never invents a value: per key, the base's or the model's.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from text2pixi.core.edit_words import edit_mentioned, tokens
from text2pixi.core.v2.language import Item, V2Scene, verb_of
from text2pixi.core.v2.layout import item_names
from text2pixi.core.v2.motion import DUR, EASE, LOOPING

ITEM_KEYS: dict[str, str] = {
    "shape": "type", "text": "text", "color": "color", "colors": "color", "size": "size", "aspect": "size",
    "sides": "size", "points": "size", "inner": "size", "radius": "size", "width": "size", "pts": "size",
    "rot": "tilt", "alpha": "alpha", "n": "structure", "stagger": "delay", "after": "delay", "start": "delay",
    "loop": "repeat",
}
"""The word category (:mod:`text2pixi.core.edit_words`) that gives a reason to change each item key."""
PLACE_KEYS = ("at", "of", "gap", "xy", "xy2", "layout", "in", "cols")
"""An item's placement: changed together, when the instruction speaks of position."""
TIMING_KEYS: dict[str, str] = {"dur": "dur", "ease": "ease", "times": "repeat", "yoyo": "repeat", "delay": "delay",
                               "with": "delay", "wait": "delay"}
TURN_WORDS = frozenset({"clockwise", "anticlockwise", "counterclockwise", "cw", "ccw", "reverse", "reversed",
                        "direction", "backwards", "backward", "opposite", "other"})
"""Words that give a reason to change which way a step turns ("spin" alone is not one)."""
WHERE_WORDS = frozenset({"left", "right", "up", "down", "top", "bottom", "centre", "center", "middle", "corner",
                         "edge", "side", "further", "farther", "far", "distance", "closer", "higher", "lower",
                         "off", "screen", "north", "south", "east", "west", "upward", "upwards", "downward",
                         "downwards", "px", "pixels", "across", "back", "reverse", "opposite", "direction"})
"""Words that give a reason to change where a step goes ("move" alone is not one: "move with an elastic ease")."""
VERB_KEYS: dict[str, str] = {
    "move": "where", "by": "where", "to": "where", "of": "where", "gap": "where", "xy": "where", "slide": "pos",
    "side": "pos", "fall": "pos", "bounce": "pos", "shake": "pos", "float": "pos", "spin": "turn", "turns": "rot",
    "rotate": "rot", "dir": "turn", "scale": "size", "grow": "size", "shrink": "size", "pulse": "size", "axis": "size",
    "fade": "alpha", "blink": "alpha", "color": "color",
}
"""A step's own keys, by category. ``about`` (a pivot) is the category of its verb's value."""


def allowed_categories(instruction: str) -> set[str]:
    """:func:`~text2pixi.core.edit_words.edit_mentioned`, plus ``turn`` and ``where`` (see :data:`TURN_WORDS`,
    :data:`WHERE_WORDS`; a number counts as a distance)."""
    words = tokens(instruction)
    found = edit_mentioned(instruction)
    if words & TURN_WORDS:
        found.add("turn")
    if words & WHERE_WORDS or any(w.isdigit() for w in words):
        found.add("where")
    return found


def _set_back(kept: dict[str, Any], before: dict[str, Any], key: str) -> None:
    """``kept[key]`` back at the base's value (absent where the base leaves it out: its default)."""
    if key in before:
        kept[key] = before[key]
    else:
        kept.pop(key, None)


def _step_category(verb: str, key: str) -> str:
    if key in TIMING_KEYS:
        return TIMING_KEYS[key]
    if key == "about":
        return VERB_KEYS.get(verb, "pos")
    return VERB_KEYS.get(key, "structure")


KINDS = {"move": "place", "to": "place", "xy": "place", "spin": "turn", "rotate": "turn"}
"""Verbs that say the same kind of thing differently: a patch may rewrite ``{"rotate":360,"dur":4,"times":-1}``
as ``{"spin":"ccw"}`` (whose default takes 2 s), or an absolute move as a relative one."""
_TIMING = ("dur", "ease", "times", "yoyo", "delay")
NAMED_VERB = {"spin": frozenset({"spin", "spins", "spinning"}), "rotate": frozenset({"rotate", "rotates", "rotating"})}
"""Words that ask for a turn step's verb itself ("make it spin" on a base that rotates by 90 degrees): the new verb's
own easing and repeats then come with it, and only its duration and delay are kept."""


def _effective(step: Any, key: str, last: bool) -> Any:
    """A timing key's value as the compiler reads it (its verb's default when it is not written)."""
    verb = verb_of(step)
    value = getattr(step, key)
    if value is not None:
        return value
    if key == "dur":
        return 2.0 * step.turns if verb == "spin" else DUR.get(verb, 1.0)
    if key == "ease":
        return EASE.get(verb)
    return -1 if verb in LOOPING and last else 1  # times


def _rotation(step: Any) -> int:
    """Which way a turn step turns: 1 clockwise, -1 anticlockwise."""
    if verb_of(step) == "spin":
        return -1 if step.spin == "ccw" else 1
    return (-1 if step.dir == "ccw" else 1) * (1 if step.rotate >= 0 else -1)


def _keep_swapped(path: str, a: Any, b: Any, last: bool, allowed: set[str], reverted: list[str],
                  words: set[str]) -> dict[str, Any]:
    """A step whose verb a patch swapped for another of the same kind: what it does is the new step's where the
    instruction speaks of it (else the base step's), and each timing key, as the compiler reads it, the base's
    unless the instruction speaks of it."""
    kind = KINDS[verb_of(a)]
    keep_value = "where" not in allowed if kind == "place" else (
        _rotation(a) != _rotation(b) and "turn" not in allowed)
    source = a if keep_value else b
    verb = verb_of(source)
    out = source.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    if keep_value:
        reverted.append(f"{path}.{verb_of(b)}")
    named = bool(words & NAMED_VERB.get(verb_of(b), frozenset()))
    for key in _TIMING:
        old, new = _effective(a, key, last), _effective(b, key, last)
        asked = TIMING_KEYS[key] in allowed or (named and key in ("ease", "times", "yoyo"))
        want = new if old == new or asked else old
        if want != new:
            reverted.append(f"{path}.{key}")
        if want != _effective(source, key, last):
            out[key] = want
    return {verb: out.pop(verb), **out}


def _keep_steps(item_id: str, old: list[Any], new: list[Any], loop: bool, allowed: set[str],
                reverted: list[str], words: set[str]) -> list[dict[str, Any]] | None:
    """The new steps with untouched keys set back, or None when the steps are not the base's in order (each the
    same verb, or one of the same kind, see :data:`KINDS`)."""
    def same(a: Any, b: Any) -> bool:
        va, vb = verb_of(a), verb_of(b)
        return va == vb or (va in KINDS and KINDS[va] == KINDS.get(vb))

    if len(old) != len(new) or not all(same(a, b) for a, b in zip(old, new, strict=True)):
        return None
    out: list[dict[str, Any]] = []
    for i, (a, b) in enumerate(zip(old, new, strict=True)):
        verb = verb_of(a)
        if verb != verb_of(b):
            out.append(_keep_swapped(f"items.{item_id}.do.{i}", a, b, i == len(new) - 1 and not loop, allowed,
                                     reverted, words))
            continue
        before = a.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        after = b.model_dump(mode="json", by_alias=True, exclude_defaults=True)
        kept = dict(after)
        for key in sorted(set(before) | set(after)):
            if before.get(key) != after.get(key) and _step_category(verb, key) not in allowed:
                _set_back(kept, before, key)
                reverted.append(f"items.{item_id}.do.{i}.{key}")
        out.append({verb: kept.pop(verb), **kept})
    return out


def _keep_item(item_id: str, old: Item, new: Item, allowed: set[str], reverted: list[str],
               words: set[str]) -> dict[str, Any]:
    before = old.model_dump(mode="json", by_alias=True, exclude_defaults=True) | {"id": item_id}
    after = new.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    kept = dict(after)
    for key, category in ITEM_KEYS.items():
        if before.get(key) != after.get(key) and category not in allowed:
            _set_back(kept, before, key)
            reverted.append(f"items.{item_id}.{key}")
    if any(before.get(k) != after.get(k) for k in PLACE_KEYS) and "pos" not in allowed:
        for key in PLACE_KEYS:
            _set_back(kept, before, key)
        reverted.append(f"items.{item_id}.at")
    steps = _keep_steps(item_id, old.do, new.do, bool(new.loop), allowed, reverted, words)
    if steps is not None:
        kept["do"] = steps
    return kept


def keep_base(base: V2Scene, patched: V2Scene, instruction: str) -> tuple[V2Scene, list[str]]:
    """``patched`` with each untouched key of an item in both scenes back at ``base``'s value, and the paths
    set back (``items.<id>.do.<i>.<key>``, ``items.<id>.<key>``). ``patched`` is returned as it is when nothing
    was set back, or when the mix does not validate."""
    allowed, words = allowed_categories(instruction), tokens(instruction)
    old_items = dict(zip(item_names(base.items), base.items, strict=True))
    reverted: list[str] = []
    items: list[dict[str, Any]] = []
    for name, item in zip(item_names(patched.items), patched.items, strict=True):
        old = old_items.get(name)
        if old is None or old == item:
            items.append(item.model_dump(mode="json", by_alias=True, exclude_defaults=True))
        else:
            items.append(_keep_item(name, old, item, allowed, reverted, words))
    if not reverted:
        return patched, []
    data = patched.model_dump(mode="json", by_alias=True, exclude_defaults=True) | {"items": items}
    try:
        return V2Scene.model_validate(data), reverted
    except ValidationError:
        return patched, []
