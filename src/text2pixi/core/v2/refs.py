"""References to other items (``of``, ``after``, a step's ``of``) written by what the item is, not its id (pure).

A small model often names the item it means by its shape or its colour (``"of":"square"`` for the item with
``"id":"box","shape":"square"``; ``"of":"green"``), as the sentence does. Where such a word is not an id but
picks out exactly one item (by its shape, its colour or its text), it means that item; anything else is left
as written, for the compiler's "is not an item id" error. Deterministic, so a source always compiles the same.
"""

from __future__ import annotations

from typing import Any

from text2pixi.core.v2.language import Item, V2Scene
from text2pixi.core.v2.layout import item_names


def _aliases(item: Item) -> set[str]:
    words = {str(item.shape), *(c.lower() for c in (item.colors or []))}
    if item.color is not None:
        words.add(item.color.lower())
    if item.text is not None:
        words.add(item.text.lower())
    if item.shape in ("rect", "roundrect"):
        words |= {"rectangle", "box"}
    if item.shape == "square":
        words.add("box")
    if item.shape == "circle":
        words.add("ball")
    return words


def resolve_refs(scene: V2Scene) -> V2Scene:
    """``scene`` with each reference that is not an id, but names exactly one item, replaced by that item's id."""
    names = item_names(scene.items)
    aliases = [_aliases(i) for i in scene.items]

    def resolve(ref: str | None, own: int) -> str | None:
        if ref is None or ref in names:
            return ref
        hits = [k for k, words in enumerate(aliases) if k != own and ref.lower() in words]
        return names[hits[0]] if len(hits) == 1 else ref

    items: list[Item] = []
    changed = False
    for k, item in enumerate(scene.items):
        update: dict[str, Any] = {}
        for key in ("of", "after"):
            ref = getattr(item, key)
            if resolve(ref, k) != ref:
                update[key] = resolve(ref, k)
        steps = list(item.do)
        for j, step in enumerate(steps):
            ref = getattr(step, "of", None)
            if isinstance(ref, str) and resolve(ref, k) != ref:
                steps[j] = step.model_copy(update={"of": resolve(ref, k)})
                update["do"] = steps
        if update:
            changed = True
            item = item.model_copy(update=update)
        items.append(item)
    return scene.model_copy(update={"items": items}) if changed else scene
