"""The font the Lottie export draws text with: the TTF Chromium uses for the page's ``sans-serif``.

The Pixi.js page styles text ``fontFamily: "sans-serif"``. Chromium's default sans-serif family is Arial,
which fontconfig resolves to its metric twin Liberation Sans (``fc-match Arial``; DejaVu Sans where
Liberation is not installed). Measured in the page: ``measureText`` widths and kerning of
``40px sans-serif`` equal Liberation Sans Regular's to 1/100 px, and not DejaVu Sans's (plain
``fc-match sans-serif``). This adapter reads that file with fontTools and serves the core's
:class:`~text2pixi.core.glyphs.GlyphSource`: outlines as cubic contours, advances, and pair kerning from the
GPOS ``kern`` feature (the canvas kerns by default, so Pixi's text is kerned).
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from fontTools.pens.basePen import BasePen
from fontTools.pens.boundsPen import BoundsPen
from fontTools.ttLib import TTFont

from text2pixi.core.glyphs import Contour, Glyph, Point

log = logging.getLogger(__name__)

CHROMIUM_SANS_SERIF = "Arial"
"""The family Chromium's ``sans-serif`` asks fontconfig for (its default font setting on Linux)."""
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
    "/usr/share/fonts/liberation/LiberationSans-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
)
"""Where distributions put the fonts fontconfig gives for Arial, when ``fc-match`` is not there."""


class _ContourPen(BasePen):  # type: ignore[misc]
    """Collects a glyph as closed cubic contours (BasePen turns TrueType quadratics into cubics)."""

    def __init__(self, glyph_set: Any) -> None:
        super().__init__(glyph_set)
        self.contours: list[Contour] = []
        self._v: list[Point] = []
        self._i: list[Point] = []
        self._o: list[Point] = []

    def _moveTo(self, pt: Point) -> None:
        self._v, self._i, self._o = [pt], [(0.0, 0.0)], [(0.0, 0.0)]

    def _lineTo(self, pt: Point) -> None:
        self._v.append(pt)
        self._i.append((0.0, 0.0))
        self._o.append((0.0, 0.0))

    def _curveToOne(self, pt1: Point, pt2: Point, pt3: Point) -> None:
        px, py = self._v[-1]
        self._o[-1] = (pt1[0] - px, pt1[1] - py)
        self._v.append(pt3)
        self._i.append((pt2[0] - pt3[0], pt2[1] - pt3[1]))
        self._o.append((0.0, 0.0))

    def _closePath(self) -> None:
        if len(self._v) > 1 and self._v[-1] == self._v[0]:
            self._i[0] = self._i.pop()
            self._v.pop()
            self._o.pop()
        if len(self._v) > 2:
            self.contours.append(Contour(tuple(self._v), tuple(self._i), tuple(self._o)))
        self._v, self._i, self._o = [], [], []

    _endPath = _closePath


class FontGlyphs:
    """A :class:`~text2pixi.core.glyphs.GlyphSource` over one TrueType/OpenType file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._font = TTFont(str(path), lazy=True)
        self._cmap: dict[int, str] = self._font.getBestCmap() or {}
        self._glyph_set = self._font.getGlyphSet()
        self._hmtx = self._font["hmtx"]
        self._kerning = _gpos_kerning(self._font)
        self.name = str(self._font["name"].getDebugName(4) or path.stem)
        self.units_per_em = float(self._font["head"].unitsPerEm)

    def _name(self, char: str) -> str:
        return self._cmap.get(ord(char), ".notdef")

    @lru_cache(maxsize=512)  # noqa: B019 - one instance per font file, kept for the process
    def glyph(self, char: str) -> Glyph:
        name = self._name(char)
        pen = _ContourPen(self._glyph_set)
        self._glyph_set[name].draw(pen)
        box = BoundsPen(self._glyph_set)
        self._glyph_set[name].draw(box)
        bounds = None
        if pen.contours and box.bounds:
            x0, y0, x1, y1 = box.bounds
            bounds = (float(x0), float(y0), float(x1), float(y1))
        return Glyph(float(self._hmtx[name][0]), tuple(pen.contours), bounds)

    def kerning(self, left: str, right: str) -> float:
        return float(self._kerning(self._name(left), self._name(right)))


def _gpos_kerning(font: TTFont) -> Any:
    """A ``(left, right) -> x advance adjustment`` function from the GPOS ``kern`` feature's pair lookups."""
    lookups: list[list[Any]] = []
    if "GPOS" in font:
        table = font["GPOS"].table
        indices = sorted({i for rec in table.FeatureList.FeatureRecord if rec.FeatureTag == "kern"
                          for i in rec.Feature.LookupListIndex})
        for index in indices:
            lookup = table.LookupList.Lookup[index]
            if lookup.LookupType == 2:
                lookups.append(list(lookup.SubTable))
            elif lookup.LookupType == 9:
                lookups.append([sub.ExtSubTable for sub in lookup.SubTable if sub.ExtensionLookupType == 2])

    def pair(sub: Any, left: str, right: str) -> float | None:
        """The subtable's adjustment for the pair, or None when it does not apply (try the next one)."""
        if left not in sub.Coverage.glyphs:
            return None
        if sub.Format == 1:
            pair_set = sub.PairSet[sub.Coverage.glyphs.index(left)]
            for record in pair_set.PairValueRecord:
                if record.SecondGlyph == right:
                    return float(getattr(record.Value1, "XAdvance", 0) or 0)
            return None
        value = sub.Class1Record[sub.ClassDef1.classDefs.get(left, 0)].Class2Record[
            sub.ClassDef2.classDefs.get(right, 0)].Value1
        return float(getattr(value, "XAdvance", 0) or 0)

    @cache
    def kern(left: str, right: str) -> float:
        total = 0.0
        for subtables in lookups:
            for sub in subtables:
                found = pair(sub, left, right)
                if found is not None:
                    total += found
                    break
        return total

    return kern


def find_font() -> Path | None:
    """The font file Chromium draws ``sans-serif`` with: fontconfig's match for Arial, else a known path."""
    matcher = shutil.which("fc-match")
    if matcher:
        try:
            found = subprocess.run([matcher, "-f", "%{file}", CHROMIUM_SANS_SERIF], capture_output=True, text=True,
                                   timeout=10, check=False).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            found = ""
        if found.lower().endswith((".ttf", ".otf")) and Path(found).is_file():
            return Path(found)
    return next((Path(p) for p in FONT_CANDIDATES if Path(p).is_file()), None)


@cache
def default_glyphs() -> FontGlyphs | None:
    """The glyph source for Lottie text, or ``None`` (text becomes a Lottie text layer) when no font is found."""
    path = find_font()
    if path is None:
        log.warning("no sans-serif TTF found (install fonts-liberation); Lottie text becomes text layers")
        return None
    return FontGlyphs(path)
