"""Items written twice over, dropped (pure).

A small model sometimes writes the same item several times ("three blue squares spinning in a row" as three
items of three copies each). Two items that are equal in every key but their id, and that have a place or
copies (so the compiler puts them exactly on top of each other: loose single items are spread in a row
instead), draw nothing the first does not: only the first is kept. Items another item names by id are kept.
"""

from __future__ import annotations

from text2pixi.core.v2.language import V2Scene
from text2pixi.core.v2.refs import references


def drop_repeats(scene: V2Scene) -> tuple[V2Scene, list[str]]:
    """``scene`` without items that would exactly cover an earlier one, and what was dropped."""
    named = {r for item in scene.items for r in references(item) if r}
    seen: list[dict[str, object]] = []
    kept, fixes = [], []
    for item in scene.items:
        body = item.model_dump(exclude={"id"})
        stacked = item.n > 1 or item.at is not None or item.xy is not None
        if stacked and body in seen and item.id not in named:
            fixes.append(f"item {item.id or item.shape} dropped: the same as an earlier item, in the same place")
            continue
        seen.append(body)
        kept.append(item)
    return (scene.model_copy(update={"items": kept}), fixes) if fixes else (scene, [])
