"""Quality checks on what a scene's animations do: move, turn, fade, scale, change colour, and when.

Each model is one ``check = "..."`` of ``eval/prompts.toml`` (see :mod:`text2pixi.quality.cases`).
Directions are strict (a move must go at least :data:`~text2pixi.quality.selectors.MIN_MOVE_PX` that
way); rotation is in degrees clockwise, as in :mod:`text2pixi.core.scene`.
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from text2pixi.core.colors import color_matches
from text2pixi.core.scene import Animation, Fade, Rotate, Scale, Scene, SceneObject, Tint
from text2pixi.quality.check_base import SelectingCheck
from text2pixi.quality.selectors import Direction, Family, anims_of, goes, moves_with_origin

AnimKind = Literal["move", "rotate", "scale", "fade", "color"]


def _forever(a: Animation) -> bool:
    """Repeats forever, by itself or as part of a looped sequence (a compiled scene's ``cycle``)."""
    cycle = getattr(a, "cycle", None)
    return a.repeat == -1 or (cycle is not None and cycle.times < 0)


class Motion(SelectingCheck):
    """The selected objects move in ``direction`` (some move of theirs does), or not at all (``none``)."""

    check: Literal["motion"]
    CATEGORY: ClassVar[str] = "motion"
    direction: Direction | Literal["none"]

    def label(self) -> str:
        return f"{self.selector.describe()} moves {self.direction}"

    def _test(self, scene: Scene) -> tuple[bool, str]:
        def test(o: SceneObject) -> tuple[bool, str]:
            moves = moves_with_origin(scene, o)
            if self.direction == "none":
                return not moves, f"{o.id} has {len(moves)} move(s)"
            ok = any(goes(m.x - x, m.y - y, self.direction) for m, x, y in moves)
            steps = ", ".join(f"({x},{y})->({m.x},{m.y})" for m, x, y in moves) or "no move"
            return ok, f"{o.id}: {steps}"
        return self._each(scene, test)


class Rotation(SelectingCheck):
    """The selected objects turn (an animation), or are drawn tilted (``static``)."""

    check: Literal["rotation"]
    CATEGORY: ClassVar[str] = "rotation"
    min_deg: float = 1
    max_deg: float | None = None
    direction: Literal["cw", "ccw"] | None = None
    forever: bool = False
    static: bool = False

    def label(self) -> str:
        what = "tilted" if self.static else "turns"
        extra = "".join([f" {self.direction}" if self.direction else "", " forever" if self.forever else ""])
        rng = f"{self.min_deg:g}..{self.max_deg:g}" if self.max_deg is not None else f">={self.min_deg:g}"
        return f"{self.selector.describe()} {what} {rng} deg{extra}"

    def _angle_ok(self, deg: float) -> bool:
        if self.direction == "cw" and deg <= 0 or self.direction == "ccw" and deg >= 0:
            return False
        return abs(deg) >= self.min_deg and (self.max_deg is None or abs(deg) <= self.max_deg)

    def _test(self, scene: Scene) -> tuple[bool, str]:
        def test(o: SceneObject) -> tuple[bool, str]:
            if self.static:
                return self._angle_ok(o.rot), f"{o.id} rot={o.rot}"
            turns = anims_of(scene, o.id, Rotate)
            ok = any(self._angle_ok(a.by) and (not self.forever or _forever(a)) for a in turns)
            # a finite turn that repeats without going back turns by each play ("spins twice": 360 twice), and
            # turns that follow one another add up
            whole = [a.by * (a.repeat + 1) for a in turns if a.repeat >= 0 and not a.yoyo]
            ok = ok or (not self.forever and len(whole) > 0 and self._angle_ok(sum(whole)))
            return ok, f"{o.id}: " + (", ".join(f"by {a.by} repeat {a.repeat}" for a in turns) or "no rotate")
        return self._each(scene, test)


class FadeCheck(SelectingCheck):
    """Fades out (to <= 0.3 from higher) or in (from <= 0.3 to >= 0.7)."""

    check: Literal["fade"]
    CATEGORY: ClassVar[str] = "effect"
    way: Literal["in", "out"]

    def label(self) -> str:
        return f"{self.selector.describe()} fades {self.way}"

    def _test(self, scene: Scene) -> tuple[bool, str]:
        def test(o: SceneObject) -> tuple[bool, str]:
            fades = anims_of(scene, o.id, Fade)
            if self.way == "out":
                ok = any(f.to <= 0.3 and o.alpha > f.to for f in fades)
            else:
                ok = o.alpha <= 0.3 and any(f.to >= 0.7 for f in fades)
            return ok, f"{o.id}: alpha {o.alpha} -> " + (", ".join(f"{f.to}" for f in fades) or "no fade")
        return self._each(scene, test)


class ScaleCheck(SelectingCheck):
    """Grows (to >= ``factor``, default 1.2) or shrinks (to <= 1/``factor``)."""

    check: Literal["scale"]
    CATEGORY: ClassVar[str] = "effect"
    way: Literal["grow", "shrink"]
    factor: float = Field(1.2, gt=1.0)

    def label(self) -> str:
        return f"{self.selector.describe()} {self.way}s (x{self.factor:g})"

    def _test(self, scene: Scene) -> tuple[bool, str]:
        def test(o: SceneObject) -> tuple[bool, str]:
            scales = anims_of(scene, o.id, Scale)
            ok = any(s.to >= self.factor if self.way == "grow" else s.to <= 1 / self.factor for s in scales)
            return ok, f"{o.id}: " + (", ".join(f"to {s.to}" for s in scales) or "no scale")
        return self._each(scene, test)


class Recolor(SelectingCheck):
    """The selected objects change colour to the ``want`` family."""

    check: Literal["recolor"]
    CATEGORY: ClassVar[str] = "effect"
    want: Family

    def label(self) -> str:
        return f"{self.selector.describe()} turns {self.want}"

    def _test(self, scene: Scene) -> tuple[bool, str]:
        def test(o: SceneObject) -> tuple[bool, str]:
            tints = anims_of(scene, o.id, Tint)
            return any(color_matches(t.to, self.want) for t in tints), \
                f"{o.id}: " + (", ".join(t.to for t in tints) or "no colour change")
        return self._each(scene, test)


class Timing(SelectingCheck):
    """Some animation (of ``anim`` type) of each selected object runs with these duration/delay/repeat."""

    check: Literal["timing"]
    CATEGORY: ClassVar[str] = "timing"
    anim: AnimKind | None = None
    min_dur: float | None = None
    max_dur: float | None = None
    min_delay: float | None = None
    max_delay: float | None = None
    forever: bool = False

    def label(self) -> str:
        parts: list[str] = [self.anim or "anim"]
        if self.min_dur is not None or self.max_dur is not None:
            parts.append(f"dur {self.min_dur or 0:g}..{self.max_dur if self.max_dur is not None else '':}")
        if self.min_delay is not None or self.max_delay is not None:
            parts.append(f"delay {self.min_delay or 0:g}..{self.max_delay if self.max_delay is not None else ''}")
        if self.forever:
            parts.append("forever")
        return f"{self.selector.describe()} {' '.join(parts)}"

    def _fits(self, a: Animation) -> bool:
        return ((self.anim is None or a.type == self.anim)
                and (self.min_dur is None or a.dur >= self.min_dur) and (self.max_dur is None or a.dur <= self.max_dur)
                and (self.min_delay is None or a.delay >= self.min_delay)
                and (self.max_delay is None or a.delay <= self.max_delay)
                and (not self.forever or _forever(a)))

    def _test(self, scene: Scene) -> tuple[bool, str]:
        def test(o: SceneObject) -> tuple[bool, str]:
            anims = [a for a in scene.anims if a.target == o.id]
            return any(self._fits(a) for a in anims), f"{o.id}: " + (", ".join(
                f"{a.type} dur {a.dur:g} delay {a.delay:g} repeat {a.repeat}" for a in anims) or "no animation")
        return self._each(scene, test)


class Order(SelectingCheck):
    """A ``then`` animation starts once a ``first`` animation has ended (on the same selected object)."""

    check: Literal["order"]
    CATEGORY: ClassVar[str] = "timing"
    first: AnimKind
    then: AnimKind
    slack: float = Field(0.1, ge=0, description="seconds the second may start before the first ends")

    def label(self) -> str:
        return f"{self.selector.describe()}: {self.first} then {self.then}"

    def _test(self, scene: Scene) -> tuple[bool, str]:
        def test(o: SceneObject) -> tuple[bool, str]:
            anims = [a for a in scene.anims if a.target == o.id]
            ok = any(b.delay + self.slack >= a.delay + a.dur
                     for a in anims if a.type == self.first for b in anims if b.type == self.then and b is not a)
            return ok, f"{o.id}: " + (", ".join(f"{a.type} {a.delay:g}+{a.dur:g}" for a in anims) or "no animation")
        return self._each(scene, test)
