"""Can the viewer see an object? Contrast, opacity and stage overlap at every moment, as the page plays it.

IO-free. Values over time come from :mod:`text2pixi.core.timeline` (the runtime's formulas), sampled at every
point where a track may jump (each animation's starts and ends) and on a regular grid in between, over the
length an export of the scene would have (:func:`text2pixi.core.timeline.loop_plan`: the intro plus one cycle
of what loops forever).

Contrast is WCAG 2's relative-luminance ratio. Measured on pairs the model writes (ratio, rounded):
white on #f0f0f0 1.14, yellow on white 1.07, cyan on white 1.25, navy on black 1.31, darkblue on black 1.37,
gold on white 1.40, lightgray on white 1.50 -- all hard to see; pink on white 1.54, indigo on black 1.62,
skyblue on white 1.74, orange on white 1.97, purple on black 2.23, blue on black 2.44 -- plainly visible
shapes, though below WCAG's 3:1 for graphics (SC 1.4.11), so 3:1 would flag colours people ask for every day.
Hence :data:`MIN_CONTRAST` = 1.5 to call an object near-invisible, and :data:`FIX_CONTRAST` = 3 (WCAG's
figure) for a colour we choose ourselves. Luminance is blind to hue: red on green is 1.28 yet obvious, so two
saturated colours whose hues differ by :data:`DISTINCT_HUE` degrees or more count as visible whatever the ratio.
"""

from __future__ import annotations

import colorsys
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from text2pixi.core import scene as s
from text2pixi.core import timeline as tl

MIN_CONTRAST = 1.5
"""Below this luminance ratio (and without a clear hue difference) an object is near-invisible."""
FIX_CONTRAST = 3.0
"""The ratio a colour chosen by :mod:`text2pixi.core.sanity` must reach (WCAG 2.1 SC 1.4.11, graphics)."""
DISTINCT_HUE = 60.0
"""Degrees of hue apart at which two saturated colours are told apart whatever their luminance."""
MIN_ALPHA = 0.1
"""Below this opacity an object is as good as transparent."""
GRID_S = 0.05
"""Sampling step between a track's breakpoints (seconds); widened so that a scene has at most MAX_SAMPLES."""
MAX_SAMPLES = 600

RGB = tuple[float, ...]
"""A colour as 0-255 sRGB channels (the timeline's tint values)."""


def _channel(v: float) -> float:
    c = v / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(color: RGB) -> float:
    """WCAG 2 relative luminance of an sRGB colour given as 0-255 channels."""
    r, g, b = (_channel(v) for v in color)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: RGB, b: RGB) -> float:
    """WCAG 2 contrast ratio, 1 (same) to 21 (black on white)."""
    la, lb = sorted((luminance(a), luminance(b)))
    return (lb + 0.05) / (la + 0.05)


def _hue_sat_val(color: RGB) -> tuple[float, float, float]:
    h, sat, val = colorsys.rgb_to_hsv(*(v / 255 for v in color))
    return h * 360, sat, val


def distinct_hues(a: RGB, b: RGB) -> bool:
    """Two saturated, not-dark colours whose hues are at least :data:`DISTINCT_HUE` degrees apart."""
    ha, sa, va = _hue_sat_val(a)
    hb, sb, vb = _hue_sat_val(b)
    if min(sa, sb) < 0.5 or min(va, vb) < 0.35:
        return False
    gap = abs(ha - hb) % 360
    return min(gap, 360 - gap) >= DISTINCT_HUE


def legible(fg: RGB, bg: RGB, ratio: float = MIN_CONTRAST) -> bool:
    """Can a shape of colour ``fg`` be seen on ``bg``: enough luminance contrast, or clearly different hues."""
    return contrast(fg, bg) >= ratio or distinct_hues(fg, bg)


def sample_times(scene: s.Scene) -> list[float]:
    """Moments to look at: every track breakpoint, a point just inside each segment, and a regular grid."""
    horizon = tl.loop_plan(scene).duration
    step = max(GRID_S, horizon / MAX_SAMPLES)
    times = {round(k * step, 6) for k in range(int(horizon / step) + 1)} | {horizon}
    for track in tl.tracks(scene).values():
        for b in tl.breakpoints(track, horizon):
            times.add(b)
            times.add(min(horizon, b + 1e-3))
    return sorted(t for t in times if 0 <= t <= horizon)


def local_box(obj: Any) -> tuple[float, float, float, float]:
    """The object's bounding box around its centre in its own unrotated, unscaled frame (x0, y0, x1, y1).

    Text is measured generously (0.6 em per character, 1.2 em high): the checks that use it only ever
    call an object invisible, so an over-estimate errs towards "visible".
    """
    if isinstance(obj, (s.Circle, s.Star)):
        return (-obj.r, -obj.r, obj.r, obj.r)
    if isinstance(obj, (s.Rect, s.RoundRect, s.Ellipse, s.Triangle)):
        return (-obj.w / 2, -obj.h / 2, obj.w / 2, obj.h / 2)
    if isinstance(obj, s.Polygon):
        xs, ys = obj.pts[0::2], obj.pts[1::2]
        return (min(xs), min(ys), max(xs), max(ys))
    if isinstance(obj, s.Line):
        dx, dy, half = abs(obj.x2 - obj.x) / 2, abs(obj.y2 - obj.y) / 2, obj.width / 2
        return (-dx - half, -dy - half, dx + half, dy + half)
    if isinstance(obj, s.Text):
        hw, hh = 0.3 * obj.size * len(obj.text), 0.6 * obj.size
        return (-hw, -hh, hw, hh)
    raise TypeError(f"no extent for {type(obj).__name__}")  # pragma: no cover - the schema is closed


@dataclass(frozen=True)
class State:
    """One object at one moment: its colour, opacity and bounding box on the stage."""

    t: float
    color: RGB
    alpha: float
    box: tuple[float, ...]


def _track_value(tracks: dict[tuple[str, str], tl.Track], obj: Any, prop: str, t: float) -> tl.Value | None:
    track = tracks.get((obj.id, prop))
    if track is not None:
        return track.value(t)
    if prop in tl.PROPS:
        return tl.initial_value(obj, prop)
    return None


def _scale(tracks: dict[tuple[str, str], tl.Track], obj: Any, t: float) -> tuple[float, float]:
    """(sx, sy): the timeline keeps one ``scale`` track, or ``sx``/``sy`` tracks once scaling has an axis."""
    both = _track_value(tracks, obj, "scale", t)
    if both is not None and (obj.id, "sx") not in tracks and (obj.id, "sy") not in tracks:
        return (both[0], both[-1])
    sx = _track_value(tracks, obj, "sx", t)
    sy = _track_value(tracks, obj, "sy", t)
    return (sx[0] if sx else 1.0, sy[0] if sy else 1.0)


def world_box(obj: Any, centre: Sequence[float], angle: float, scale: tuple[float, float]) -> tuple[float, ...]:
    """Bounding box on the stage: the local box scaled and rotated about the pivot, placed at ``centre``."""
    x0, y0, x1, y1 = local_box(obj)
    px, py = getattr(obj, "pivot", None) or (0.0, 0.0)
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    xs, ys = [], []
    for cx, cy in ((x0, y0), (x1, y0), (x1, y1), (x0, y1)):
        lx, ly = (cx - px) * scale[0], (cy - py) * scale[1]
        xs.append(centre[0] + px + lx * cos - ly * sin)
        ys.append(centre[1] + py + lx * sin + ly * cos)
    return (min(xs), min(ys), max(xs), max(ys))


def states(scene: s.Scene, times: Sequence[float] | None = None) -> dict[str, list[State]]:
    """Every object's :class:`State` at each of ``times`` (default :func:`sample_times`)."""
    tracks = tl.tracks(scene)
    moments = sample_times(scene) if times is None else times
    result: dict[str, list[State]] = {}
    for obj in scene.objects:
        rows = []
        for t in moments:
            pos = _track_value(tracks, obj, "pos", t) or tl.initial_value(obj, "pos")
            angle = (_track_value(tracks, obj, "angle", t) or (0.0,))[0]
            alpha = (_track_value(tracks, obj, "alpha", t) or (1.0,))[0]
            tint = _track_value(tracks, obj, "tint", t) or tl.rgb(obj.color)
            color: RGB = tuple(tint[:3])
            rows.append(State(t, color, alpha, world_box(obj, pos, angle, _scale(tracks, obj, t))))
        result[obj.id] = rows
    return result


def on_stage(box: Sequence[float], w: int, h: int) -> bool:
    """Does a bounding box overlap the stage at all?"""
    x0, y0, x1, y1 = box
    return x1 > 0 and y1 > 0 and x0 < w and y0 < h
