"""The scene's animation state as a pure function of time, exactly as ``core/runtime/runtime.js`` computes it.

Exporters (Lottie, and through it GIF/MP4/PNG) must show what the Pixi.js page shows at ``seek(t)``, so this
module mirrors the runtime line by line: one track per target and property, its animations sorted by delay
(stably), each starting from the value the earlier ones reached at its delay, and at any time the value of the
last animation that has started (later ones override). Same IEEE doubles, same formulas, so the values agree
to the last bit except where ``Math.pow`` and C's ``pow`` differ by an ulp. The compiled scene's extensions are
mirrored too: scale is two tracks, ``sx`` and ``sy`` (an ``xy`` scale drives both), an animation in a looped
sequence (``cycle``) restarts every cycle, and the ``pos`` track is the centre (Pixi's ``position`` is the centre
plus the ``pivot`` offset, :func:`position`).

It also decides how long an export of a scene that loops forever is (:func:`loop_plan`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from text2pixi.core import scene as s
from text2pixi.core.colors import color_to_hex

CYCLE_CAP_S = 10.0
"""A loop's export is the intro plus one common cycle; past this length only the longest single loop is kept."""
MAX_EXPORT_S = 60.0
"""No export is longer than this (a scene may repeat 100 times a 60-second animation)."""
STILL_S = 1.0
"""A scene without animations exports as a still of this length."""

Value = tuple[float, ...]


def _bounce(t: float) -> float:
    n, d = 7.5625, 2.75
    if t < 1 / d:
        return n * t * t
    if t < 2 / d:
        t -= 1.5 / d
        return n * t * t + 0.75
    if t < 2.5 / d:
        t -= 2.25 / d
        return n * t * t + 0.9375
    t -= 2.625 / d
    return n * t * t + 0.984375


def _elastic(t: float) -> float:
    if t in (0, 1):
        return t
    return math.pow(2, -10 * t) * math.sin((t * 10 - 0.75) * ((2 * math.pi) / 3)) + 1


EASE: dict[str, Callable[[float], float]] = {
    "linear": lambda t: t,
    "easeIn": lambda t: t * t * t,
    "easeOut": lambda t: 1 - math.pow(1 - t, 3),
    "easeInOut": lambda t: 4 * t * t * t if t < 0.5 else 1 - math.pow(-2 * t + 2, 3) / 2,
    "bounce": _bounce,
    "elastic": _elastic,
    "back": lambda t: 1 + 2.70158 * math.pow(t - 1, 3) + 1.70158 * math.pow(t - 1, 2),
}
"""The runtime's ``EASE`` table, formula for formula."""


def rgb(color: str) -> Value:
    hexa = color_to_hex(color)
    return tuple(float(int(hexa[i:i + 2], 16)) for i in (1, 3, 5))


@dataclass
class Tween:
    """One animation on its track, with the ``from``/``to`` the runtime resolves when it starts."""

    anim: Any
    to: Value
    start: Value = ()

    @property
    def delay(self) -> float:
        return float(self.anim.delay)

    @property
    def end(self) -> float:
        """When it stops changing: ``inf`` for one that repeats forever (or whose cycle does)."""
        a, cycle = self.anim, self.anim.cycle
        if a.repeat < 0 or (cycle is not None and cycle.times < 0):
            return math.inf
        last = 0.0 if cycle is None else cycle.every * (cycle.times - 1)
        return float(last + a.delay + a.dur * (a.repeat + 1))

    @property
    def period(self) -> float:
        """The time after which it repeats itself exactly (a yoyo needs two runs; a looped sequence, a cycle)."""
        if self.anim.cycle is not None:
            return float(self.anim.cycle.every)
        return float(self.anim.dur * (2 if self.anim.yoyo else 1))

    @property
    def loop_start(self) -> float:
        """When a tween that never ends starts repeating: its delay, or its cycle's start."""
        return float(self.anim.delay if self.anim.cycle is None else self.anim.cycle.start)

    def local_time(self, t: float) -> float | None:
        """The runtime's ``localTime(a, t)``: seconds into the animation (in this cycle), or ``None``."""
        a, c = self.anim, self.anim.cycle
        if c is None:
            return None if t - a.delay < 0 else t - a.delay
        g = t - c.start
        if g < 0:
            return None
        n = math.floor(g / c.every)
        if c.times >= 0 and n >= c.times:
            return float(a.dur * (a.repeat + 1))
        local = g - n * c.every - (a.delay - c.start)
        return None if local < 0 else float(local)

    def progress(self, t: float) -> float | None:
        """The runtime's ``progress(a, t)``: eased progress, or ``None`` before the delay (in this cycle)."""
        a = self.anim
        local = self.local_time(t)
        if local is None:
            return None
        cycles = math.inf if a.repeat < 0 else a.repeat + 1
        cycle = math.floor(local / a.dur)
        p = (local - cycle * a.dur) / a.dur
        if cycle >= cycles:
            cycle, p = int(cycles - 1), 1.0
        if a.yoyo and cycle % 2 == 1:
            p = 1 - p
        return EASE[a.ease](p)


PROPS = ("pos", "angle", "sx", "sy", "alpha", "tint")
"""The runtime's tracks' properties (``PROPS`` in runtime.js)."""
AXES: dict[str, tuple[str, ...]] = {"xy": ("sx", "sy"), "x": ("sx",), "y": ("sy",)}


def prop_of(anim: Any) -> str:
    """The runtime property an animation drives (codegen's ``_anim_data``; ``scale`` is split by :func:`props_of`)."""
    kinds: dict[str, str] = {"move": "pos", "rotate": "angle", "scale": "scale", "fade": "alpha", "color": "tint"}
    return kinds[anim.type]


def props_of(anim: Any) -> tuple[str, ...]:
    """The tracks an animation drives, as ``animate()`` splits it: a scale drives ``sx``, ``sy`` or both."""
    prop = prop_of(anim)
    return AXES[anim.axis] if prop == "scale" else (prop,)


@dataclass
class Track:
    """Every animation of one property of one object, in the order the runtime applies them."""

    target: str
    prop: str
    initial: Value
    tweens: list[Tween]

    def value(self, t: float, upto: int | None = None) -> Value:
        """The runtime's ``valueAt``: the value of the last started tween (among the first ``upto``)."""
        v = self.initial
        for tween in self.tweens[: len(self.tweens) if upto is None else upto]:
            p = tween.progress(t)
            if p is not None:
                v = tuple(a + (b - a) * p for a, b in zip(tween.start, tween.to, strict=True))
        return v


def initial_value(obj: Any, prop: str) -> Value:
    """What ``place()`` sets before any animation: centre (a line's midpoint), angle, scale 1, alpha, colour."""
    if prop == "pos":
        if isinstance(obj, s.Line):
            return ((obj.x + obj.x2) / 2, (obj.y + obj.y2) / 2)
        return (float(obj.x), float(obj.y))
    if prop == "angle":
        return (float(obj.rot),)
    if prop in ("sx", "sy", "scale"):
        return (1.0,)
    if prop == "alpha":
        return (float(obj.alpha),)
    return rgb(obj.color)


def position(obj: Any, centre: Sequence[float]) -> tuple[float, float]:
    """Pixi's ``position`` for a ``pos`` track value: the centre plus the pivot offset (the runtime's write)."""
    px, py = obj.pivot if obj.pivot is not None else (0.0, 0.0)
    return (centre[0] + px, centre[1] + py)


def tracks(scene: s.Scene) -> dict[tuple[str, str], Track]:
    """The runtime's tracks, keyed by (object id, property); ``from``/``to`` resolved as ``animate()`` does."""
    objects = {o.id: o for o in scene.objects}
    result: dict[tuple[str, str], Track] = {}
    for anim in scene.anims:
        for prop in props_of(anim):
            key = (anim.target, prop)
            if key not in result:
                result[key] = Track(anim.target, prop, initial_value(objects[anim.target], prop), [])
            result[key].tweens.append(Tween(anim, ()))
    for track in result.values():
        track.tweens.sort(key=lambda tw: tw.delay)  # stable, as Array.prototype.sort
        for k, tween in enumerate(track.tweens):
            tween.start = track.value(tween.delay, k)
            a = tween.anim
            if isinstance(a, s.Move):
                tween.to = (float(a.x), float(a.y))
            elif isinstance(a, s.Rotate):
                tween.to = (tween.start[0] + a.by,)
            elif isinstance(a, s.Tint):
                tween.to = rgb(a.to)
            else:
                tween.to = (float(a.to),)
    return result


def breakpoints(track: Track, until: float) -> list[float]:
    """Times in ``[0, until]`` where the track's value may jump or change its formula (every cycle's too)."""
    times: set[float] = set()
    for tween in track.tweens:
        a, c = tween.anim, tween.anim.cycle
        for first in _starts(a, until):
            if c is not None and first - (a.delay - c.start) <= until:
                times.add(float(first - (a.delay - c.start)))  # the cycle restarts: the tween resets
            n = 0
            while True:
                b = first + n * a.dur
                if b > until or (a.repeat >= 0 and n > a.repeat + 1):
                    break
                times.add(float(b))
                n += 1
    return sorted(times)


def _starts(anim: Any, until: float) -> list[float]:
    """When each run of an animation starts: its delay, or its delay in every cycle up to ``until``."""
    c = anim.cycle
    if c is None:
        return [float(anim.delay)]
    starts, n = [], 0
    while (c.times < 0 or n <= c.times) and c.start + n * c.every <= until:
        starts.append(float(anim.delay + n * c.every))
        n += 1
    return starts


@dataclass(frozen=True)
class LoopPlan:
    """How long an export is and why: ``start`` is when the steady loop begins, ``cycle`` its period."""

    duration: float
    loops: bool
    cycle: float | None
    start: float
    capped: bool


def _lcm(periods: Sequence[float]) -> float:
    total = Fraction(0)
    for period in periods:
        f = Fraction(period).limit_denominator(1000)
        total = f if total == 0 else Fraction(
            math.lcm(total.numerator * f.denominator, f.numerator * total.denominator),
            total.denominator * f.denominator,
        )
    return float(total)


def loop_plan(scene: s.Scene, duration: float | None = None) -> LoopPlan:
    """The export's length: as asked, else the scene's own, else (looping forever) the intro plus one cycle.

    Only the last animation on each track matters once it has started (it overrides the earlier ones), so the
    steady state begins when every track's last animation has started (a forever loop) or ended, and repeats
    with the least common multiple of the forever loops' periods. An animation of a looped sequence shows
    nothing of its own early in each cycle, so the earlier ones matter as well: its period is the cycle's
    ``every`` from the cycle's start. When that is longer than :data:`CYCLE_CAP_S` the export keeps the intro
    plus the longest single loop (it then does not loop seamlessly); nothing is longer than :data:`MAX_EXPORT_S`.
    """
    start, periods = 0.0, []
    for track in tracks(scene).values():
        for tween in reversed(track.tweens):
            if not math.isinf(tween.end):
                start = max(start, tween.end)  # from then on it holds its end state over the earlier ones
                break
            start = max(start, tween.loop_start)
            periods.append(tween.period)
            if tween.anim.cycle is None:
                break  # it never lets an earlier one show again
    cycle = _lcm(periods) if periods else None
    if duration is not None:
        return LoopPlan(float(duration), cycle is not None, cycle, start, False)
    if cycle is None:
        natural = start if scene.anims else STILL_S
        natural = natural if natural > 0 else STILL_S
        return LoopPlan(min(natural, MAX_EXPORT_S), False, None, start, natural > MAX_EXPORT_S)
    natural = start + cycle
    wanted = natural if natural <= CYCLE_CAP_S else max(CYCLE_CAP_S, start + max(periods))
    return LoopPlan(min(wanted, MAX_EXPORT_S), True, cycle, start, wanted < natural or wanted > MAX_EXPORT_S)
