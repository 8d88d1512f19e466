"""Where every item goes: stage anchors with a margin, fractions, relative places, copies in a region.

Pure geometry over :class:`~text2pixi.core.v2.shapes.Body` boxes. An item's resting place is resolved once,
before any motion; relative places (``"at":"left","of":"box"``) follow their reference's resting place,
in dependency order. Items without any placement are spread in a row across the stage, and copies are
spread over their region's cells, shrunk to fit them (never enlarged).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from text2pixi.core.errors import SceneCompileError
from text2pixi.core.v2.language import Anchor, Item, V2Scene
from text2pixi.core.v2.shapes import Body, anchor_offset, body, extent

MARGIN = 20
"""Pixels between a stage edge and an object placed at an anchor on that edge."""
FILL = 0.8
"""Largest share of a cell's width and height that a fitted object takes."""
RING_RADIUS = 0.35
"""A ring's radius over the shorter side of its region."""
RELATIONS = ("left", "right", "above", "below", "on")

Box = tuple[float, float, float, float]
"""x0, y0, x1, y1."""


@dataclass(frozen=True)
class Placed:
    """An item resolved to compiled ids, resting centres and one shared body."""

    item: Item
    name: str
    ids: list[str]
    centres: list[tuple[float, float]]
    body: Body

    def box(self) -> Box:
        """The box around every copy at rest."""
        hw, hh = self.body.half(self.body.rot)
        return (min(x for x, _ in self.centres) - hw, min(y for _, y in self.centres) - hh,
                max(x for x, _ in self.centres) + hw, max(y for _, y in self.centres) + hh)


def stage_anchor(name: Anchor, stage_w: int, stage_h: int, half_w: float, half_h: float,
                 margin: float = MARGIN) -> tuple[float, float]:
    """The centre that puts a box at an anchor of the stage, inset by ``margin`` (an item's ``gap``, by default
    :data:`MARGIN`; centred if it cannot fit)."""
    ox, oy = anchor_offset(name, stage_w / 2 - margin - half_w, stage_h / 2 - margin - half_h)
    x = stage_w / 2 + (ox if stage_w / 2 - margin - half_w > 0 else 0)
    y = stage_h / 2 + (oy if stage_h / 2 - margin - half_h > 0 else 0)
    return x, y


def region(name: Anchor | None, stage_w: int, stage_h: int) -> Box:
    """A band or quadrant of the stage: top/bottom/left/right thirds, a corner's quadrant, the middle band."""
    w, h = float(stage_w), float(stage_h)
    if name is None:
        return 0.0, 0.0, w, h
    if name == "center":
        return 0.0, h / 3, w, 2 * h / 3
    x0, x1 = (0.0, w / 3) if name == "left" else (2 * w / 3, w) if name == "right" else (0.0, w)
    y0, y1 = (0.0, h / 3) if name == "top" else (2 * h / 3, h) if name == "bottom" else (0.0, h)
    if "-" in name:
        x0, x1 = (0.0, w / 2) if name.endswith("left") else (w / 2, w)
        y0, y1 = (0.0, h / 2) if name.startswith("top") else (h / 2, h)
    return x0, y0, x1, y1


def cells(n: int, layout: str, box: Box, cols: int | None = None) -> tuple[list[tuple[float, float]], float, float]:
    """Centres of ``n`` copies laid out over ``box``, and the cell each may fill (width, height)."""
    x0, y0, x1, y1 = box
    bw, bh = x1 - x0, y1 - y0
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if layout == "row":
        return [(x0 + (k + 0.5) * bw / n, cy) for k in range(n)], bw / n, bh
    if layout == "column":
        return [(cx, y0 + (k + 0.5) * bh / n) for k in range(n)], bw, bh / n
    if layout == "grid":
        c = min(n, cols or math.ceil(math.sqrt(n)))
        rows = math.ceil(n / c)
        return ([(x0 + (k % c + 0.5) * bw / c, y0 + (k // c + 0.5) * bh / rows) for k in range(n)],
                bw / c, bh / rows)
    radius = RING_RADIUS * min(bw, bh)
    chord = 2 * radius * math.sin(math.pi / n)
    centres = [(cx + radius * math.sin(2 * math.pi * k / n), cy - radius * math.cos(2 * math.pi * k / n))
               for k in range(n)]
    side = min(chord, 0.3 * min(bw, bh) / FILL)
    return centres, side, side


def fitted(item: Item, size: float, cell_w: float, cell_h: float) -> Body:
    """The item's body shrunk (never enlarged) so that it fills at most :data:`FILL` of the cell."""
    b = body(item, size)
    hw, hh = b.half(b.rot)
    k = min(1.0, FILL * cell_w / max(2 * hw, 1e-9), FILL * cell_h / max(2 * hh, 1e-9))
    return b if k >= 1.0 else body(item, max(2.0, size * k))


def relative(relation: str, ref: Box, half_w: float, half_h: float, gap: float) -> tuple[float, float]:
    """The centre of a box of half sides (half_w, half_h) placed ``relation`` of the box ``ref``, ``gap`` apart."""
    x0, y0, x1, y1 = ref
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    if relation == "left":
        return x0 - gap - half_w, cy
    if relation == "right":
        return x1 + gap + half_w, cy
    if relation == "above":
        return cx, y0 - gap - half_h
    if relation == "below":
        return cx, y1 + gap + half_h
    return cx, cy


def item_names(items: Sequence[Item]) -> list[str]:
    """Each item's id, or a unique one made from its shape (``circle``, ``circle2``, ...)."""
    taken = {i.id for i in items if i.id is not None}
    names: list[str] = []
    for item in items:
        if item.id is not None:
            names.append(item.id)
            continue
        k, name = 1, str(item.shape)
        while name in taken:
            k += 1
            name = f"{item.shape}{k}"
        taken.add(name)
        names.append(name)
    return names


def copy_ids(items: Sequence[Item], names: Sequence[str]) -> list[list[str]]:
    """Each item's compiled object ids: its name, or ``<name>1..<name>n`` for copies.

    Where those would repeat another id (item ``i1``'s copy 11 and item ``i11``'s copy 1 are both ``i111``;
    an unnamed circle after sixteen copies of ``circle``), that item's copies are ``<name>_1..<name>_n``.
    """
    ids = [[f"{name}{j + 1}" for j in range(item.n)] if item.n > 1 else [name]
           for item, name in zip(items, names, strict=True)]
    flat = [x for group in ids for x in group]
    clash = {x for x in flat if flat.count(x) > 1}
    for k, (item, name) in enumerate(zip(items, names, strict=True)):
        if item.n > 1 and clash.intersection(ids[k]):
            ids[k] = [f"{name}_{j + 1}" for j in range(item.n)]
    flat = [x for group in ids for x in group]
    dupes = sorted({x for x in flat if flat.count(x) > 1})
    if dupes:
        raise SceneCompileError(f"the compiled object ids repeat ({', '.join(dupes)}): rename an item")
    return ids


def _check_refs(scene: V2Scene, names: list[str]) -> None:
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise SceneCompileError(f"item ids must be unique; repeated: {', '.join(dupes)}")
    for name, item in zip(names, scene.items, strict=True):
        if item.at in ("above", "below", "on") and item.of is None:
            raise SceneCompileError(f"\"at\":{item.at!r} is a place relative to another item; add \"of\" with "
                                    "its id", item=name)
        if item.of is not None:
            if item.of not in names:
                raise SceneCompileError(f"\"of\":{item.of!r} is not an item id (ids: {', '.join(names)}); for a place "
                                        "on the stage itself leave out \"of\" (e.g. \"at\":\"left\")", item=name)
            if item.of == name:
                raise SceneCompileError("\"of\" names the item itself; name another item", item=name)
            if item.at not in RELATIONS:
                raise SceneCompileError(
                    f"\"at\":{item.at!r} cannot be relative to another item; with \"of\" use one of "
                    f"{', '.join(RELATIONS)}", item=name)


def place_items(scene: V2Scene) -> list[Placed]:
    """Every item's compiled ids, resting centres and body, in scene order."""
    names = item_names(scene.items)
    _check_refs(scene, names)
    ids = copy_ids(scene.items, names)
    w, h = scene.w, scene.h
    loose = [k for k, i in enumerate(scene.items) if i.n == 1 and i.at is None and i.xy is None]
    placed: dict[int, Placed] = {}
    for k, item in enumerate(scene.items):
        name = names[k]
        size = extent(item, w, h)
        if item.n > 1:
            centres, cw, ch = cells(item.n, item.layout, region(item.in_, w, h), item.cols)
            placed[k] = Placed(item, name, ids[k], centres, fitted(item, size, cw, ch))
        elif k in loose:
            slot, count = loose.index(k), len(loose)
            b = fitted(item, size, w / count, h) if count > 1 else body(item, size)
            placed[k] = Placed(item, name, [name], [((slot + 0.5) * w / count, h / 2)], b)
        elif item.xy is not None:
            b = body(item, size)
            x, y = ((item.xy[0] + item.xy2[0]) / 2, (item.xy[1] + item.xy2[1]) / 2) if item.xy2 else item.xy
            placed[k] = Placed(item, name, [name], [(float(x), float(y))], b)
        elif isinstance(item.at, list):
            placed[k] = Placed(item, name, [name], [(item.at[0] * w, item.at[1] * h)], body(item, size))
        elif item.of is None and item.at is not None:
            b = body(item, size)
            anchor = cast(Anchor, item.at)  # above/below/on come with "of" (the item validator)
            placed[k] = Placed(item, name, [name], [stage_anchor(anchor, w, h, *b.half(b.rot), item.gap)], b)
    pending = [k for k in range(len(scene.items)) if k not in placed]
    while pending:
        ready = [k for k in pending if names.index(scene.items[k].of or "") in placed]
        if not ready:
            cycle = ", ".join(names[k] for k in pending)
            raise SceneCompileError(f"items {cycle} are placed relative to each other in a circle; "
                                    "place one of them with at or xy", item=names[pending[0]])
        for k in ready:
            item = scene.items[k]
            ref = placed[names.index(item.of or "")]
            b = body(item, extent(item, w, h))
            centre = relative(str(item.at), ref.box(), *b.half(b.rot), item.gap)
            placed[k] = Placed(item, names[k], [names[k]], [centre], b)
            pending.remove(k)
    return [placed[k] for k in range(len(scene.items))]
