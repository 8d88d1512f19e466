"""Lottie (bodymovin 5.x JSON) from a validated :class:`Scene`: the same drawing and timing as the Pixi.js page.

Each object becomes a shape layer whose transform is the object's (anchor at its centre, so rotation and scale
happen around it, as ``codegen`` places it; a compiled scene's ``pivot`` is the anchor point ``a``, with the
position at the centre plus that offset, as Pixi's ``pivot``), drawn around (0, 0) exactly as ``codegen._draw``
draws it in Pixi.js: circles and ellipses as Lottie ellipses, rectangles as Lottie rectangles, triangles, stars (Pixi's
vertices) and polygons as paths, a line as an open path stroked with round caps, text as glyph outlines from
a :class:`~text2pixi.core.glyphs.GlyphSource`. The stage background is a solid layer underneath.

Animated values come from :mod:`text2pixi.core.timeline`, the runtime's own semantics in Python, sampled at
every frame and at every instant the value may jump, then thinned to the keyframes that are not on a straight
line between their neighbours. So linear tweens are two linear keyframes, eased ones one keyframe per frame,
and every player agrees with ``seek(frame / fps)`` at every frame. The two scale tracks (``sx``, ``sy``) become
one scale property sampled at both tracks' instants, and a looped sequence (``cycle``) is written out cycle by
cycle over the export's length.
"""

from __future__ import annotations

import math
from typing import Any

from text2pixi.core import scene as s
from text2pixi.core.colors import color_to_hex
from text2pixi.core.glyphs import GlyphSource, layout_text
from text2pixi.core.timeline import (
    LoopPlan,
    Track,
    Value,
    breakpoints,
    initial_value,
    loop_plan,
    position,
    rgb,
    tracks,
)

BODYMOVIN_VERSION = "5.7.4"
JUMP_FRAMES = 1e-3
"""A value that jumps at frame time ``b`` gets a keyframe ``b - JUMP_FRAMES`` before it, so the jump is sharp."""
_LINEAR = {"o": {"x": 0, "y": 0}, "i": {"x": 1, "y": 1}}
_EPS = 1e-6


def lottie_duration(scene: s.Scene, duration: float | None = None) -> float:
    """Seconds a Lottie export of ``scene`` lasts: ``duration``, the scene's own, or intro plus one loop cycle."""
    return loop_plan(scene, duration).duration


def frame_count(duration: float, fps: int) -> int:
    """Frames of an export: ``duration × fps`` rounded, at least one."""
    return max(1, round(duration * fps))


# --- animated properties -------------------------------------------------------------------------------------


def _static(value: Any) -> dict[str, Any]:
    return {"a": 0, "k": value}


def _on_line(a: tuple[float, Value], b: tuple[float, Value], c: tuple[float, Value]) -> bool:
    """Is b on the straight segment from a to c (time and every component)?"""
    span = c[0] - a[0]
    f = (b[0] - a[0]) / span
    return all(abs(va + (vc - va) * f - vb) <= _EPS * max(1.0, abs(vb)) for va, vb, vc in zip(a[1], b[1], c[1],
                                                                                            strict=True))


def _samples(parts: list[Track], fps: int, frames: int, duration: float) -> list[tuple[float, Value]]:
    """(frame, value) at every frame and on both sides of every instant the value may jump, thinned.

    The value is the tracks' values side by side (one track, or ``sx`` and ``sy`` for Lottie's one scale)."""
    times: set[float] = set(map(float, range(frames + 1)))
    for second in sorted({b for track in parts for b in breakpoints(track, duration)}):
        b = second * fps
        if abs(b - round(b)) > _EPS:
            times.add(b)
        if b - JUMP_FRAMES > 0:
            times.add(b - JUMP_FRAMES)
    raw = [(f, tuple(v for track in parts for v in track.value(f / fps))) for f in sorted(times)]
    # A sample just before a breakpoint matters only if the value jumps there.
    lookup = dict(raw)
    raw = [(f, v) for f, v in raw if f + JUMP_FRAMES not in lookup or any(
        abs(a - b) > 1e-3 * max(1.0, abs(b)) for a, b in zip(v, lookup[f + JUMP_FRAMES], strict=True))]
    kept = [raw[0]]
    for n in range(1, len(raw) - 1):
        if not _on_line(kept[-1], raw[n], raw[n + 1]):
            kept.append(raw[n])
    if len(raw) > 1:
        kept.append(raw[-1])
    # Drop the tail of a value that stopped changing.
    while len(kept) > 1 and kept[-1][1] == kept[-2][1]:
        kept.pop()
    return kept


def _animated(samples: list[tuple[float, Value]], convert: Any) -> dict[str, Any]:
    if len(samples) == 1:
        value = convert(samples[0][1])
        return _static(value[0] if len(value) == 1 else value)
    keys: list[dict[str, Any]] = []
    for n, (frame, value) in enumerate(samples):
        key: dict[str, Any] = {"t": round(frame, 6), "s": convert(value)}
        if n < len(samples) - 1:
            key.update(_LINEAR)
        keys.append(key)
    return {"a": 1, "k": keys}


def _r(value: float) -> float:
    """Rounded to 1e-4 (sub-pixel, sub-degree): smaller files, no visible change."""
    v = round(float(value), 4)
    return int(v) if v.is_integer() else v


def _color(value: Value) -> list[float]:
    return [round(c / 255, 6) for c in value] + [1]


_CONVERT: dict[str, Any] = {
    "pos": lambda v: [_r(v[0]), _r(v[1])],
    "angle": lambda v: [_r(v[0])],
    "scale": lambda v: [_r(v[0] * 100), _r(v[1] * 100)],
    "alpha": lambda v: [_r(v[0] * 100)],
    "tint": _color,
}


# --- shapes ---------------------------------------------------------------------------------------------------


def _path(points: list[tuple[float, float]], closed: bool = True,
          ins: list[tuple[float, float]] | None = None, outs: list[tuple[float, float]] | None = None
          ) -> dict[str, Any]:
    zero = [[0, 0]] * len(points)
    return {"ty": "sh", "ks": _static({
        "c": closed,
        "v": [[_r(x), _r(y)] for x, y in points],
        "i": [[_r(x), _r(y)] for x, y in ins] if ins else zero,
        "o": [[_r(x), _r(y)] for x, y in outs] if outs else zero,
    })}


def star_points(obj: s.Star) -> list[tuple[float, float]]:
    """Pixi's ``GraphicsPath.star``: tips from the top, clockwise (y down), alternating outer/inner radius."""
    inner = obj.inner if obj.inner is not None else obj.r / 2
    count = obj.points * 2
    delta = math.pi * 2 / count
    start = -1 * math.pi / 2
    return [((inner if i % 2 else obj.r) * math.cos(i * delta + start),
             (inner if i % 2 else obj.r) * math.sin(i * delta + start)) for i in range(count)]


def _outline(obj: Any, glyphs: GlyphSource | None) -> list[dict[str, Any]]:
    """The Lottie shape items that draw ``obj`` around (0, 0); the caller adds its fill or stroke."""
    if isinstance(obj, s.Circle):
        return [{"ty": "el", "p": _static([0, 0]), "s": _static([2 * obj.r, 2 * obj.r])}]
    if isinstance(obj, s.Ellipse):
        return [{"ty": "el", "p": _static([0, 0]), "s": _static([obj.w, obj.h])}]
    if isinstance(obj, s.Rect | s.RoundRect):
        radius = min(obj.radius, obj.w / 2, obj.h / 2) if isinstance(obj, s.RoundRect) else 0
        return [{"ty": "rc", "p": _static([0, 0]), "s": _static([obj.w, obj.h]), "r": _static(_r(radius))}]
    if isinstance(obj, s.Triangle):
        return [_path([(0, -obj.h / 2), (obj.w / 2, obj.h / 2), (-obj.w / 2, obj.h / 2)])]
    if isinstance(obj, s.Star):
        return [_path(star_points(obj))]
    if isinstance(obj, s.Polygon):
        pts = obj.pts[: len(obj.pts) - len(obj.pts) % 2]
        return [_path([(float(pts[i]), float(pts[i + 1])) for i in range(0, len(pts), 2)])]
    if isinstance(obj, s.Line):
        dx, dy = (obj.x2 - obj.x) / 2, (obj.y2 - obj.y) / 2
        return [_path([(-dx, -dy), (dx, dy)], closed=False)]
    if isinstance(obj, s.Text) and glyphs is not None:
        return [_path(list(c.vertices), True, list(c.in_tangents), list(c.out_tangents))
                for c in layout_text(glyphs, obj.text, obj.size)]
    raise TypeError(f"no Lottie outline for {type(obj).__name__}")  # pragma: no cover - schema is closed


def _paint(obj: Any, color: dict[str, Any]) -> dict[str, Any]:
    if isinstance(obj, s.Line):
        return {"ty": "st", "c": color, "o": _static(100), "w": _static(obj.width), "lc": 2, "lj": 2, "ml": 4}
    return {"ty": "fl", "c": color, "o": _static(100), "r": 1}


_IDENTITY = {"ty": "tr", "p": _static([0, 0]), "a": _static([0, 0]), "s": _static([100, 100]),
             "r": _static(0), "o": _static(100)}


def _text_layer(obj: s.Text, index: int, frames: int, transform: dict[str, Any], color: list[float]
                ) -> dict[str, Any]:
    """The fallback without a font: a Lottie text layer (players that ignore text layers draw nothing)."""
    doc = {"s": obj.size, "f": "sans-serif", "t": obj.text, "j": 2, "tr": 0, "lh": obj.size * 1.2, "ls": 0,
           "fc": color[:3], "ps": [-obj.size * len(obj.text), -obj.size * 0.6]}
    return {"ddd": 0, "ind": index, "ty": 5, "nm": obj.id, "sr": 1, "ks": transform, "ao": 0, "ip": 0,
            "op": frames, "st": 0, "bm": 0,
            "t": {"d": {"k": [{"s": doc, "t": 0}]}, "p": {}, "m": {"g": 1, "a": _static([0, 0])}, "a": []}}


def _layer(obj: Any, index: int, frames: int, props: dict[str, dict[str, Any]], glyphs: GlyphSource | None
           ) -> dict[str, Any]:
    pivot = [_r(v) for v in obj.pivot] if obj.pivot is not None else [0, 0]
    transform = {"a": _static(pivot), "p": props["pos"], "s": props["scale"], "r": props["angle"],
                 "o": props["alpha"]}
    if isinstance(obj, s.Text) and glyphs is None:
        return _text_layer(obj, index, frames, transform, _color(rgb(obj.color)))
    items = [*_outline(obj, glyphs), _paint(obj, props["tint"]), _IDENTITY]
    return {"ddd": 0, "ind": index, "ty": 4, "nm": obj.id, "sr": 1, "ks": transform, "ao": 0,
            "shapes": [{"ty": "gr", "nm": obj.id, "it": items}], "ip": 0, "op": frames, "st": 0, "bm": 0}


def to_lottie(scene: s.Scene, *, fps: int = 30, duration: float | None = None,
              glyphs: GlyphSource | None = None) -> dict[str, Any]:
    """A bodymovin JSON document (as a dict) playing ``scene`` for :func:`lottie_duration` seconds at ``fps``.

    ``glyphs`` draws text as outlines; without it text becomes a Lottie text layer (font ``sans-serif``), which
    lottie-web draws with the browser's font and rlottie does not draw at all.
    """
    if fps <= 0:
        raise ValueError("fps must be positive")
    if duration is not None and duration <= 0:
        raise ValueError("duration must be positive")
    plan: LoopPlan = loop_plan(scene, duration)
    frames = frame_count(plan.duration, fps)
    animated = tracks(scene)
    layers: list[dict[str, Any]] = []
    for index, obj in enumerate(scene.objects, start=1):
        def track(prop: str, obj: Any = obj) -> Track:
            return animated.get((obj.id, prop)) or Track(obj.id, prop, initial_value(obj, prop), [])
        props: dict[str, dict[str, Any]] = {}
        for prop, parts in (("pos", ["pos"]), ("angle", ["angle"]), ("scale", ["sx", "sy"]), ("alpha", ["alpha"]),
                            ("tint", ["tint"])):
            samples = _samples([track(p) for p in parts], fps, frames, plan.duration)
            if prop == "pos":  # the track is the centre; Lottie's position is the anchor's, as Pixi's
                samples = [(f, position(obj, v)) for f, v in samples]
            props[prop] = _animated(samples, _CONVERT[prop])
        layers.append(_layer(obj, index, frames, props, glyphs))
    layers.reverse()  # Lottie draws the first layer on top; Pixi draws later children on top
    layers.append({"ddd": 0, "ind": len(scene.objects) + 1, "ty": 1, "nm": "background", "sr": 1,
                   "ks": {"a": _static([0, 0]), "p": _static([0, 0]), "s": _static([100, 100]), "r": _static(0),
                          "o": _static(100)},
                   "ao": 0, "sw": scene.w, "sh": scene.h, "sc": color_to_hex(scene.bg), "ip": 0, "op": frames,
                   "st": 0, "bm": 0})
    meta = {"duration": frames / fps, "loops": plan.loops, "cycle": plan.cycle, "start": plan.start,
            "capped": plan.capped, "fps": fps, "text": "outlines" if glyphs is not None else "text-layer"}
    if glyphs is not None:
        meta["font"] = glyphs.name
    loop_note = (f"loops forever: {plan.start:g} s intro, then a {plan.cycle:g} s cycle" if plan.loops
                 else "plays once")
    document: dict[str, Any] = {
        "v": BODYMOVIN_VERSION, "fr": fps, "ip": 0, "op": frames, "w": scene.w, "h": scene.h,
        "nm": f"text2pixi scene, {frames / fps:g} s at {fps} fps, {loop_note}", "ddd": 0, "assets": [],
        "layers": layers, "markers": [], "text2pixi": meta,
        "meta": {"g": "text2pixi", "d": loop_note},
    }
    if plan.loops and plan.cycle is not None and plan.start + plan.cycle <= frames / fps + _EPS:
        document["markers"] = [{"tm": plan.start * fps, "cm": "cycle", "dr": plan.cycle * fps}]
    if glyphs is None and any(isinstance(o, s.Text) for o in scene.objects):
        document["fonts"] = {"list": [{"fName": "sans-serif", "fFamily": "sans-serif", "fStyle": "Regular",
                                       "ascent": 75}]}
    return document

