"""Text as outlines: where Pixi.js puts each glyph of a ``Text`` object, from a font's outlines and metrics.

Lottie text layers need the font at play time and rlottie ignores them, so the Lottie export draws text as
shapes. The font is read outside the core (``service/fonts.py``) and handed in as a :class:`GlyphSource`; this
module only does the layout, the way Pixi.js v8 (``CanvasTextMetrics``) and the browser's canvas do it:

- the line box is ``ascent + descent`` high, measured (``measureFont``) as the ink extent of ``"|ÉqÅM"``;
- its width is the larger of the advance sum and the ink extent; pairs are kerned as the canvas kerns them
  (Chromium shapes word by word, so never across a space);
- lines split on newlines, left-aligned, one box height apart;
- ``anchor: 0.5`` puts the centre of the whole box at the object's (x, y).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

Point = tuple[float, float]

PIXI_METRICS_STRING = "|\u00c9q\u00c5M"
"""``CanvasTextMetrics.METRICS_STRING + BASELINE_SYMBOL``: Pixi measures a font's ascent and descent on it."""


@dataclass(frozen=True)
class Contour:
    """A closed cubic Bézier contour in font units (y up): vertices and their tangents, relative to each vertex."""

    vertices: tuple[Point, ...]
    in_tangents: tuple[Point, ...]
    out_tangents: tuple[Point, ...]


@dataclass(frozen=True)
class Glyph:
    """One character's outline and advance in font units; ``bounds`` is (xmin, ymin, xmax, ymax) or None (space)."""

    advance: float
    contours: tuple[Contour, ...]
    bounds: tuple[float, float, float, float] | None


class GlyphSource(Protocol):
    """A font: outlines and advances per character, pair kerning, in units of ``units_per_em``."""

    @property
    def name(self) -> str: ...

    @property
    def units_per_em(self) -> float: ...

    def glyph(self, char: str) -> Glyph: ...

    def kerning(self, left: str, right: str) -> float: ...


@dataclass(frozen=True)
class PlacedContour:
    """A contour in pixels relative to the text's centre (y down), ready for a Lottie path."""

    vertices: tuple[Point, ...]
    in_tangents: tuple[Point, ...]
    out_tangents: tuple[Point, ...]


def font_box(font: GlyphSource) -> tuple[float, float]:
    """Pixi's ``measureFont``: (ascent, descent) in font units, the ink extent of :data:`PIXI_METRICS_STRING`."""
    ascent, descent = 0.0, 0.0
    for char in PIXI_METRICS_STRING:
        bounds = font.glyph(char).bounds
        if bounds is not None:
            ascent, descent = max(ascent, bounds[3]), max(descent, -bounds[1])
    return ascent, descent


def _line_width(font: GlyphSource, line: str) -> tuple[float, list[float]]:
    """The width Pixi measures for a line (font units) and each character's pen position."""
    pens, pen, left, right = [], 0.0, 0.0, 0.0
    for n, char in enumerate(line):
        if n and not (char.isspace() or line[n - 1].isspace()):
            pen += font.kerning(line[n - 1], char)
        pens.append(pen)
        glyph = font.glyph(char)
        if glyph.bounds is not None:
            left, right = min(left, pen + glyph.bounds[0]), max(right, pen + glyph.bounds[2])
        pen += glyph.advance
    return max(pen, right - left), pens


def layout_text(font: GlyphSource, text: str, size: float) -> list[PlacedContour]:
    """Every contour of ``text`` at ``size`` px, placed as Pixi's ``Text`` with ``anchor: 0.5`` draws it."""
    scale = size / font.units_per_em
    ascent, descent = font_box(font)
    line_height = ascent + descent
    lines = re.split(r"\r\n|\r|\n", text)
    measured = [_line_width(font, line) for line in lines]
    width = max(w for w, _ in measured)
    height = line_height * len(lines)
    placed: list[PlacedContour] = []
    for row, (line, (_, pens)) in enumerate(zip(lines, measured, strict=True)):
        baseline = row * line_height + ascent - height / 2
        for char, pen in zip(line, pens, strict=True):
            x0 = pen - width / 2
            for contour in font.glyph(char).contours:
                placed.append(PlacedContour(
                    tuple(((x0 + x) * scale, (baseline - y) * scale) for x, y in contour.vertices),
                    tuple((x * scale, -y * scale) for x, y in contour.in_tangents),
                    tuple((x * scale, -y * scale) for x, y in contour.out_tangents),
                ))
    return placed
