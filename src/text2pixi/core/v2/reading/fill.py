"""Colours the sentence states but the reply left out, filled in (pure).

A small model often drops a colour it was told ("a yellow square shrinks" written without ``color``, "in a blue
sky" without ``bg``), and the compiler's defaults then pick one that contrasts with the background: a scene that
shows, in the wrong colour. Where the sentence names the colour for exactly that (:mod:`text2pixi.core.stated`:
the background's, or the one colour named for the item's kind of object, or the only colour named at all when
the scene has one item), the left-out key gets it. A colour the reply wrote is never changed here: that is the
sanity review's to re-ask about. Fresh scenes only: a refinement's sentence speaks of changes, not of the scene.

Per-copy colours with no count (:func:`copies_for_colors`) are one copy per colour.
"""

from __future__ import annotations

from text2pixi.core.colors import color_to_hex
from text2pixi.core.stated import ColorWord, stated_colors
from text2pixi.core.v2.language import Item, V2Scene

KIND = {"square": "rect"}
"""The compiled object type of a shape, where the two differ (what :mod:`text2pixi.core.stated` names kinds by)."""


def _css(word: ColorWord) -> str | None:
    """The colour a phrase names, as the language writes it: "dark blue" is darkblue, "pale pink" is pink."""
    for name in (word.text.replace(" ", ""), word.family):
        if name is None:
            continue
        try:
            color_to_hex(name)
        except ValueError:
            continue
        return name
    return None


def _one(words: list[ColorWord]) -> str | None:
    """The colour when the phrases name exactly one (repeats allowed), else None."""
    names = {_css(w) for w in words}
    return names.pop() if len(names) == 1 else None


def fill_stated(scene: V2Scene, prompt: str) -> tuple[V2Scene, list[str]]:
    """``scene`` with the background and item colours it left out and the sentence states, and what was filled."""
    stated = stated_colors(prompt)
    update: dict[str, object] = {}
    fixes: list[str] = []
    if "bg" not in scene.model_fields_set and (bg := _one(stated.background)) is not None:
        update["bg"] = bg
        fixes.append(f"background {bg}: the sentence names it and the reply left it out")
    written = {color_to_hex(c) for item in scene.items
               for c in (item.colors or ([item.color] if item.color is not None else []))}
    items: list[Item] = list(scene.items)
    for k, item in enumerate(items):
        if item.color is not None or item.colors is not None:
            continue
        named = stated.kinds.get(KIND.get(str(item.shape), str(item.shape)), [])
        if not named and len(items) == 1:
            named = stated.objects
        color = _one(named)
        if color is None or color_to_hex(color) in written:
            continue
        items[k] = item.model_copy(update={"color": color})
        written.add(color_to_hex(color))
        fixes.append(f"item {item.id or item.shape}: colour {color}, as the sentence names it (the reply left it "
                     "out)")
    if len(fixes) > ("bg" in update):
        update["items"] = items
    return (scene.model_copy(update=update), fixes) if update else (scene, [])


def copies_for_colors(scene: V2Scene) -> tuple[V2Scene, list[str]]:
    """Items with per-copy ``colors`` (two or more) and no ``n`` and no single place get one copy per colour
    ("five stars coloured red, orange, yellow, green and blue" written without ``n`` would show one red star)."""
    items, fixes = list(scene.items), []
    for k, item in enumerate(items):
        if ("n" not in item.model_fields_set and item.colors is not None and len(item.colors) >= 2
                and item.at is None and item.xy is None):
            items[k] = item.model_copy(update={"n": len(item.colors)})
            fixes.append(f"item {item.id or item.shape}: {len(item.colors)} copies, one per colour of its colors")
    return (scene.model_copy(update={"items": items}), fixes) if fixes else (scene, [])
