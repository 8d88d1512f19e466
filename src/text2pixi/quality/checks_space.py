"""Quality checks on where things are and go, read from the timeline: net moves, places at a moment,
relations between two objects at a moment, and layouts of copies (grids, rings, varied colours).

Each model is one ``check = "..."`` of ``eval/prompts.toml``. Positions are what the page shows
(:class:`~text2pixi.quality.sampling.SceneTimeline`), so a corner rotating about a pivot or a move inside a
looped sequence counts as it is seen. Tolerances follow what motion-verification work uses: a direction
within 30 degrees, a distance within 15 %.
"""

from __future__ import annotations

import math
import statistics
from typing import ClassVar, Literal

from pydantic import Field

from text2pixi.core.colors import color_family
from text2pixi.core.scene import Scene, SceneObject
from text2pixi.quality.check_base import BaseCheck, SelectingCheck
from text2pixi.quality.sampling import SceneTimeline, angle_between, direction_vector, size_of
from text2pixi.quality.selectors import MIN_MOVE_PX, Region, Selector, in_region

Compass = Literal["up", "down", "left", "right", "up-left", "up-right", "down-left", "down-right", "north", "south",
                  "east", "west", "north-east", "north-west", "south-east", "south-west", "northeast", "northwest",
                  "southeast", "southwest"]
Moment = Literal["start", "end"] | float
EDGE_PX = 15  # an object "touches" a stage edge when its box is within this many pixels of it
BACK_PX = 15  # an object is "back" when its centre is within this many pixels of where it started


class Displacement(SelectingCheck):
    """Net move of each selected object between two moments: direction within ``tol_deg``, distance within ``tol``."""

    check: Literal["displacement"]
    CATEGORY: ClassVar[str] = "motion"
    direction: Compass
    distance: float | None = Field(None, gt=0, description="pixels; omitted: any visible move (>= 20 px)")
    tol_deg: float = Field(30, gt=0, le=90)
    tol: float = Field(0.15, gt=0, lt=1, description="relative distance tolerance")
    start: Moment = "start"
    end: Moment = "end"

    def label(self) -> str:
        dist = f" {self.distance:g}px" if self.distance else ""
        return f"{self.selector.describe()} moves{dist} {self.direction}"

    def _test(self, scene: Scene) -> tuple[bool, str]:
        view = SceneTimeline(scene)
        unit = direction_vector(self.direction)

        def test(o: SceneObject) -> tuple[bool, str]:
            t0, t1 = view.resolve(o, self.start), view.resolve(o, self.end)
            a, b = view.pose(o, t0), view.pose(o, t1)
            dx, dy = b.x - a.x, b.y - a.y
            dist, off = math.hypot(dx, dy), angle_between(dx, dy, unit)
            ok = off <= self.tol_deg and dist >= MIN_MOVE_PX
            if self.distance is not None:
                ok = ok and abs(dist - self.distance) <= self.tol * self.distance
            return ok, f"{o.id}: ({a.x:.0f},{a.y:.0f})@{t0:g}s -> ({b.x:.0f},{b.y:.0f})@{t1:g}s, " \
                       f"{dist:.0f}px {off:.0f} deg off"
        return self._each(scene, test)


Where = Region | Literal["edge-left", "edge-right", "edge-top", "edge-bottom", "off", "inside", "start"]


def _where(view: SceneTimeline, o: SceneObject, t: float, where: str) -> bool:
    scene = view.scene
    x0, y0, x1, y1 = view.box(o, t)
    pose = view.pose(o, t)
    if where == "off":
        return x1 <= 0 or y1 <= 0 or x0 >= scene.w or y0 >= scene.h
    if where == "inside":
        return x0 >= -1 and y0 >= -1 and x1 <= scene.w + 1 and y1 <= scene.h + 1
    if where == "start":
        first = view.pose(o, 0.0)
        return math.hypot(pose.x - first.x, pose.y - first.y) <= BACK_PX
    if where.startswith("edge-"):
        gap = {"edge-left": x0, "edge-top": y0, "edge-right": scene.w - x1, "edge-bottom": scene.h - y1}[where]
        return -EDGE_PX <= gap <= EDGE_PX
    return in_region(pose.x, pose.y, scene.w, scene.h, where)


class Located(SelectingCheck):
    """Where each selected object is at a moment (or at ``any`` sampled moment): a region, touching a stage edge,
    entirely off the stage, entirely inside it, or back where it started."""

    check: Literal["located"]
    CATEGORY: ClassVar[str] = "position"
    where: Where
    when: Moment | Literal["any"] = "end"

    def label(self) -> str:
        return f"{self.selector.describe()} is {self.where} at {self.when}"

    def _test(self, scene: Scene) -> tuple[bool, str]:
        view = SceneTimeline(scene)

        def test(o: SceneObject) -> tuple[bool, str]:
            moments = view.times() if self.when == "any" else [view.resolve(o, self.when)]
            ok = any(_where(view, o, t, self.where) for t in moments)
            t = moments[-1]
            box = ", ".join(f"{v:.0f}" for v in view.box(o, t))
            return ok, f"{o.id} box ({box}) at {t:g}s on {scene.w}x{scene.h}"
        return self._each(scene, test)


Rel = Literal["above", "below", "left_of", "right_of", "next_to", "on", "overlap", "apart"]


class RelationAtTime(BaseCheck):
    """Every object matching ``a`` stands in ``rel`` to every object matching ``b`` at a moment, with an optional
    gap between their boxes (``min_gap``..``max_gap`` px) and alignment (``aligned``: centres in line)."""

    check: Literal["relation_at_time"]
    CATEGORY: ClassVar[str] = "position"
    a: Selector
    b: Selector
    rel: Rel
    when: Moment = "start"
    min_gap: float | None = None
    max_gap: float | None = None
    aligned: bool = False

    def label(self) -> str:
        gap = f" gap {self.min_gap or 0:g}..{self.max_gap if self.max_gap is not None else ''}" \
            if self.min_gap is not None or self.max_gap is not None else ""
        return f"{self.a.describe()} {self.rel.replace('_', ' ')} {self.b.describe()} at {self.when}{gap}"

    def _pair(self, view: SceneTimeline, p: SceneObject, q: SceneObject) -> bool:
        t = view.resolve(p, self.when) if self.when != "end" else max(view.settle(p), view.settle(q))
        pa, qa = view.box(p, t), view.box(q, t)
        pp, qp = view.pose(p, t), view.pose(q, t)
        horizontal = self.rel in ("left_of", "right_of", "next_to")
        gap_x = max(qa[0] - pa[2], pa[0] - qa[2])
        gap_y = max(qa[1] - pa[3], pa[1] - qa[3])
        gap = max(gap_x, gap_y) if self.rel in ("overlap", "apart", "on") else gap_x if horizontal else gap_y
        overlap = gap_x < 0 and gap_y < 0
        order = [o.id for o in view.scene.objects]
        tests = {
            "above": pp.y < qp.y, "below": pp.y > qp.y, "left_of": pp.x < qp.x, "right_of": pp.x > qp.x,
            "next_to": gap_y < 0 and gap_x >= -2, "overlap": overlap, "apart": not overlap,
            "on": (overlap and order.index(p.id) > order.index(q.id) and pp.y <= qp.y + 2)
            or (gap_x < 0 and -2 <= gap_y <= 2 and pp.y < qp.y),   # drawn over it, or resting on its top
        }
        ok = tests[self.rel]
        if self.aligned:
            across = abs(pp.y - qp.y) if horizontal else abs(pp.x - qp.x)
            ok = ok and across <= 0.25 * max(size_of(p), size_of(q))
        if self.min_gap is not None:
            ok = ok and gap >= self.min_gap
        if self.max_gap is not None:
            ok = ok and gap <= self.max_gap
        return ok

    def _test(self, scene: Scene) -> tuple[bool, str]:
        view = SceneTimeline(scene)
        pairs = [(p, q) for p in self.a.select_some(scene) for q in self.b.select_some(scene) if p.id != q.id]
        if not pairs:
            return False, "no distinct pair"
        bad = [f"{p.id} vs {q.id}" for p, q in pairs if not self._pair(view, p, q)]
        where = "; ".join(f"{o.id} box ({', '.join(f'{v:.0f}' for v in view.box(o, 0.0))})"
                          for o in {p.id: p for pair in pairs for p in pair}.values())
        return not bad, "fails for " + ", ".join(bad) + f" ({where})"


def _groups(values: list[float], k: int) -> list[list[float]] | None:
    """Split sorted values into ``k`` equal consecutive groups (None when they do not divide)."""
    if k <= 0 or len(values) % k:
        return None
    size = len(values) // k
    ordered = sorted(values)
    return [ordered[i * size:(i + 1) * size] for i in range(k)]


def _even(positions: list[float], tolerance: float = 0.25) -> bool:
    """Neighbouring gaps of sorted positions within ``tolerance`` of their mean (and not zero)."""
    gaps = [b - a for a, b in zip(positions, positions[1:], strict=False)]
    if not gaps:
        return True
    mean = statistics.fmean(gaps)
    return mean > 0 and all(abs(g - mean) <= tolerance * mean for g in gaps)


class Grid(SelectingCheck):
    """The selected objects (exactly ``rows`` x ``cols``) stand in a grid: rows aligned, columns aligned,
    evenly spaced, no two in one cell; optionally spanning ``min_span`` of the stage each way."""

    check: Literal["grid"]
    CATEGORY: ClassVar[str] = "layout"
    rows: int = Field(ge=1, le=16)
    cols: int = Field(ge=1, le=16)
    min_span: float | None = Field(None, gt=0, le=1)

    def label(self) -> str:
        return f"{self.selector.describe()} in a {self.rows}x{self.cols} grid"

    def _test(self, scene: Scene) -> tuple[bool, str]:
        objs = self.selector.select_some(scene)
        if len(objs) != self.rows * self.cols:
            return False, f"{len(objs)} objects, want {self.rows * self.cols}"
        view = SceneTimeline(scene)
        poses = [view.pose(o, 0.0) for o in objs]
        size = max(size_of(o) for o in objs)
        ys, xs = [p.y for p in poses], [p.x for p in poses]
        row_groups, col_groups = _groups(ys, self.rows), _groups(xs, self.cols)
        if row_groups is None or col_groups is None:
            return False, "cannot split"
        tol = max(0.2 * size, 4.0)
        aligned = all(max(g) - min(g) <= tol for g in row_groups + col_groups)
        row_means = [statistics.fmean(g) for g in row_groups]
        col_means = [statistics.fmean(g) for g in col_groups]
        cells = {(min(range(self.rows), key=lambda r: abs(p.y - row_means[r])),
                  min(range(self.cols), key=lambda c: abs(p.x - col_means[c]))) for p in poses}
        pitch_ok = all(b - a >= 0.9 * size for m in (row_means, col_means) for a, b in zip(m, m[1:], strict=False))
        ok = aligned and len(cells) == len(objs) and _even(row_means) and _even(col_means) and pitch_ok
        spans = ((max(xs) - min(xs)) / scene.w if self.cols > 1 else 1.0,
                 (max(ys) - min(ys)) / scene.h if self.rows > 1 else 1.0)
        if self.min_span is not None:
            ok = ok and min(spans) >= self.min_span
        return ok, (f"rows at {[round(v) for v in row_means]}, columns at {[round(v) for v in col_means]}, "
                    f"aligned={aligned}, cells={len(cells)}, span {spans[0]:.2f}x{spans[1]:.2f}")


class Ring(SelectingCheck):
    """The selected objects (at least 3) stand evenly round a circle, optionally ``around`` another object."""

    check: Literal["ring"]
    CATEGORY: ClassVar[str] = "layout"
    around: Selector | None = None
    min_radius: float = Field(30, ge=0)

    def label(self) -> str:
        return f"{self.selector.describe()} in a ring" + (f" around {self.around.describe()}" if self.around else "")

    def _test(self, scene: Scene) -> tuple[bool, str]:
        view = SceneTimeline(scene)
        objs = self.selector.select_some(scene)
        if self.around is not None:
            centre_objs = self.around.select_some(scene)
            objs = [o for o in objs if o.id not in {c.id for c in centre_objs}]
        if len(objs) < 3:
            return False, f"only {len(objs)} object(s)"
        pts = [(p.x, p.y) for p in (view.pose(o, 0.0) for o in objs)]
        cx, cy = statistics.fmean(x for x, _ in pts), statistics.fmean(y for _, y in pts)
        radii = [math.hypot(x - cx, y - cy) for x, y in pts]
        mean_r = statistics.fmean(radii)
        angles = sorted(math.atan2(y - cy, x - cx) for x, y in pts)
        gaps = [b - a for a, b in zip(angles, angles[1:], strict=False)] + [angles[0] + 2 * math.pi - angles[-1]]
        even = all(abs(g - 2 * math.pi / len(pts)) <= 0.35 * 2 * math.pi / len(pts) for g in gaps)
        ok = mean_r >= self.min_radius and (max(radii) - min(radii)) <= 0.15 * mean_r and even
        detail = f"centre ({cx:.0f},{cy:.0f}), radii {min(radii):.0f}..{max(radii):.0f}, even={even}"
        if self.around is not None:
            near = [c for c in self.around.select_some(scene)
                    if math.hypot(view.pose(c, 0.0).x - cx, view.pose(c, 0.0).y - cy) <= 0.2 * max(mean_r, 1)]
            ok = ok and bool(near)
            detail += f", centre object near: {bool(near)}"
        return ok, detail


class Varied(SelectingCheck):
    """The selected objects show at least ``min`` different colour families (per-copy colours)."""

    check: Literal["varied"]
    CATEGORY: ClassVar[str] = "color"
    min: int = Field(2, ge=2)

    def label(self) -> str:
        return f"{self.selector.describe()} in >= {self.min} colours"

    def _test(self, scene: Scene) -> tuple[bool, str]:
        families = sorted({color_family(o.color) for o in self.selector.select_some(scene)})
        return len(families) >= self.min, f"families: {', '.join(families)}"
