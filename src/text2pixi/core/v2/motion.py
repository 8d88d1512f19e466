"""Each step verb to compiled tweens with an exact timeline, from the object's state when the step starts.

A compiled move has an absolute destination, so relative motion ("right by 100", "to the edge", "off",
"back") is resolved here against the state the object is in when its step starts (:class:`State`), and the
step returns the state it leaves behind. Tween delays are relative to the step's start; ``order.py`` makes
them absolute. ``docs/scene-v2.md`` lists each verb's timeline; the numbers below are the same.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, cast

from text2pixi.core.errors import SceneCompileError
from text2pixi.core.v2 import language as v
from text2pixi.core.v2.layout import RELATIONS, Box, relative, stage_anchor
from text2pixi.core.v2.shapes import Body

OFF_MARGIN = 10
"""Pixels past the stage edge where an object that leaves the stage (``off``, slide, fall off) stops."""
MAX_SCALE = 20.0

DIRECTIONS: dict[str, tuple[int, int]] = {
    "up": (0, -1), "down": (0, 1), "left": (-1, 0), "right": (1, 0),
    "up-left": (-1, -1), "up-right": (1, -1), "down-left": (-1, 1), "down-right": (1, 1),
    "north": (0, -1), "south": (0, 1), "west": (-1, 0), "east": (1, 0),
    "northwest": (-1, -1), "northeast": (1, -1), "southwest": (-1, 1), "southeast": (1, 1),
}
DUR = {"move": 1.0, "to": 1.0, "xy": 1.0, "rotate": 1.0, "scale": 1.0, "grow": 1.0, "shrink": 1.0, "fade": 1.0,
       "color": 1.0, "pulse": 1.0, "bounce": 0.8, "shake": 0.5, "float": 2.0, "blink": 0.5, "slide": 1.0,
       "fall": 1.0}
"""Default ``dur`` per verb: the whole step, or one repetition of a preset (spin: 2 s per turn)."""
EASE = {"move": "easeInOut", "to": "easeInOut", "xy": "easeInOut", "rotate": "easeInOut", "spin": "linear",
        "scale": "easeInOut", "grow": "easeInOut", "shrink": "easeInOut", "fade": "linear", "color": "linear",
        "pulse": "easeInOut", "bounce": "easeOut", "shake": "linear", "float": "easeInOut", "blink": "linear",
        "fall": "easeIn"}
"""Default ``ease`` per verb (slide: easeOut in, easeIn out; fall to the bottom: bounce)."""
LOOPING = ("spin", "pulse", "bounce", "float")
"""Presets that repeat forever when ``times`` is omitted, unless a later step follows them or they are looped."""


@dataclass(frozen=True)
class State:
    """An object's animated values at a moment: centre, angle, scale per axis, opacity, colour."""

    x: float
    y: float
    angle: float
    sx: float
    sy: float
    alpha: float
    color: str


@dataclass(frozen=True)
class Ctx:
    """What a step may look at besides the object's state."""

    item: str
    index: int
    stage_w: int
    stage_h: int
    body: Body
    home: tuple[float, float]
    alpha: float
    refs: dict[str, Box]
    last: bool
    looped: bool
    moved: bool
    faded: bool

    def fail(self, message: str) -> SceneCompileError:
        return SceneCompileError(message, item=self.item, step=self.index)


@dataclass
class Tween:
    """One compiled animation of one object; ``delay`` counts from the step's start."""

    kind: str
    fields: dict[str, Any]
    dur: float
    ease: str
    repeat: int = 0
    yoyo: bool = False
    delay: float = 0.0

    @property
    def end(self) -> float:
        return math.inf if self.repeat < 0 else self.delay + self.dur * (self.repeat + 1)

    @property
    def once(self) -> float:
        """Its end, counting a forever tween as one pass (two runs when it yoyos)."""
        if self.repeat >= 0:
            return self.end
        return self.delay + self.dur * (2 if self.yoyo else 1)


@dataclass
class StepOut:
    """A compiled step: its tweens, the state it leaves, and what it needs from the object at rest."""

    tweens: list[Tween]
    state: State
    wait: float = 0.0
    start_pos: tuple[int, int] | None = None
    start_alpha: float | None = None
    pivot: str | None = None
    moves: bool = False
    fades: bool = False

    @property
    def length(self) -> float:
        return max([self.wait] + [t.end for t in self.tweens])

    @property
    def once(self) -> float:
        return max([self.wait] + [t.once for t in self.tweens])


def _ends(start: float, to: float, repeat: int, yoyo: bool) -> float:
    """Where a tween from ``start`` to ``to`` rests after its runs (a yoyo with an even count returns)."""
    return start if yoyo and (repeat + 1) % 2 == 0 else to


def _repeat(step: Any, verb: str, ctx: Ctx) -> int:
    times = step.times
    if times is None:
        times = -1 if verb in LOOPING and ctx.last and not ctx.looped else 1
    return -1 if times < 0 else times - 1


def _half(state: State, ctx: Ctx) -> tuple[float, float]:
    return ctx.body.half(state.angle, state.sx, state.sy)


def _room(state: State, ctx: Ctx, dx: float, dy: float) -> list[tuple[float, float]]:
    """Per moving axis: (distance to the edge ahead before the box touches it, the box's full side)."""
    hw, hh = _half(state, ctx)
    out = []
    if dx:
        out.append(((ctx.stage_w - hw - state.x) if dx > 0 else (state.x - hw), 2 * hw))
    if dy:
        out.append(((ctx.stage_h - hh - state.y) if dy > 0 else (state.y - hh), 2 * hh))
    return out


def _move_target(step: v.MoveStep, state: State, ctx: Ctx) -> tuple[int, int]:
    ux, uy = DIRECTIONS[step.move]
    norm = math.hypot(ux, uy)
    comps = [c for c in (ux, uy) if c]
    if isinstance(step.by, int):
        dist = float(step.by)
        return round(state.x + ux / norm * dist), round(state.y + uy / norm * dist)
    room = _room(state, ctx, ux, uy)
    if step.by is None:
        mx, my = ux * ctx.stage_w / 4, uy * ctx.stage_h / 4
        t = min([1.0] + [max(0.0, r) / (abs(m)) for (r, _), m in zip(room, [m for m in (mx, my) if m], strict=True)])
        t = 1.0 if t < 0.5 else t
        return round(state.x + mx * t), round(state.y + my * t)
    extra = [(r + (side + OFF_MARGIN if step.by == "off" else 0)) for r, side in room]
    dist = max(0.0, min(e / (abs(c) / norm) for e, c in zip(extra, comps, strict=True)))
    return round(state.x + ux / norm * dist), round(state.y + uy / norm * dist)


def _to_target(step: v.ToStep, state: State, ctx: Ctx) -> tuple[int, int]:
    if isinstance(step.to, list):
        return round(step.to[0] * ctx.stage_w), round(step.to[1] * ctx.stage_h)
    if step.to == "start":
        if step.of is not None:
            raise ctx.fail("\"to\":\"start\" goes back to the item's own start; drop \"of\"")
        return round(ctx.home[0]), round(ctx.home[1])
    hw, hh = _half(state, ctx)
    if step.of is None:
        if step.to in ("above", "below", "on"):
            raise ctx.fail(f"\"to\":{step.to!r} needs \"of\" with another item's id")
        x, y = stage_anchor(cast(v.Anchor, step.to), ctx.stage_w, ctx.stage_h, hw, hh)
        return round(x), round(y)
    if step.of not in ctx.refs:
        raise ctx.fail(f"\"of\":{step.of!r} is not an item id (ids: {', '.join(ctx.refs)})")
    relation = {"top": "above", "bottom": "below", "center": "on"}.get(step.to, step.to)
    if relation not in RELATIONS:
        raise ctx.fail(f"\"to\":{step.to!r} with \"of\" must be one of {', '.join(RELATIONS)}")
    x, y = relative(relation, ctx.refs[step.of], hw, hh, 20 if step.gap is None else step.gap)
    return round(x), round(y)


def _move(state: State, dest: tuple[int, int], dur: float, ease: str, repeat: int, yoyo: bool) -> StepOut:
    tween = Tween("move", {"x": dest[0], "y": dest[1]}, dur, ease, repeat, yoyo)
    x, y = _ends(state.x, dest[0], repeat, yoyo), _ends(state.y, dest[1], repeat, yoyo)
    return StepOut([tween], replace(state, x=x, y=y), moves=True)


def _scale(state: State, ctx: Ctx, axis: str, to_x: float, to_y: float, dur: float, ease: str, repeat: int,
           yoyo: bool, about: str | None) -> StepOut:
    """Scale tweens to (to_x, to_y): one ``xy`` tween when both axes end equal, else one per axis."""
    if max(to_x, to_y) > MAX_SCALE:
        raise ctx.fail(f"this makes the item {max(to_x, to_y):g} times its size; at most {MAX_SCALE:g}")
    tweens: list[Tween] = []
    if axis == "xy" and to_x == to_y:
        tweens.append(Tween("scale", {"to": to_x}, dur, ease, repeat, yoyo))
    else:
        if axis in ("xy", "x"):
            tweens.append(Tween("scale", {"to": to_x, "axis": "x"}, dur, ease, repeat, yoyo))
        if axis in ("xy", "y"):
            tweens.append(Tween("scale", {"to": to_y, "axis": "y"}, dur, ease, repeat, yoyo))
    sx = _ends(state.sx, to_x, repeat, yoyo) if axis != "y" else state.sx
    sy = _ends(state.sy, to_y, repeat, yoyo) if axis != "x" else state.sy
    return StepOut(tweens, replace(state, sx=sx, sy=sy), pivot=about)


def _off_point(side: str, state: State, ctx: Ctx) -> tuple[int, int]:
    hw, hh = _half(state, ctx)
    if side == "left":
        return round(-hw - OFF_MARGIN), round(state.y)
    if side == "right":
        return round(ctx.stage_w + hw + OFF_MARGIN), round(state.y)
    if side == "top":
        return round(state.x), round(-hh - OFF_MARGIN)
    return round(state.x), round(ctx.stage_h + hh + OFF_MARGIN)


def compile_step(step: Any, state: State, ctx: Ctx) -> StepOut:
    """The tweens of one step started in ``state``, and the state after it."""
    if isinstance(step, v.WaitStep):
        return StepOut([], state, wait=step.wait)
    verb = v.verb_of(step)
    dur = step.dur if step.dur is not None else DUR.get(verb, 1.0)
    ease = step.ease
    repeat = _repeat(step, verb, ctx)
    yoyo = step.yoyo
    if isinstance(step, v.MoveStep):
        return _move(state, _move_target(step, state, ctx), dur, ease or EASE[verb], repeat, yoyo)
    if isinstance(step, v.ToStep):
        return _move(state, _to_target(step, state, ctx), dur, ease or EASE[verb], repeat, yoyo)
    if isinstance(step, v.XyStep):
        return _move(state, (step.xy[0], step.xy[1]), dur, ease or EASE[verb], repeat, yoyo)
    if isinstance(step, v.SpinStep | v.RotateStep):
        if isinstance(step, v.SpinStep):
            by = round(360 * step.turns) * (-1 if step.spin == "ccw" else 1)
            dur = step.dur if step.dur is not None else 2.0 * step.turns
        else:
            by = step.rotate * (-1 if step.dir == "ccw" else 1)
        if abs(by) > 36000:
            raise ctx.fail(f"a turn of {by} degrees is too large; at most 36000 (100 turns)")
        tween = Tween("rotate", {"by": by}, dur, ease or EASE[verb], repeat, yoyo)
        angle = state.angle if yoyo and (repeat + 1) % 2 == 0 else state.angle + by
        return StepOut([tween], replace(state, angle=angle), pivot=step.about)
    if isinstance(step, v.ScaleStep):
        return _scale(state, ctx, step.axis, step.scale, step.scale, dur, ease or EASE[verb], repeat, yoyo,
                      step.about)
    if isinstance(step, v.GrowStep | v.ShrinkStep):
        f = step.grow if isinstance(step, v.GrowStep) else (step.shrink if step.shrink <= 1 else 1 / step.shrink)
        return _scale(state, ctx, step.axis, state.sx * f, state.sy * f, dur, ease or EASE[verb], repeat, yoyo,
                      step.about)
    if isinstance(step, v.FadeStep):
        start_alpha = None
        if step.fade == "in":
            to = ctx.alpha if ctx.alpha > 0 else 1.0
            if not ctx.faded:
                start_alpha = 0.0
        else:
            to = 0.0 if step.fade == "out" else float(step.fade)
        out = StepOut([Tween("fade", {"to": to}, dur, ease or EASE[verb], repeat, yoyo)],
                      replace(state, alpha=_ends(0.0 if start_alpha == 0 else state.alpha, to, repeat, yoyo)),
                      start_alpha=start_alpha, fades=True)
        return out
    if isinstance(step, v.ColorStep):
        end = state.color if yoyo and (repeat + 1) % 2 == 0 else step.color
        return StepOut([Tween("color", {"to": step.color}, dur, ease or EASE[verb], repeat, yoyo)],
                       replace(state, color=end))
    return _preset(step, verb, state, ctx, dur, ease, repeat)


def _twice(repeat: int, runs: int = 2) -> int:
    """Repeat count for a preset whose one play is ``runs`` runs of a yoyo tween."""
    return -1 if repeat < 0 else runs * (repeat + 1) - 1


def _preset(step: Any, verb: str, state: State, ctx: Ctx, dur: float, ease: str | None, repeat: int) -> StepOut:
    """pulse, bounce, shake, float, blink, slide, fall: fixed shapes of time, documented in docs/scene-v2.md."""
    x, y = round(state.x), round(state.y)
    if isinstance(step, v.PulseStep):
        out = _scale(state, ctx, "xy", state.sx * step.pulse, state.sy * step.pulse, dur / 2, ease or EASE[verb],
                     _twice(repeat), True, None)
        out.state = state
        return out
    if isinstance(step, v.BounceStep | v.FloatStep):
        h = step.bounce if isinstance(step, v.BounceStep) else step.float_
        tween = Tween("move", {"x": x, "y": y - h}, dur / 2, ease or EASE[verb], _twice(repeat), True)
        return StepOut([tween], replace(state, x=x, y=y), moves=True)
    if isinstance(step, v.ShakeStep):
        a, e = step.shake, ease or EASE[verb]
        tweens = [Tween("move", {"x": x + a, "y": y}, dur / 10, e),
                  Tween("move", {"x": x - a, "y": y}, dur / 5, e, _twice(repeat, 4), True, dur / 10)]
        if repeat >= 0:
            tweens.append(Tween("move", {"x": x, "y": y}, dur / 10, e, 0, False, tweens[1].end))
        return StepOut(tweens, replace(state, x=x, y=y), moves=True)
    if isinstance(step, v.BlinkStep):
        blinks = -1 if repeat < 0 else step.blink * (repeat + 1) - 1
        tween = Tween("fade", {"to": 0.0}, dur / 2, ease or EASE[verb], _twice(blinks), True)
        return StepOut([tween], state, fades=True)
    if isinstance(step, v.SlideStep):
        if step.slide == "in":
            if ctx.moved:
                raise ctx.fail("slide in starts off-stage, so it must be the item's first movement; "
                               "put it before the other moves or use \"to\"")
            side = step.side or "left"
            start = _off_point(side, state, ctx)
            out = _move(state, (x, y), dur, ease or "easeOut", repeat, step.yoyo)
            out.start_pos = start
            return out
        return _move(state, _off_point(step.side or "right", state, ctx), dur, ease or "easeIn", repeat, step.yoyo)
    assert isinstance(step, v.FallStep)
    _, hh = _half(state, ctx)
    if step.fall == "bottom":
        return _move(state, (x, round(ctx.stage_h - hh)), dur, ease or "bounce", repeat, step.yoyo)
    return _move(state, _off_point("bottom", state, ctx), dur, ease or EASE[verb], repeat, step.yoyo)
