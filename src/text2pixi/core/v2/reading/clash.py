"""A v2 scene whose item has the background's own colour, settled the way the sentence allows (pure).

The compiler refuses such an item (it could never be seen) and never changes a stated colour on its own. But a
reply is "stated" by the model, not always by the user: a small model writes ``"bg":"pink"`` for "the words Happy
Birthday in pink" and then has nothing left to fix on a re-ask. Here the sentence decides, as the sanity review
does for compiled scenes (:mod:`text2pixi.core.sanity`): when the sentence names no background colour, the
background becomes black or white (whichever shows every stated colour better); else, when it names no colour for
the items, their colour is dropped (the compiler's default contrasts with the background); else both were asked
for, and the compiler's error goes back to the model.
"""

from __future__ import annotations

from text2pixi.core.colors import color_to_hex
from text2pixi.core.stated import StatedColors, stated_colors
from text2pixi.core.timeline import rgb
from text2pixi.core.v2.language import Item, V2Scene
from text2pixi.core.visibility import contrast


def _clashes(item: Item, bg: str) -> bool:
    colors = item.colors or ([item.color] if item.color is not None else [])
    return any(color_to_hex(c) == bg for c in colors)


def _drop_from_lists(scene: V2Scene, bg: str, stated: StatedColors) -> tuple[V2Scene, list[str]]:
    """Per-copy colours (``colors``) with the background's own among others the sentence does not ask for: that
    one is dropped ("twelve stars in a ring, each a different colour" written with black on black)."""
    items, fixes = list(scene.items), []
    for k, item in enumerate(items):
        if not item.colors or len(item.colors) < 2:
            continue
        keep = [c for c in item.colors if color_to_hex(c) != bg or stated.object_stated(c)]
        if keep and len(keep) < len(item.colors):
            items[k] = item.model_copy(update={"colors": keep})
            gone = sorted({c for c in item.colors if c not in keep})
            fixes.append(f"item {item.id or item.shape}: {', '.join(gone)} dropped from its colours (the "
                         "background's own, and the sentence names no such colour)")
    return (scene.model_copy(update={"items": items}), fixes) if fixes else (scene, [])


def settle_clashes(scene: V2Scene, prompt: str) -> tuple[V2Scene, list[str]]:
    """``scene`` with its background/item colour clashes settled where the sentence allows, and what was done."""
    bg = color_to_hex(scene.bg)
    clashing = [k for k, item in enumerate(scene.items) if _clashes(item, bg)]
    if not clashing:
        return scene, []
    stated = stated_colors(prompt)
    scene, dropped = _drop_from_lists(scene, bg, stated)
    if dropped:
        settled, more = settle_clashes(scene, prompt)
        return settled, dropped + more
    if not stated.bg_stated():
        colors = [c for k in clashing for c in (scene.items[k].colors or [scene.items[k].color or scene.bg])]
        # every stated colour must show on the new background, not only the clashing ones ("the word GO in white
        # above a green rectangle" on a green bg: white would hide the text)
        shown = [c for item in scene.items for c in (item.colors or ([item.color] if item.color else []))]
        new_bg = max(("black", "white"), key=lambda b: min(contrast(rgb(b), rgb(c)) for c in shown))
        return (scene.model_copy(update={"bg": new_bg}),
                [f"background {scene.bg} -> {new_bg}: the sentence names no background colour and "
                 f"{', '.join(sorted(set(colors)))} items would be invisible on it"])
    items, fixes = list(scene.items), []
    for k in clashing:
        item = items[k]
        colors = item.colors or ([item.color] if item.color is not None else [])
        if any(stated.object_stated(c) for c in colors):
            continue  # the user asked for this colour on this background: the compiler's error re-asks
        items[k] = item.model_copy(update={"color": None, "colors": None})
        fixes.append(f"item {item.id or item.shape}: colour {', '.join(colors)} dropped (the background's own, "
                     "and the sentence names no colour for it)")
    return (scene.model_copy(update={"items": items}), fixes) if fixes else (scene, [])
