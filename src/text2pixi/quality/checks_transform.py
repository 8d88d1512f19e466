"""Quality checks on how objects turn, stretch and show, read from the timeline: the point they turn or scale
about, which axes they scale along, whether they can be seen, and whether a fade-in starts hidden.

Each model is one ``check = "..."`` of ``eval/prompts.toml``. Visibility is WCAG 2's relative-luminance
contrast ratio (:func:`text2pixi.core.visibility.contrast`) of the object's colour, blended with the
background by its opacity, at a moment when some of it is on the stage.
"""

from __future__ import annotations

import math
from typing import ClassVar, Literal

from pydantic import Field

from text2pixi.core import timeline as tl
from text2pixi.core.scene import Scene, SceneObject
from text2pixi.core.visibility import contrast
from text2pixi.quality.check_base import SelectingCheck
from text2pixi.quality.sampling import Pose, SceneTimeline, local_point, size_of

Point = Literal["center", "top-left", "top", "top-right", "left", "right", "bottom-left", "bottom", "bottom-right"]


class _OverTime(SelectingCheck):
    """A check of each selected object on the scene's timeline: one :class:`SceneTimeline` per scene, read by
    :meth:`_object` for every object the selector picks."""

    def _test(self, scene: Scene) -> tuple[bool, str]:
        view = SceneTimeline(scene)
        return self._each(scene, lambda o: self._object(view, scene, o))

    def _object(self, view: SceneTimeline, scene: Scene, o: SceneObject) -> tuple[bool, str]:
        raise NotImplementedError


class Pivot(_OverTime):
    """While each selected object turns or scales (``what``), its ``about`` point stays put (within ``tol`` px
    plus 2 % of its size), and it does turn (>= 10 degrees) or scale (>= 10 %)."""

    check: Literal["pivot"]
    CATEGORY: ClassVar[str] = "transform"
    about: Point
    what: Literal["rotate", "scale", "any"] = "any"
    tol: float = Field(3.0, ge=0)

    def label(self) -> str:
        return f"{self.selector.describe()} {self.what}s about its {self.about}"

    def _object(self, view: SceneTimeline, scene: Scene, o: SceneObject) -> tuple[bool, str]:
        kinds = ("rotate", "scale") if self.what == "any" else (self.what,)
        spans = [sp for k in kinds for sp in view.spans(o, k)]
        if not spans:
            return False, f"{o.id}: no {' or '.join(kinds)}"
        local = local_point(o, self.about)
        start, end = min(sp.start for sp in spans), max(
            sp.end if math.isfinite(sp.end) else sp.start + 2 * float(sp.anim.dur) for sp in spans)
        moments = [start] + [t for t in view.times() if start <= t <= end] + [end]
        fixed = view.point(o, local, start)
        drift = max(math.hypot(p[0] - fixed[0], p[1] - fixed[1]) for p in (view.point(o, local, t) for t in moments))
        first = view.pose(o, start)
        poses = [view.pose(o, t) for t in moments]
        turned = max(abs(p.angle - first.angle) for p in poses)
        scaled = max(max(abs(p.sx - first.sx), abs(p.sy - first.sy)) for p in poses)
        changed = ("rotate" in kinds and turned >= 10) or ("scale" in kinds and scaled >= 0.1)
        ok = changed and drift <= self.tol + 0.02 * size_of(o)
        return ok, f"{o.id}: {self.about} point drifts {drift:.1f}px, turns {turned:.0f} deg, scale {scaled:+.2f}"


class AxisScale(_OverTime):
    """Each selected object scales along ``axis`` only (x, y) or both (xy), growing or shrinking by ``factor``."""

    check: Literal["axis_scale"]
    CATEGORY: ClassVar[str] = "transform"
    axis: Literal["x", "y", "xy"]
    way: Literal["grow", "shrink", "any"] = "any"
    factor: float = Field(1.2, gt=1.0)

    def label(self) -> str:
        return f"{self.selector.describe()} scales in {self.axis} ({self.way} x{self.factor:g})"

    def _reaches(self, values: list[float]) -> bool:
        grow, shrink = max(values) >= self.factor, min(values) <= 1 / self.factor
        return {"grow": grow, "shrink": shrink}.get(self.way, grow or shrink)

    def _object(self, view: SceneTimeline, scene: Scene, o: SceneObject) -> tuple[bool, str]:
        poses = [view.pose(o, t) for t in view.times()]
        xs, ys = [p.sx for p in poses], [p.sy for p in poses]
        still_x, still_y = max(abs(v - 1) for v in xs) <= 0.02, max(abs(v - 1) for v in ys) <= 0.02
        ok = {"x": self._reaches(xs) and still_y, "y": self._reaches(ys) and still_x,
              "xy": self._reaches(xs) and self._reaches(ys)}[self.axis]
        return ok, f"{o.id}: sx {min(xs):.2f}..{max(xs):.2f}, sy {min(ys):.2f}..{max(ys):.2f}"


def _shown(pose: Pose, bg: tl.Value) -> tuple[float, float, float]:
    """The colour the viewer sees: the object's blended over the background by its opacity."""
    a = max(0.0, min(1.0, pose.alpha))
    r, g, b = (a * c + (1 - a) * k for c, k in zip(pose.color, bg, strict=True))
    return (r, g, b)


class Visible(_OverTime):
    """At some moment each selected object is (partly) on the stage with a contrast ratio against the
    background of at least ``min_ratio`` (3 is WCAG's figure for graphics)."""

    check: Literal["visible"]
    CATEGORY: ClassVar[str] = "visibility"
    min_ratio: float = Field(3.0, ge=1.0, le=21.0)

    def label(self) -> str:
        return f"{self.selector.describe()} visible (contrast >= {self.min_ratio:g})"

    def _object(self, view: SceneTimeline, scene: Scene, o: SceneObject) -> tuple[bool, str]:
        bg = tl.rgb(scene.bg)
        best, on_stage = 1.0, False
        for t in view.times():
            x0, y0, x1, y1 = view.box(o, t)
            if not (x1 > 0 and y1 > 0 and x0 < scene.w and y0 < scene.h):
                continue
            on_stage = True
            best = max(best, contrast(_shown(view.pose(o, t), bg), (bg[0], bg[1], bg[2])))
        if not on_stage:
            return False, f"{o.id} is off the stage throughout"
        return best >= self.min_ratio, f"{o.id} ({o.color} on {scene.bg}): best contrast {best:.2f}"


class StartsHidden(_OverTime):
    """Each selected object is invisible at the start (opacity <= ``max_alpha``) and fully shown later (>= 0.7):
    what a fade-in means."""

    check: Literal["starts_hidden"]
    CATEGORY: ClassVar[str] = "visibility"
    max_alpha: float = Field(0.05, ge=0, lt=0.7)

    def label(self) -> str:
        return f"{self.selector.describe()} starts hidden"

    def _object(self, view: SceneTimeline, scene: Scene, o: SceneObject) -> tuple[bool, str]:
        alphas = [p for _, p in view.series(o, lambda pose: pose.alpha)]
        ok = alphas[0] <= self.max_alpha and max(alphas) >= 0.7
        return ok, f"{o.id}: alpha {alphas[0]:.2f} at 0s, at most {max(alphas):.2f}"
