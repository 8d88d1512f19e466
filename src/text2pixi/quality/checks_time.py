"""Quality checks on when things happen, read from the timeline: sequences of steps, loops of a whole sequence,
before/while/after between two objects' motions, and the repeating presets (oscillations and spins).

Each model is one ``check = "..."`` of ``eval/prompts.toml``. A step is one animation's first run
(:class:`~text2pixi.quality.sampling.Span`); what it did is measured on the poses the page shows at its start
and end, so four moves written to run at once (the object goes nowhere) fail a sequence, as they should.
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from text2pixi.core.colors import color_matches
from text2pixi.core.scene import Scene, SceneObject
from text2pixi.quality.check_base import BaseCheck, SelectingCheck
from text2pixi.quality.checks_space import Compass
from text2pixi.quality.sampling import (
    Leg,
    Pose,
    SceneTimeline,
    Span,
    angle_between,
    direction_vector,
    legs,
    unwrapped,
)
from text2pixi.quality.selectors import MIN_MOVE_PX, Family, Selector

StepKind = Literal["move", "rotate", "scale", "fade", "color"]
SLACK_S = 0.1  # seconds a step may start before the previous one ends and still count as "then"


class Step(BaseModel):
    """One step of a sequence: an animation kind and what it must do (direction, distance, way, colour)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: StepKind
    direction: Compass | Literal["cw", "ccw"] | None = None
    distance: float | None = Field(None, gt=0)
    way: Literal["in", "out", "grow", "shrink"] | None = None
    to: Family | None = None

    def describe(self) -> str:
        return " ".join(str(v) for v in (self.kind, self.direction, self.distance, self.way, self.to) if v)

    def done_by(self, leg: Leg) -> bool:
        """Did this leg do the step? Compared on the poses at its start and end."""
        a, b = leg.a, leg.b
        if leg.kind != self.kind:
            return False
        if self.kind == "move":
            dx, dy = b.x - a.x, b.y - a.y
            dist = math.hypot(dx, dy)
            ok = dist >= MIN_MOVE_PX
            if self.direction is not None and self.direction not in ("cw", "ccw"):
                ok = ok and angle_between(dx, dy, direction_vector(self.direction)) <= 30
            return ok and (self.distance is None or abs(dist - self.distance) <= 0.15 * self.distance)
        if self.kind == "rotate":
            turn = b.angle - a.angle
            return abs(turn) >= 5 and (self.direction != "cw" or turn > 0) and (self.direction != "ccw" or turn < 0)
        if self.kind == "scale":
            rx, ry = b.sx / max(a.sx, 1e-6), b.sy / max(a.sy, 1e-6)
            grow, shrink = max(rx, ry) >= 1.1, min(rx, ry) <= 0.9
            return {"grow": grow, "shrink": shrink}.get(self.way or "", grow or shrink)
        if self.kind == "fade":
            return {"in": b.alpha >= a.alpha + 0.3, "out": b.alpha <= a.alpha - 0.3}.get(
                self.way or "", abs(b.alpha - a.alpha) >= 0.3)
        color = "#" + "".join(f"{round(v):02x}" for v in b.color)
        return a.color != b.color and (self.to is None or color_matches(color, self.to))


class Sequence(SelectingCheck):
    """Each selected object does ``steps`` in this order, each starting once the previous one has ended
    (steps are matched to the object's legs of visible change, so other legs in between do not matter)."""

    check: Literal["sequence"]
    CATEGORY: ClassVar[str] = "timing"
    steps: list[Step] = Field(min_length=2, max_length=8)

    def label(self) -> str:
        return f"{self.selector.describe()}: " + " then ".join(s.describe() for s in self.steps)

    def _test(self, scene: Scene) -> tuple[bool, str]:
        view = SceneTimeline(scene)

        def test(o: SceneObject) -> tuple[bool, str]:
            found = legs(view, o)
            previous_end, done = -math.inf, 0
            for step in self.steps:
                fits = [leg for leg in found if leg.start >= previous_end - SLACK_S and step.done_by(leg)]
                if not fits:
                    break
                previous_end = min(leg.end for leg in fits)
                done += 1
            seen = ", ".join(f"{leg.kind} {leg.start:.2f}-{leg.end:.2f}s" + (
                f" ({leg.b.x - leg.a.x:+.0f},{leg.b.y - leg.a.y:+.0f})" if leg.kind == "move" else "")
                for leg in found[:12]) or "nothing changes"
            return done == len(self.steps), f"{o.id}: {done}/{len(self.steps)} steps in order; legs: {seen}"
        return self._each(scene, test)


def _same(a: Pose, b: Pose) -> bool:
    return (abs(a.x - b.x) <= 2 and abs(a.y - b.y) <= 2 and abs(a.angle - b.angle) % 360 <= 2
            and abs(a.sx - b.sx) <= 0.02 and abs(a.sy - b.sy) <= 0.02 and abs(a.alpha - b.alpha) <= 0.03
            and all(abs(p - q) <= 3 for p, q in zip(a.color, b.color, strict=True)))


class Loop(SelectingCheck):
    """Each selected object repeats its whole sequence: from its first animation on, its poses repeat with some
    period (at least ``min_legs`` legs of change per period), ``times`` times or forever (-1)."""

    check: Literal["loop"]
    CATEGORY: ClassVar[str] = "timing"
    times: int = Field(-1, ge=-1, le=100)
    min_legs: int = Field(2, ge=1, le=16)

    def label(self) -> str:
        return f"{self.selector.describe()} loops {'forever' if self.times < 0 else f'{self.times} times'}"

    def _periods(self, spans: list[Span]) -> list[float]:
        found = {float(sp.anim.dur) * k for sp in spans for k in (1, 2)}
        found |= {float(c.every) for sp in spans if (c := getattr(sp.anim, "cycle", None)) is not None}
        edges = [sp.start for sp in spans] + [sp.end for sp in spans if math.isfinite(sp.end)]
        found |= {b - a for a in edges for b in edges if b - a > 0.05}
        return sorted(p for p in found if p > 0.05)

    def _periodic(self, view: SceneTimeline, o: SceneObject, t0: float, period: float, reps: int) -> bool:
        step = max(period / 40, 0.01)
        probe = [t0 + k * step for k in range(int(period * (reps - 1) / step) + 1)]
        if not all(_same(view.pose(o, t), view.pose(o, t + period)) for t in probe):
            return False
        first = [view.pose(o, t0 + k * step) for k in range(int(period / step))]
        return any(not _same(first[0], p) for p in first)

    def _test(self, scene: Scene) -> tuple[bool, str]:
        view = SceneTimeline(scene)

        def test(o: SceneObject) -> tuple[bool, str]:
            spans = view.spans(o)
            if not spans:
                return False, f"{o.id}: no animation"
            t0 = spans[0].start
            reps = self.times if self.times > 0 else 3
            found = legs(view, o)
            for period in self._periods(spans):
                in_cycle = [leg for leg in found if t0 - 1e-6 <= leg.start < t0 + period - 1e-6]
                if len(in_cycle) < self.min_legs or not self._periodic(view, o, t0, period, max(reps, 2)):
                    continue
                if self.times < 0 and not (view.forever() and self._periodic(view, o, t0 + 10 * period, period, 2)):
                    continue
                return True, ""
            return False, f"{o.id}: no repeat of its {len(spans)} animation(s) from {t0:g}s found"
        return self._each(scene, test)


class Interval(BaseCheck):
    """Allen-style order of two activities: what ``a`` does (its ``a_kind`` animations, any by default) happens
    ``before``, ``after`` or ``while`` (overlapping by half the shorter) what ``b`` does, or starts ``together``."""

    check: Literal["interval"]
    CATEGORY: ClassVar[str] = "timing"
    a: Selector
    b: Selector
    a_kind: StepKind | None = None
    b_kind: StepKind | None = None
    rel: Literal["before", "after", "while", "together"]

    def label(self) -> str:
        return (f"{self.a.describe()} {self.a_kind or 'anim'} {self.rel} "
                f"{self.b.describe()} {self.b_kind or 'anim'}")

    @staticmethod
    def _interval(view: SceneTimeline, obj: SceneObject, kind: str | None) -> tuple[float, float] | None:
        spans = view.spans(obj, kind)
        return (min(sp.start for sp in spans), max(sp.end for sp in spans)) if spans else None

    def _holds(self, p: tuple[float, float], q: tuple[float, float]) -> bool:
        if self.rel == "before":
            return p[1] <= q[0] + SLACK_S
        if self.rel == "after":
            return p[0] >= q[1] - SLACK_S
        if self.rel == "together":
            return abs(p[0] - q[0]) <= 0.25
        overlap = min(p[1], q[1]) - max(p[0], q[0])
        shorter = min(p[1] - p[0], q[1] - q[0])
        return overlap > 0 and (math.isinf(overlap) or overlap >= 0.5 * shorter)

    def _test(self, scene: Scene) -> tuple[bool, str]:
        view = SceneTimeline(scene)
        pairs = [(p, q) for p in self.a.select_some(scene) for q in self.b.select_some(scene)
                 if p.id != q.id or self.a_kind != self.b_kind]
        if not pairs:
            return False, "no pair"
        bad = []
        for p, q in pairs:
            ip, iq = self._interval(view, p, self.a_kind), self._interval(view, q, self.b_kind)
            if ip is None or iq is None or not self._holds(ip, iq):
                bad.append(f"{p.id} {ip} vs {q.id} {iq}")
        return not bad, "fails for " + "; ".join(bad)


Prop = Literal["x", "y", "angle", "scale", "alpha"]


def _read(prop: str, pose: Pose) -> float:
    return {"x": pose.x, "y": pose.y, "angle": pose.angle, "scale": max(pose.sx, pose.sy), "alpha": pose.alpha}[prop]


class Oscillate(SelectingCheck):
    """Each selected object swings back and forth in one of ``props`` (bounce, shake, float, pulse, blink):
    at least ``min_swings`` reversals, a peak-to-peak range within ``min_range``..``max_range``, forever if asked."""

    check: Literal["oscillate"]
    CATEGORY: ClassVar[str] = "motion"
    props: list[Prop] = Field(min_length=1)
    min_swings: int = Field(2, ge=1)
    min_range: float = Field(0.0, ge=0)
    max_range: float | None = None
    forever: bool = False

    @property
    def category(self) -> str:
        first = self.props[0]
        return "motion" if first in ("x", "y") else "rotation" if first == "angle" else "effect"

    def label(self) -> str:
        rng = f" range {self.min_range:g}..{self.max_range if self.max_range is not None else ''}"
        return f"{self.selector.describe()} oscillates in {'/'.join(self.props)}{rng}" + \
            (" forever" if self.forever else "")

    @staticmethod
    def _swings(values: list[float]) -> tuple[int, float]:
        """Reversals of direction (each beyond 10 % of the range, so noise is not a swing) and the range."""
        lo, hi = min(values), max(values)
        hysteresis = max(0.1 * (hi - lo), 1e-9)
        ref, trend, swings = values[0], 0, 0
        for v in values:
            if trend == 0 and abs(v - ref) > hysteresis:
                trend, ref = (1 if v > ref else -1), v
            elif trend and (v - ref) * trend > 0:
                ref = v
            elif trend and abs(v - ref) > hysteresis:
                swings, trend, ref = swings + 1, -trend, v
        return swings, hi - lo

    def _test(self, scene: Scene) -> tuple[bool, str]:
        view = SceneTimeline(scene)

        def test(o: SceneObject) -> tuple[bool, str]:
            found = []
            poses = unwrapped([view.pose(o, t) for t in view.times()])
            for prop in self.props:
                swings, rng = self._swings([_read(prop, p) for p in poses])
                ok = swings >= self.min_swings and rng >= self.min_range and \
                    (self.max_range is None or rng <= self.max_range) and (not self.forever or view.forever())
                if ok:
                    return True, ""
                found.append(f"{prop}: {swings} reversal(s), range {rng:.2f}")
            return False, f"{o.id}: " + "; ".join(found)
        return self._each(scene, test)


class Spin(SelectingCheck):
    """Each selected object keeps turning one way (no back-and-forth): at least ``min_turns`` in the watched time,
    in ``direction``, and without end if ``forever``."""

    check: Literal["spin"]
    CATEGORY: ClassVar[str] = "rotation"
    min_turns: float = Field(1.0, gt=0)
    direction: Literal["cw", "ccw"] | None = None
    forever: bool = False

    def label(self) -> str:
        return f"{self.selector.describe()} spins {self.direction or ''} >= {self.min_turns:g} turn(s)" + \
            (" forever" if self.forever else "")

    def _test(self, scene: Scene) -> tuple[bool, str]:
        view = SceneTimeline(scene)

        def test(o: SceneObject) -> tuple[bool, str]:
            angles = [p.angle for p in unwrapped([view.pose(o, t) for t in view.times()])]
            steps = [b - a for a, b in zip(angles, angles[1:], strict=False)]
            forward, backward = sum(d for d in steps if d > 0), -sum(d for d in steps if d < 0)
            cw = self.direction == "cw" or (self.direction is None and forward >= backward)
            main, other = (forward, backward) if cw else (backward, forward)
            ok = main >= 360 * self.min_turns - 1 and other <= 5
            if self.forever:
                ok = ok and any(math.isinf(sp.end) for sp in view.spans(o, "rotate"))
            return ok, f"{o.id}: turned {forward:.0f} deg cw, {backward:.0f} deg ccw"
        return self._each(scene, test)
