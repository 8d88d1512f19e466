"""Quality checks on what a scene draws: how many objects, their colours, where they are, what they say.

Each model is one ``check = "..."`` of ``eval/prompts.toml`` (see :mod:`text2pixi.quality.cases`).
Colours match by family and regions are the outer 40 % of the stage (tolerant where words are);
counts and text are strict.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Literal

from pydantic import Field

from text2pixi.core.colors import color_family, color_matches
from text2pixi.core.scene import Scene, SceneObject, Text
from text2pixi.quality.check_base import BaseCheck, SelectingCheck
from text2pixi.quality.selectors import Family, Region, Selector, end_position, in_region, object_size


class Count(SelectingCheck):
    """How many objects match the selector: exactly ``n``, or within ``min``..``max``."""

    check: Literal["count"]
    CATEGORY: ClassVar[str] = "count"
    n: int | None = Field(None, ge=0)
    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=0)

    def label(self) -> str:
        upper = self.max if self.max is not None else ""
        want = f"={self.n}" if self.n is not None else f" in {self.min or 0}..{upper}"
        return f"count {self.selector.describe()}{want}"

    def _test(self, scene: Scene) -> tuple[bool, str]:
        got = len(self.selector.select(scene))
        ok = (self.n is None or got == self.n) and (self.min is None or got >= self.min) \
            and (self.max is None or got <= self.max)
        return ok, f"found {got}"


class Color(SelectingCheck):
    """The selected objects' colour family (their starting colour)."""

    check: Literal["color"]
    CATEGORY: ClassVar[str] = "color"
    want: Family

    def label(self) -> str:
        return f"color {self.selector.describe()} is {self.want}"

    def _test(self, scene: Scene) -> tuple[bool, str]:
        return self._each(scene, lambda o: (color_matches(o.color, self.want),
                                            f"{o.id} is {o.color} ({color_family(o.color)})"))


class Background(BaseCheck):
    check: Literal["background"]
    CATEGORY: ClassVar[str] = "color"
    want: Family

    def label(self) -> str:
        return f"background is {self.want}"

    def _test(self, scene: Scene) -> tuple[bool, str]:
        return color_matches(scene.bg, self.want), f"bg is {scene.bg} ({color_family(scene.bg)})"


class Position(SelectingCheck):
    """Where the selected objects are at the start, or at the end of their moves."""

    check: Literal["position"]
    CATEGORY: ClassVar[str] = "position"
    at: Region
    when: Literal["start", "end"] = "start"

    def label(self) -> str:
        return f"{self.selector.describe()} {self.when}s {self.at}"

    def _test(self, scene: Scene) -> tuple[bool, str]:
        def test(o: SceneObject) -> tuple[bool, str]:
            x, y = (o.x, o.y) if self.when == "start" else end_position(scene, o)
            where = f"{o.id} {self.when}s at ({x},{y}) on {scene.w}x{scene.h}"
            return in_region(x, y, scene.w, scene.h, self.at), where
        return self._each(scene, test)


class Arrangement(SelectingCheck):
    """The selected objects (at least two) form a row (same height) or a column (same x); optionally evenly
    spaced (``even``) and spread over at least ``min_span`` of the stage along the line."""

    check: Literal["arrangement"]
    CATEGORY: ClassVar[str] = "position"
    line: Literal["row", "column"]
    even: bool = False
    min_span: float | None = Field(None, gt=0, le=1, description="fraction of the stage the centres span")

    def label(self) -> str:
        extra = (" evenly" if self.even else "") + (f" over >= {self.min_span:g}" if self.min_span else "")
        return f"{self.selector.describe()} in a {self.line}{extra}"

    def _test(self, scene: Scene) -> tuple[bool, str]:
        objs = self.selector.select_some(scene)
        if len(objs) < 2:
            return False, f"only {len(objs)} object"
        along, across, side, other = ([o.x for o in objs], [o.y for o in objs], scene.w, scene.h) \
            if self.line == "row" else ([o.y for o in objs], [o.x for o in objs], scene.h, scene.w)
        spread = max(across) - min(across)
        distinct = sorted(along)
        gaps = [b - a for a, b in zip(distinct, distinct[1:], strict=False)]
        ok = spread <= 0.1 * other and min(gaps) >= 0.05 * side
        span = (distinct[-1] - distinct[0]) / side
        if self.even:
            ok = ok and max(gaps) - min(gaps) <= 0.25 * (sum(gaps) / len(gaps))
        if self.min_span is not None:
            ok = ok and span >= self.min_span
        return ok, f"across spread {spread}px, gaps {min(gaps)}..{max(gaps)}px, span {span:.2f} of the stage"


class Relation(BaseCheck):
    """Every object matching ``a`` stands in ``rel`` to every object matching ``b``."""

    check: Literal["relation"]
    CATEGORY: ClassVar[str] = "position"
    a: Selector
    b: Selector
    rel: Literal["above", "below", "left_of", "right_of", "bigger", "smaller"]

    @property
    def category(self) -> str:
        return "size" if self.rel in ("bigger", "smaller") else "position"

    def label(self) -> str:
        return f"{self.a.describe()} {self.rel.replace('_', ' ')} {self.b.describe()}"

    def _test(self, scene: Scene) -> tuple[bool, str]:
        pairs = [(p, q) for p in self.a.select_some(scene) for q in self.b.select_some(scene) if p.id != q.id]
        if not pairs:
            return False, "no distinct pair"
        tests: dict[str, Callable[[SceneObject, SceneObject], bool]] = {
            "above": lambda p, q: p.y < q.y, "below": lambda p, q: p.y > q.y,
            "left_of": lambda p, q: p.x < q.x, "right_of": lambda p, q: p.x > q.x,
            "bigger": lambda p, q: object_size(p) > object_size(q),
            "smaller": lambda p, q: object_size(p) < object_size(q)}
        bad = [f"{p.id} vs {q.id}" for p, q in pairs if not tests[self.rel](p, q)]
        return not bad, "fails for " + ", ".join(bad)


class TextCheck(BaseCheck):
    """Some text object says ``contains`` (case-insensitive, spaces normalised), or exactly ``equals``."""

    check: Literal["text"]
    CATEGORY: ClassVar[str] = "text"
    contains: str | None = None
    equals: str | None = None

    def label(self) -> str:
        return f"text says '{self.equals or self.contains}'"

    def _test(self, scene: Scene) -> tuple[bool, str]:
        def norm(s: str) -> str:
            return " ".join(s.lower().split())
        texts = [o.text for o in scene.objects if isinstance(o, Text)]
        if self.equals is not None:
            ok = any(norm(t) == norm(self.equals) for t in texts)
        else:
            ok = any(norm(self.contains or "") in norm(t) for t in texts)
        return ok, "texts: " + (", ".join(repr(t) for t in texts) or "none")
