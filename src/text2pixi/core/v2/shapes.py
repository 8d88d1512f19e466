"""An item's shape as compiled-scene fields, and the box it occupies, from its ``shape``, ``size`` and ``aspect``.

Sizes resolve here (named or pixels, shrunk by a factor when copies must fit a cell), so layout and motion
work with one number per axis: the shape's unrotated width and height (:class:`Body`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from text2pixi.core.v2.defaults import DEFAULT_ASPECT, named_extent, named_font
from text2pixi.core.v2.language import Anchor, Item

TEXT_WIDTH = 0.6
"""Average glyph width over font size for the sans-serif the page uses (an estimate: no fonts in core)."""
TEXT_HEIGHT = 1.2
"""Line height over font size."""


@dataclass(frozen=True)
class Body:
    """The compiled shape fields (without id, position and paint) and the unrotated box they occupy."""

    fields: dict[str, Any]
    w: float
    h: float
    rot: int = 0

    def half(self, angle: float = 0.0, sx: float = 1.0, sy: float = 1.0) -> tuple[float, float]:
        """Half width and height of the axis-aligned box around the shape, scaled and turned by ``angle``."""
        a = math.radians(angle)
        w, h = self.w * abs(sx), self.h * abs(sy)
        c, s = abs(math.cos(a)), abs(math.sin(a))
        return (w * c + h * s) / 2, (w * s + h * c) / 2


def extent(item: Item, stage_w: int, stage_h: int) -> float:
    """The item's size in pixels before fitting: the extent of a shape, the font size of text."""
    if isinstance(item.size, int):
        return float(item.size)
    if item.shape == "text":
        return float(named_font(item.size, stage_w, stage_h))
    return float(named_extent(item.size, stage_w, stage_h))


def _sides(size: float, aspect: float) -> tuple[int, int]:
    """Width and height of a box whose longer side is ``size``."""
    if aspect >= 1:
        return max(1, round(size)), max(1, round(size / aspect))
    return max(1, round(size * aspect)), max(1, round(size))


def body(item: Item, size: float) -> Body:
    """Compiled fields and box of ``item`` at ``size`` (pixels: extent, or font size for text).

    ``Body.rot`` is the compiled rotation: the item's ``rot``, except for a line drawn along ``rot`` (0, the
    direction is in its ends).
    """
    b = _body(item, size)
    baked = item.shape == "line" and item.xy2 is None
    return b if baked else replace(b, rot=item.rot)


def _body(item: Item, size: float) -> Body:
    shape = item.shape
    aspect = item.aspect if item.aspect is not None else DEFAULT_ASPECT.get(shape, 1.0)
    if shape == "circle":
        r = max(1, round(size / 2))
        return Body({"type": "circle", "r": r}, 2.0 * r, 2.0 * r)
    if shape == "star":
        r = max(1, round(size / 2))
        fields: dict[str, Any] = {"type": "star", "r": r, "points": item.points}
        if item.inner is not None:
            fields["inner"] = item.inner
        return Body(fields, 2 * r, 2 * r)
    if shape in ("square", "rect", "roundrect", "ellipse", "triangle"):
        w, h = _sides(size, 1.0 if shape == "square" else aspect)
        fields = {"type": "rect" if shape == "square" else shape, "w": w, "h": h}
        if shape == "roundrect":
            fields["radius"] = item.radius if item.radius is not None else round(min(w, h) * 0.15)
        return Body(fields, w, h)
    if shape == "polygon":
        if item.pts is not None:
            xs, ys = item.pts[0::2], item.pts[1::2]
            return Body({"type": "polygon", "pts": list(item.pts)}, 2 * max(map(abs, xs)), 2 * max(map(abs, ys)))
        half = size / 2
        pts: list[int] = []
        for k in range(item.sides):
            a = 2 * math.pi * k / item.sides
            pts += [round(half * math.sin(a)), round(-half * math.cos(a))]
        xs, ys = pts[0::2], pts[1::2]
        return Body({"type": "polygon", "pts": pts}, max(xs) - min(xs), max(ys) - min(ys))
    if shape == "line":
        if item.xy is not None and item.xy2 is not None:
            dx, dy = item.xy2[0] - item.xy[0], item.xy2[1] - item.xy[1]
            return Body({"type": "line", "width": item.width}, abs(dx) + item.width, abs(dy) + item.width)
        a = math.radians(item.rot)
        lx, ly = size * math.cos(a), size * math.sin(a)
        return Body({"type": "line", "width": item.width}, abs(lx) + item.width, abs(ly) + item.width)
    font = min(400, max(6, round(size)))
    text = item.text or ""
    return Body({"type": "text", "text": text, "size": font}, TEXT_WIDTH * font * len(text), TEXT_HEIGHT * font)


def line_ends(item: Item, b: Body, x: float, y: float) -> dict[str, int]:
    """A line's compiled ``x, y, x2, y2`` for its centre at (x, y): explicit ends, or ``size`` along ``rot``."""
    if item.xy is not None and item.xy2 is not None:
        return {"x": item.xy[0], "y": item.xy[1], "x2": item.xy2[0], "y2": item.xy2[1]}
    hx = (b.w - item.width) / 2 * (1 if math.cos(math.radians(item.rot)) >= 0 else -1)
    hy = (b.h - item.width) / 2 * (1 if math.sin(math.radians(item.rot)) >= 0 else -1)
    return {"x": round(x - hx), "y": round(y - hy), "x2": round(x + hx), "y2": round(y + hy)}


def anchor_offset(name: Anchor, half_w: float, half_h: float) -> tuple[float, float]:
    """Where an anchor of a box lies relative to its centre (``top-left`` is (-half_w, -half_h))."""
    fx = -1 if "left" in name else 1 if "right" in name else 0
    fy = -1 if "top" in name else 1 if "bottom" in name else 0
    return fx * half_w, fy * half_h
