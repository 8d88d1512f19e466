"""What the compiler fills in when the scene says nothing: colours that show on the background, and sizes.

A colour the scene states is never changed (that is the sanity checks' business, with a re-ask); an omitted
one is chosen here so that it contrasts with the background. Named sizes are fractions of the stage's
shorter side, so "large" looks large on any stage.
"""

from __future__ import annotations

from text2pixi.core import visibility
from text2pixi.core.timeline import rgb

MIN_CONTRAST = visibility.FIX_CONTRAST
"""WCAG 2.1's ratio for graphics (SC 1.4.11): a colour we choose ourselves reaches it."""

PALETTE = ("orange", "deepskyblue", "gold", "limegreen", "hotpink", "mediumpurple", "tomato", "turquoise",
           "royalblue", "darkorange", "seagreen", "crimson")
"""Default shape colours, in the order items without a colour take them; those too close to the bg are skipped."""

NEUTRALS = ("white", "black")
"""Text, and any shape when no palette colour contrasts enough, takes the neutral that contrasts most."""

SIZE_FRACTION = {"tiny": 0.06, "small": 0.1, "medium": 0.16, "large": 0.25, "huge": 0.4}
"""A named size as the item's extent (diameter, longer side, line length) over min(stage w, h)."""

FONT_SIZE = {"tiny": 16, "small": 24, "medium": 36, "large": 56, "huge": 88}
"""A named text size as the font size in pixels on a stage whose shorter side is 600 px."""

DEFAULT_ASPECT = {"rect": 1.6, "roundrect": 1.6, "ellipse": 1.6}
"""Width over height when ``aspect`` is omitted; every other shape is as wide as it is high."""


def contrast(a: str, b: str) -> float:
    """WCAG 2 contrast ratio of two validated colours (:func:`text2pixi.core.visibility.contrast`)."""
    return visibility.contrast(rgb(a), rgb(b))


def neutral_for(bg: str) -> str:
    """White or black, whichever contrasts more with ``bg``."""
    return max(NEUTRALS, key=lambda c: contrast(c, bg))


def default_colors(bg: str, count: int) -> list[str]:
    """``count`` shape colours for items without one, each contrasting with ``bg`` by :data:`MIN_CONTRAST`."""
    usable = [c for c in PALETTE if contrast(c, bg) >= MIN_CONTRAST] or [neutral_for(bg)]
    return [usable[k % len(usable)] for k in range(count)]


def named_extent(name: str, stage_w: int, stage_h: int) -> int:
    """The extent in pixels of a named shape size on this stage."""
    return max(2, round(SIZE_FRACTION[name] * min(stage_w, stage_h)))


def named_font(name: str, stage_w: int, stage_h: int) -> int:
    """The font size in pixels of a named text size on this stage (6..400, the compiled scene's bounds)."""
    return min(400, max(6, round(FONT_SIZE[name] * min(stage_w, stage_h) / 600)))
