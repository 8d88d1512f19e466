"""A compiled scene over time as the quality checks see it: each object's pose at any moment (IO-free).

Every value comes from :mod:`text2pixi.core.timeline`, which mirrors what the page plays at ``seek(t)``, so the
checks that use this module stay right however the compiled form grows (pivots, per-axis scale, looped
sequences): they never re-derive positions from animation fields. What the timeline keeps per property
(the centre's track, then angle, scale, alpha and tint) is turned here into what a viewer sees: the centre
on the stage, any named point of the object (a corner rotating about a pivot moves), and a bounding box.

The only animation fields read directly are the ones that say *when* an animation first runs (:class:`Span`),
as the compiled scene defines them (``delay`` is its first start; ``cycle`` only adds later replays).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from text2pixi.core import scene as s
from text2pixi.core import timeline as tl
from text2pixi.core.visibility import local_box

GRID_S = 0.02
"""Sampling step (seconds), widened so that a scene has at most :data:`MAX_SAMPLES` grid points."""
MAX_SAMPLES = 1500
FOREVER_PERIODS = 3
"""A scene that loops forever is watched for its intro plus this many cycles."""
MAX_HORIZON_S = 60.0

RGB = tuple[float, float, float]
KIND_OF_PROP = {"pos": "move", "angle": "rotate", "scale": "scale", "sx": "scale", "sy": "scale", "alpha": "fade",
                "tint": "color"}


@dataclass(frozen=True)
class Pose:
    """One object at one moment: centre on the stage, angle (degrees clockwise), scale, opacity, colour."""

    t: float
    x: float
    y: float
    angle: float
    sx: float
    sy: float
    alpha: float
    color: RGB


@dataclass(frozen=True)
class Span:
    """The first run of one animation of an object: ``end`` is ``inf`` for one that never stops."""

    kind: str
    start: float
    end: float
    anim: Any

    @property
    def first_end(self) -> float:
        """Where its first pass ends (one ``dur``), finite even for a loop: what a step of a sequence did."""
        return self.start + float(self.anim.dur)


def local_point(obj: Any, name: str) -> tuple[float, float]:
    """A named point of the object's bounding box in its own frame (offset from its centre, unrotated)."""
    x0, y0, x1, y1 = local_box(obj)
    parts = set(name.split("-"))
    x = x0 if "left" in parts else x1 if "right" in parts else 0.0
    y = y0 if "top" in parts else y1 if "bottom" in parts else 0.0
    return (x, y)


def size_of(obj: Any) -> float:
    """The larger side of the object's unscaled bounding box (pixels)."""
    x0, y0, x1, y1 = local_box(obj)
    return max(x1 - x0, y1 - y0)


class SceneTimeline:
    """Poses of a compiled scene's objects, read from the timeline's tracks."""

    def __init__(self, scene: s.Scene) -> None:
        self.scene = scene
        self.tracks = tl.tracks(scene)
        self.objects = {o.id: o for o in scene.objects}
        self._times: list[float] | None = None

    # -- values ------------------------------------------------------------------------------------------
    def _value(self, obj: Any, prop: str, t: float) -> tl.Value | None:
        track = self.tracks.get((obj.id, prop))
        return track.value(t) if track is not None else None

    def _scale(self, obj: Any, t: float) -> tuple[float, float]:
        both = self._value(obj, "scale", t)
        sx, sy = self._value(obj, "sx", t), self._value(obj, "sy", t)
        if sx is None and sy is None:
            return (both[0], both[-1]) if both else (1.0, 1.0)
        return (sx[0] if sx else 1.0, sy[0] if sy else 1.0)

    def _anchor(self, obj: Any, t: float) -> tuple[float, float]:
        """The centre's track value: the centre at rest plus every move (the pivot is added by the renderer)."""
        pos = self._value(obj, "pos", t)
        return (pos[0], pos[1]) if pos else (float(tl.initial_value(obj, "pos")[0]),
                                             float(tl.initial_value(obj, "pos")[1]))

    def point(self, obj: Any, local: tuple[float, float], t: float) -> tuple[float, float]:
        """Where a point of the object's own frame is on the stage at ``t`` (rotated and scaled about the pivot)."""
        cx, cy = self._anchor(obj, t)
        px, py = getattr(obj, "pivot", None) or (0.0, 0.0)
        angle = (self._value(obj, "angle", t) or (float(obj.rot),))[0]
        sx, sy = self._scale(obj, t)
        cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
        lx, ly = (local[0] - px) * sx, (local[1] - py) * sy
        return (cx + px + lx * cos - ly * sin, cy + py + lx * sin + ly * cos)

    def pose(self, obj: Any, t: float) -> Pose:
        x, y = self.point(obj, (0.0, 0.0), t)
        sx, sy = self._scale(obj, t)
        angle = (self._value(obj, "angle", t) or (float(obj.rot),))[0]
        alpha = (self._value(obj, "alpha", t) or (float(obj.alpha),))[0]
        tint = self._value(obj, "tint", t) or tl.rgb(obj.color)
        return Pose(t, x, y, angle, sx, sy, alpha, (tint[0], tint[1], tint[2]))

    def box(self, obj: Any, t: float) -> tuple[float, float, float, float]:
        """The object's bounding box on the stage at ``t`` (x0, y0, x1, y1)."""
        x0, y0, x1, y1 = local_box(obj)
        corners = [self.point(obj, c, t) for c in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]
        xs, ys = [c[0] for c in corners], [c[1] for c in corners]
        return (min(xs), min(ys), max(xs), max(ys))

    # -- when --------------------------------------------------------------------------------------------
    def spans(self, obj: Any, kind: str | None = None) -> list[Span]:
        """The object's animations as first runs, in start order (``kind`` = move/rotate/scale/fade/color)."""
        out = []
        for (target, prop), track in self.tracks.items():
            if target != obj.id or (kind is not None and KIND_OF_PROP.get(prop) != kind):
                continue
            for tween in track.tweens:
                a = tween.anim
                cycle = getattr(a, "cycle", None)
                forever = a.repeat < 0 or (cycle is not None and cycle.times < 0)
                end = math.inf if forever else float(a.delay + a.dur * (a.repeat + 1))
                out.append(Span(KIND_OF_PROP.get(prop, prop), float(a.delay), end, a))
        return sorted(out, key=lambda sp: (sp.start, sp.end))

    def settle(self, obj: Any) -> float:
        """When the object's first pass is over: every span's end (a span that never stops: its first pass)."""
        return max([sp.end if math.isfinite(sp.end) else sp.first_end for sp in self.spans(obj)], default=0.0)

    def forever(self) -> bool:
        return self.scene.duration() is None

    def horizon(self) -> float:
        """How long the checks watch: the whole scene, or its intro plus a few cycles when it loops forever."""
        plan = tl.loop_plan(self.scene)
        if not plan.loops:
            return max(plan.duration, float(self.scene.duration() or 0.0), tl.STILL_S)
        cycle = plan.cycle or 1.0
        return min(MAX_HORIZON_S, max(plan.duration, plan.start + FOREVER_PERIODS * cycle))

    def times(self) -> list[float]:
        """Moments to look at: a regular grid plus every breakpoint of every track (and just after it)."""
        if self._times is None:
            horizon = self.horizon()
            step = max(GRID_S, horizon / MAX_SAMPLES)
            moments = {round(k * step, 6) for k in range(int(horizon / step) + 1)} | {horizon}
            for track in self.tracks.values():
                for b in tl.breakpoints(track, horizon)[:MAX_SAMPLES]:
                    moments.update((b, min(horizon, b + 1e-3)))
            self._times = sorted(t for t in moments if 0 <= t <= horizon)
        return self._times

    def series(self, obj: Any, read: Callable[[Pose], float], start: float = 0.0,
               end: float = math.inf) -> list[tuple[float, float]]:
        """``(t, read(pose))`` at every sample time in ``[start, end]``."""
        return [(t, read(self.pose(obj, t))) for t in self.times() if start <= t <= end]

    def resolve(self, obj: Any, when: str | float) -> float:
        """A moment named by a check: ``start`` (0), ``end`` (:meth:`settle`) or seconds."""
        if when == "start":
            return 0.0
        if when == "end":
            return self.settle(obj)
        return float(when)


def direction_vector(name: str) -> tuple[float, float]:
    """A unit vector (y down) for a screen or compass direction: up, down-left, north, north-east, west..."""
    words = {"up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0),
             "north": (0, -1), "south": (0, 1), "west": (-1, 0), "east": (1, 0)}
    name = {"northeast": "north-east", "northwest": "north-west", "southeast": "south-east",
            "southwest": "south-west"}.get(name, name)
    x = sum(words[p][0] for p in name.split("-"))
    y = sum(words[p][1] for p in name.split("-"))
    norm = math.hypot(x, y)
    return (x / norm, y / norm)


def angle_between(dx: float, dy: float, unit: tuple[float, float]) -> float:
    """Degrees between a displacement and a unit direction (180 for no displacement)."""
    norm = math.hypot(dx, dy)
    if norm == 0:
        return 180.0
    cos = max(-1.0, min(1.0, (dx * unit[0] + dy * unit[1]) / norm))
    return math.degrees(math.acos(cos))


@dataclass(frozen=True)
class Leg:
    """One stretch of visible change of one kind: a straight-ish move, a turn one way, a growth or shrink,
    a fade one way, a colour change; from pose ``a`` at ``start`` to pose ``b`` at ``end``."""

    kind: str
    start: float
    end: float
    a: Pose
    b: Pose


TURN_DEG = 45.0
"""A move changes leg when its heading leaves the leg's heading by more than this."""


def _heading_change(dx: float, dy: float, hx: float, hy: float) -> float:
    return angle_between(dx, dy, (hx / math.hypot(hx, hy), hy / math.hypot(hx, hy)))


def unwrapped(poses: list[Pose]) -> list[Pose]:
    """The poses with angles made continuous: a spin restarting from 360 to 0 looks the same on the page."""
    out, angle = [], poses[0].angle if poses else 0.0
    for k, pose in enumerate(poses):
        if k:
            angle += (pose.angle - poses[k - 1].angle + 180) % 360 - 180
        out.append(replace(pose, angle=angle))
    return out


def legs(view: SceneTimeline, obj: Any) -> list[Leg]:
    """The object's legs of every kind, in start order, cut where the change pauses or turns back (moves: turns
    by more than :data:`TURN_DEG`). Read from the sampled poses, so how the scene spells a motion (one yoyo
    animation or two animations) does not matter, only what is seen."""
    poses = unwrapped([view.pose(obj, t) for t in view.times()])
    readers: dict[str, Callable[[Pose], tuple[float, ...]]] = {
        "move": lambda p: (p.x, p.y), "rotate": lambda p: (p.angle,), "scale": lambda p: (p.sx, p.sy),
        "fade": lambda p: (p.alpha,), "color": lambda p: p.color}
    eps = {"move": 1e-3, "rotate": 1e-3, "scale": 1e-5, "fade": 1e-5, "color": 1e-3}
    out: list[Leg] = []
    for kind, read in readers.items():
        first: Pose | None = None
        heading: tuple[float, ...] = ()
        prev = poses[0]
        for pose in poses[1:]:
            delta = tuple(b - a for a, b in zip(read(prev), read(pose), strict=True))
            moving = max(abs(d) for d in delta) > eps[kind]
            if first is not None and (not moving or _turns(kind, delta, heading)):
                out.append(Leg(kind, first.t, prev.t, first, prev))
                first = None
            if moving and first is None:
                first, heading = prev, delta
            elif moving and kind == "move":
                heading = tuple(b - a for a, b in zip(read(first) if first else read(prev), read(pose), strict=True))
            prev = pose
        if first is not None:
            out.append(Leg(kind, first.t, prev.t, first, prev))
    return sorted(out, key=lambda leg: (leg.start, leg.end))


def _turns(kind: str, delta: tuple[float, ...], heading: tuple[float, ...]) -> bool:
    """Does this step leave the leg: a move heading elsewhere, or any other property turning back?"""
    if kind == "move":
        return math.hypot(*heading) > 0 and _heading_change(delta[0], delta[1], heading[0], heading[1]) > TURN_DEG
    if kind == "color":
        return False
    return any(d * h < 0 for d, h in zip(delta, heading, strict=True))
