"""References to other items (``of``, ``after``, a step's ``of``) written by what the item is, not its id (pure).

A small model often names the item it means by its shape or its colour (``"of":"square"`` for the item with
``"id":"box","shape":"square"``; ``"of":"green"``), as the sentence does. Where such a word is not an id but
picks out exactly one item (by its shape, its colour or its text), it means that item; anything else is left
as written, for the compiler's "is not an item id" error. Two items placed relative to each other ("a yellow
star directly above a green triangle" written with the triangle above the star as well) have no place at all,
so the later one's relation goes (the first item written is the sentence's subject), and an item placed by
itself loses that place when another is placed by it. Deterministic, so a source always compiles the same.
"""

from __future__ import annotations

from collections.abc import Mapping
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


STAGE_WORDS = frozenset({"stage", "screen", "canvas", "scene", "background", "bg", "window", "page", "frame"})
"""References that mean the stage itself: ``"at":"left","of":"stage"`` is the stage's left, ``"at":"left"``."""
STAGE_PLACE = {"above": "top", "below": "bottom", "on": "center"}
"""A relation to the stage written as one to an item: the stage anchor it means."""
ITEM_PLACE = {"top": "above", "bottom": "below", "center": "on", "top-left": "above", "top-right": "above",
              "bottom-left": "below", "bottom-right": "below"}
"""A stage anchor written with ``of`` ("at the top of the box"): the place relative to that item it means."""


SHAPE_WORDS = {"circle": "circle", "ball": "circle", "square": "square", "rect": "rect", "rectangle": "rect",
               "roundrect": "roundrect", "ellipse": "ellipse", "oval": "ellipse", "triangle": "triangle",
               "star": "star", "polygon": "polygon", "hexagon": "polygon", "line": "line"}
"""Words a reference may name a shape by."""


def references(item: Item) -> list[str | None]:
    """The item names ``item`` refers to: its ``of``, its ``after`` and each step's ``of`` (None where unset)."""
    return [item.of, item.after, *(getattr(step, "of", None) for step in item.do)]


def repoint(item: Item, moved: Mapping[str, str]) -> Item:
    """``item`` with each reference to a key of ``moved`` naming its value instead (an item renamed, or added
    under another name than the reference wrote)."""
    update: dict[str, Any] = {key: moved[ref] for key in ("of", "after") if (ref := getattr(item, key)) in moved}
    if any(getattr(step, "of", None) in moved for step in item.do):
        update["do"] = [step.model_copy(update={"of": moved[str(ref)]})
                        if (ref := getattr(step, "of", None)) in moved else step for step in item.do]
    return item.model_copy(update=update) if update else item


def _shapes_from_refs(scene: V2Scene) -> V2Scene:
    """An item that wrote no shape becomes the shape another item's reference names, when no item has that
    shape and it is the only item without one ("a star above a green triangle" written
    ``{"shape":"star","at":"above","of":"triangle"},{"color":"green"}``: the reference says what the other is)."""
    items = list(scene.items)
    for k, item in enumerate(scene.items):
        for ref in references(item):
            shape = SHAPE_WORDS.get(ref.lower()) if isinstance(ref, str) else None
            if shape is None or any(i.shape == shape or i.id == ref for i in items):
                continue
            bare = [j for j, i in enumerate(items) if j != k and "shape" not in i.model_fields_set and i.id is None]
            if len(bare) == 1:
                items[bare[0]] = items[bare[0]].model_copy(update={"shape": shape})
    return scene.model_copy(update={"items": items}) if items != list(scene.items) else scene


def resolve_refs(scene: V2Scene) -> V2Scene:
    """``scene`` with each reference that is not an id resolved where it can mean one thing only.

    A word that names exactly one other item (its shape, colour or text) means that item; the stage's own name
    means the stage (the reference is dropped, ``above``/``below``/``on`` become ``top``/``bottom``/``center``);
    and a reference that names nothing, or the item itself, or a relative place with no ``of`` at all, means the
    one other item there is when there is exactly one that does not itself refer to this item (a two-item scene
    has no other reading: "a circle below the word Welcome" written ``"of":"title"`` for an unnamed text item).
    A stage anchor written with an item (``"at":"top","of":"box"``) means the place relative to it (above).
    An item without a shape takes the one a reference names when nothing else has it (:func:`_shapes_from_refs`).
    Two items placed by each other lose one of those places (:func:`_break_cycles`). Anything else is left as
    written, for the compiler's error.
    """
    scene = _shapes_from_refs(scene)
    names = item_names(scene.items)
    aliases = [_aliases(i) for i in scene.items]

    def only_other(own: int, key: str) -> str | None:
        others = [j for j, item in enumerate(scene.items)
                  if j != own and getattr(item, key) not in (names[own], *aliases[own])]
        return names[others[0]] if len(others) == 1 else None

    def resolve(ref: str | None, own: int, key: str) -> str | None:
        if ref is None or (ref in names and ref != names[own]):
            return ref
        hits = [k for k, words in enumerate(aliases) if k != own and ref.lower() in words]
        if len(hits) == 1:
            return names[hits[0]]
        return only_other(own, key) or ref

    items: list[Item] = []
    for k, item in enumerate(scene.items):
        update: dict[str, Any] = {}
        if item.of is not None and item.of.lower() in STAGE_WORDS and item.of not in names:
            update |= {"of": None, "at": STAGE_PLACE.get(str(item.at), item.at)}
        elif item.of is None and isinstance(item.at, str) and item.at in STAGE_PLACE:
            other = only_other(k, "of")
            if other is not None:
                update["of"] = other
        elif (of := resolve(item.of, k, "of")) != item.of:
            update["of"] = of
        if update.get("of", item.of) is not None and isinstance(item.at, str) and item.at in ITEM_PLACE:
            update["at"] = ITEM_PLACE[item.at]
        if (after := resolve(item.after, k, "after")) != item.after:
            update["after"] = after
        steps = list(item.do)
        for j, step in enumerate(steps):
            ref = getattr(step, "of", None)
            if not isinstance(ref, str):
                continue
            if ref.lower() in STAGE_WORDS and ref not in names:
                to = getattr(step, "to", None)
                steps[j] = step.model_copy(update={"of": None, "to": STAGE_PLACE.get(str(to), to)})
            else:
                to = getattr(step, "to", None)
                place = ITEM_PLACE.get(to) if isinstance(to, str) else None
                resolved = resolve(ref, k, "of")
                if resolved == ref and place is None:
                    continue
                steps[j] = step.model_copy(update={"of": resolved} | ({"to": place} if place else {}))
            update["do"] = steps
        if update:
            item = item.model_copy(update=update)
        items.append(item)
    items = _break_cycles(items, names, aliases)
    return scene.model_copy(update={"items": items}) if items != list(scene.items) else scene


def _loose(item: Item) -> Item:
    return item.model_copy(update={"at": None, "of": None})


def _break_cycles(items: list[Item], names: list[str], aliases: list[set[str]]) -> list[Item]:
    """``items`` without the relations that leave two items placed by each other (:func:`resolve_refs`).

    An item placed by itself ("the red square right of red") while another is placed by it has stated nothing:
    it loses its place. Of two items each placed by the other ("a star directly above a triangle" written star
    above triangle and triangle above star), the first written is the sentence's subject: the later one's place
    goes. Either way the item that lost its place goes where an unplaced item goes.
    """
    out = list(items)
    for k, item in enumerate(items):
        own = item.of == names[k] or (item.of is not None and item.of not in names and item.of.lower() in aliases[k])
        if own and any(other.of == names[k] for j, other in enumerate(items) if j != k):
            out[k] = _loose(item)
    for k, item in enumerate(out):
        j = names.index(item.of) if item.of in names else k
        if j < k and out[j].of == names[k]:
            out[k] = _loose(item)
    return out


def dangling(scene: V2Scene) -> list[str]:
    """The references that name no item of ``scene`` by id, shape, colour or text (a scene still being written
    may name an item that comes later: a preview waits for it rather than guess)."""
    names = set(item_names(scene.items))
    words = set().union(*(_aliases(i) for i in scene.items))
    refs = [r for item in scene.items for r in references(item)]
    return [r for r in refs if isinstance(r, str) and r not in names and r.lower() not in words
            and r.lower() not in STAGE_WORDS]
