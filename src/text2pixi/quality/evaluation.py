"""Quality evaluation: machine-checkable expectations on a scene, and their statistics (IO-free).

A prompt file (``eval/prompts.toml``) lists cases: a prompt, its difficulty and a list of
expectations, each one of the check models below (selected by its ``check`` key). A check selects
objects by kind, colour family and text, and states what must hold for them: how many there are,
their colour, where they start or end, how they move, turn, fade, scale or change colour, what they
say, and when their animations run. Checks are deliberately tolerant where language is vague
(colours match by family, "left" is the left 40 % of the stage), and strict where it is not
(counts, directions, text).

Coordinates follow :mod:`text2pixi.core.scene`: pixels, origin top-left, ``y`` down, rotation in
degrees clockwise. Nothing here reads files or runs a model: ``eval/run.py`` does that and calls
:func:`evaluate_case`, :func:`summarize` and :func:`compare`.
"""

from __future__ import annotations

import statistics
import tomllib
from collections import defaultdict
from collections.abc import Sequence
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from text2pixi.core.colors import color_family, color_matches, normalize_family
from text2pixi.core.scene import (
    Circle,
    Ellipse,
    Fade,
    Line,
    Move,
    Polygon,
    Rect,
    Rotate,
    RoundRect,
    Scale,
    Scene,
    SceneObject,
    Star,
    Text,
    Tint,
    Triangle,
)

KINDS = ("circle", "rect", "roundrect", "ellipse", "triangle", "star", "polygon", "line", "text")
KIND_ALIASES = {"square": ("rect", "roundrect"), "box": ("rect", "roundrect"), "rectangle": ("rect", "roundrect"),
                "ball": ("circle",)}
DIFFICULTIES = ("easy", "medium", "hard")
CATEGORIES = ("count", "color", "position", "size", "motion", "rotation", "effect", "text", "timing")
MIN_MOVE_PX = 20  # a move shorter than this in a direction does not count as moving that way


def object_size(obj: SceneObject) -> float:
    """A comparable size: the larger extent of the shape in pixels (text: its font size x characters / 2)."""
    if isinstance(obj, (Circle, Star)):
        return 2.0 * obj.r
    if isinstance(obj, (Rect, RoundRect, Ellipse, Triangle)):
        return float(max(obj.w, obj.h))
    if isinstance(obj, Polygon):
        xs, ys = obj.pts[0::2], obj.pts[1::2]
        return float(max(max(xs) - min(xs), max(ys) - min(ys)))
    if isinstance(obj, Line):
        return float(((obj.x2 - obj.x) ** 2 + (obj.y2 - obj.y) ** 2) ** 0.5)
    if isinstance(obj, Text):
        return obj.size * max(1, len(obj.text)) / 2
    return 0.0


def _is_square(obj: SceneObject) -> bool:
    return isinstance(obj, (Rect, RoundRect)) and abs(obj.w - obj.h) <= 0.15 * max(obj.w, obj.h)


class CheckResult(BaseModel):
    """One expectation on one scene: whether it held, and why not."""

    check: str = Field(description="a short label, e.g. 'count circle=1'")
    category: str
    type: str = Field("", description="the check's type, e.g. 'count' or 'relation'")
    passed: bool
    detail: str = ""


class _Check(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    CATEGORY: ClassVar[str] = ""

    @property
    def category(self) -> str:
        return self.CATEGORY

    def label(self) -> str:
        raise NotImplementedError

    def evaluate(self, scene: Scene) -> CheckResult:
        try:
            ok, detail = self._test(scene)
        except _NoMatch as exc:
            ok, detail = False, str(exc)
        return CheckResult(check=self.label(), category=self.category, type=self.check_type, passed=ok,
                           detail="" if ok else detail)

    @property
    def check_type(self) -> str:
        return str(getattr(self, "check", ""))

    def _test(self, scene: Scene) -> tuple[bool, str]:
        raise NotImplementedError


class _NoMatch(Exception):
    """No object matched the selector (the check cannot hold)."""


def _kind_list(value: Any) -> Any:
    kinds = [value] if isinstance(value, str) else value
    for kind in kinds or []:
        if kind not in KINDS and kind not in KIND_ALIASES:
            raise ValueError(f"unknown kind {kind!r}; use one of {', '.join(KINDS + tuple(KIND_ALIASES))}")
    return kinds


def _family_or_none(value: str | None) -> str | None:
    return normalize_family(value) if value is not None else None


class Selector(BaseModel):
    """Which objects a check is about: every given field must match."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: list[str] | None = Field(None, description="scene kinds, or square/box/rectangle/ball")
    color: str | None = Field(None, description="colour family the object must have")
    text: str | None = Field(None, description="substring of a text object's words (case-insensitive)")

    _kinds = field_validator("kind", mode="before")(_kind_list)
    _color = field_validator("color")(_family_or_none)

    def matches(self, obj: SceneObject) -> bool:
        if self.kind is not None:
            ok = False
            for kind in self.kind:
                if kind == "square":
                    ok = ok or _is_square(obj)
                elif kind in KIND_ALIASES:
                    ok = ok or obj.type in KIND_ALIASES[kind]
                else:
                    ok = ok or obj.type == kind
            if not ok:
                return False
        if self.color is not None and not color_matches(obj.color, self.color):
            return False
        if self.text is not None and not (isinstance(obj, Text) and self.text.lower() in obj.text.lower()):
            return False
        return True

    def describe(self) -> str:
        parts = ["/".join(self.kind) if self.kind else "object"]
        if self.color:
            parts.insert(0, self.color)
        if self.text:
            parts.append(f"'{self.text}'")
        return " ".join(parts)

    def select(self, scene: Scene) -> list[SceneObject]:
        return [o for o in scene.objects if self.matches(o)]

    def select_some(self, scene: Scene) -> list[SceneObject]:
        found = self.select(scene)
        if not found:
            kinds = ", ".join(f"{o.type} {o.color}" for o in scene.objects)
            raise _NoMatch(f"no {self.describe()} in the scene (objects: {kinds})")
        return found


class _Selecting(_Check):
    kind: list[str] | None = None
    color: str | None = None
    text: str | None = None
    quantifier: Literal["all", "any"] = "all"

    _kinds = field_validator("kind", mode="before")(_kind_list)
    _color = field_validator("color")(_family_or_none)

    @property
    def selector(self) -> Selector:
        return Selector(kind=self.kind, color=self.color, text=self.text)

    def _each(self, scene: Scene, test: Any) -> tuple[bool, str]:
        """Apply ``test(obj) -> (ok, detail)`` to the selected objects under the quantifier."""
        results = [test(o) for o in self.selector.select_some(scene)]
        ok = all(r[0] for r in results) if self.quantifier == "all" else any(r[0] for r in results)
        return ok, "; ".join(r[1] for r in results if not r[0])


def _anims_of(scene: Scene, obj_id: str, kind: type) -> list[Any]:
    return [a for a in scene.anims if isinstance(a, kind) and a.target == obj_id]


def _moves_with_origin(scene: Scene, obj: SceneObject) -> list[tuple[Move, int, int]]:
    """Each move of ``obj`` in start-time order, with where it starts (the previous destination)."""
    x, y = obj.x, obj.y
    out = []
    for move in sorted(_anims_of(scene, obj.id, Move), key=lambda m: m.delay):
        out.append((move, x, y))
        x, y = move.x, move.y
    return out


def _end_position(scene: Scene, obj: SceneObject) -> tuple[int, int]:
    moves = _anims_of(scene, obj.id, Move)
    if not moves:
        return obj.x, obj.y
    last = max(moves, key=lambda m: (m.delay + m.dur, m.delay))
    return last.x, last.y


Region = Literal["left", "right", "top", "bottom", "center", "top-left", "top-right", "bottom-left", "bottom-right"]


def in_region(x: float, y: float, w: int, h: int, region: str) -> bool:
    """Left/right/top/bottom are the outer 40 % of the stage; the centre is the middle 40 % both ways."""
    if region == "center":
        return abs(x - w / 2) <= 0.2 * w and abs(y - h / 2) <= 0.2 * h
    tests = {"left": x <= 0.4 * w, "right": x >= 0.6 * w, "top": y <= 0.4 * h, "bottom": y >= 0.6 * h}
    return all(tests[part] for part in region.split("-"))


Direction = Literal["left", "right", "up", "down", "up-left", "up-right", "down-left", "down-right"]


def goes(dx: float, dy: float, direction: str) -> bool:
    """Does a displacement go ``direction`` (each named component at least :data:`MIN_MOVE_PX`)?"""
    tests = {"right": dx >= MIN_MOVE_PX, "left": dx <= -MIN_MOVE_PX,
             "down": dy >= MIN_MOVE_PX, "up": dy <= -MIN_MOVE_PX}
    parts = direction.split("-")
    if not all(tests[p] for p in parts):
        return False
    if len(parts) == 1:  # a plain direction must dominate the other axis
        main, other = (abs(dx), abs(dy)) if parts[0] in ("left", "right") else (abs(dy), abs(dx))
        return main >= other
    return True


class Count(_Selecting):
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


class Color(_Selecting):
    """The selected objects' colour family (their starting colour)."""

    check: Literal["color"]
    CATEGORY: ClassVar[str] = "color"
    want: str

    @field_validator("want")
    @classmethod
    def _family(cls, value: str) -> str:
        return normalize_family(value)

    def label(self) -> str:
        return f"color {self.selector.describe()} is {self.want}"

    def _test(self, scene: Scene) -> tuple[bool, str]:
        return self._each(scene, lambda o: (color_matches(o.color, self.want),
                                            f"{o.id} is {o.color} ({color_family(o.color)})"))


class Background(_Check):
    check: Literal["background"]
    CATEGORY: ClassVar[str] = "color"
    want: str

    @field_validator("want")
    @classmethod
    def _family(cls, value: str) -> str:
        return normalize_family(value)

    def label(self) -> str:
        return f"background is {self.want}"

    def _test(self, scene: Scene) -> tuple[bool, str]:
        return color_matches(scene.bg, self.want), f"bg is {scene.bg} ({color_family(scene.bg)})"


class Position(_Selecting):
    """Where the selected objects are at the start, or at the end of their moves."""

    check: Literal["position"]
    CATEGORY: ClassVar[str] = "position"
    at: Region
    when: Literal["start", "end"] = "start"

    def label(self) -> str:
        return f"{self.selector.describe()} {self.when}s {self.at}"

    def _test(self, scene: Scene) -> tuple[bool, str]:
        def test(o: SceneObject) -> tuple[bool, str]:
            x, y = (o.x, o.y) if self.when == "start" else _end_position(scene, o)
            where = f"{o.id} {self.when}s at ({x},{y}) on {scene.w}x{scene.h}"
            return in_region(x, y, scene.w, scene.h, self.at), where
        return self._each(scene, test)


class Arrangement(_Selecting):
    """The selected objects (at least two) form a row (same height) or a column (same x)."""

    check: Literal["arrangement"]
    CATEGORY: ClassVar[str] = "position"
    line: Literal["row", "column"]

    def label(self) -> str:
        return f"{self.selector.describe()} in a {self.line}"

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
        return ok, f"across spread {spread}px, smallest gap {min(gaps)}px"


class Relation(_Check):
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
        tests = {"above": lambda p, q: p.y < q.y, "below": lambda p, q: p.y > q.y,
                 "left_of": lambda p, q: p.x < q.x, "right_of": lambda p, q: p.x > q.x,
                 "bigger": lambda p, q: object_size(p) > object_size(q),
                 "smaller": lambda p, q: object_size(p) < object_size(q)}
        bad = [f"{p.id} vs {q.id}" for p, q in pairs if not tests[self.rel](p, q)]
        return not bad, "fails for " + ", ".join(bad)


class Motion(_Selecting):
    """The selected objects move in ``direction`` (some move of theirs does), or not at all (``none``)."""

    check: Literal["motion"]
    CATEGORY: ClassVar[str] = "motion"
    direction: Direction | Literal["none"]

    def label(self) -> str:
        return f"{self.selector.describe()} moves {self.direction}"

    def _test(self, scene: Scene) -> tuple[bool, str]:
        def test(o: SceneObject) -> tuple[bool, str]:
            moves = _moves_with_origin(scene, o)
            if self.direction == "none":
                return not moves, f"{o.id} has {len(moves)} move(s)"
            ok = any(goes(m.x - x, m.y - y, self.direction) for m, x, y in moves)
            steps = ", ".join(f"({x},{y})->({m.x},{m.y})" for m, x, y in moves) or "no move"
            return ok, f"{o.id}: {steps}"
        return self._each(scene, test)


class Rotation(_Selecting):
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
            turns = _anims_of(scene, o.id, Rotate)
            ok = any(self._angle_ok(a.by) and (not self.forever or a.repeat == -1) for a in turns)
            return ok, f"{o.id}: " + (", ".join(f"by {a.by} repeat {a.repeat}" for a in turns) or "no rotate")
        return self._each(scene, test)


class FadeCheck(_Selecting):
    """Fades out (to <= 0.3 from higher) or in (from <= 0.3 to >= 0.7)."""

    check: Literal["fade"]
    CATEGORY: ClassVar[str] = "effect"
    way: Literal["in", "out"]

    def label(self) -> str:
        return f"{self.selector.describe()} fades {self.way}"

    def _test(self, scene: Scene) -> tuple[bool, str]:
        def test(o: SceneObject) -> tuple[bool, str]:
            fades = _anims_of(scene, o.id, Fade)
            if self.way == "out":
                ok = any(f.to <= 0.3 and o.alpha > f.to for f in fades)
            else:
                ok = o.alpha <= 0.3 and any(f.to >= 0.7 for f in fades)
            return ok, f"{o.id}: alpha {o.alpha} -> " + (", ".join(f"{f.to}" for f in fades) or "no fade")
        return self._each(scene, test)


class ScaleCheck(_Selecting):
    """Grows (to >= ``factor``, default 1.2) or shrinks (to <= 1/``factor``)."""

    check: Literal["scale"]
    CATEGORY: ClassVar[str] = "effect"
    way: Literal["grow", "shrink"]
    factor: float = Field(1.2, gt=1.0)

    def label(self) -> str:
        return f"{self.selector.describe()} {self.way}s (x{self.factor:g})"

    def _test(self, scene: Scene) -> tuple[bool, str]:
        def test(o: SceneObject) -> tuple[bool, str]:
            scales = _anims_of(scene, o.id, Scale)
            ok = any(s.to >= self.factor if self.way == "grow" else s.to <= 1 / self.factor for s in scales)
            return ok, f"{o.id}: " + (", ".join(f"to {s.to}" for s in scales) or "no scale")
        return self._each(scene, test)


class Recolor(_Selecting):
    """The selected objects change colour to the ``want`` family."""

    check: Literal["recolor"]
    CATEGORY: ClassVar[str] = "effect"
    want: str

    @field_validator("want")
    @classmethod
    def _family(cls, value: str) -> str:
        return normalize_family(value)

    def label(self) -> str:
        return f"{self.selector.describe()} turns {self.want}"

    def _test(self, scene: Scene) -> tuple[bool, str]:
        def test(o: SceneObject) -> tuple[bool, str]:
            tints = _anims_of(scene, o.id, Tint)
            return any(color_matches(t.to, self.want) for t in tints), \
                f"{o.id}: " + (", ".join(t.to for t in tints) or "no colour change")
        return self._each(scene, test)


class TextCheck(_Check):
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


AnimKind = Literal["move", "rotate", "scale", "fade", "color"]


class Timing(_Selecting):
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

    def _fits(self, a: Any) -> bool:
        return ((self.anim is None or a.type == self.anim)
                and (self.min_dur is None or a.dur >= self.min_dur) and (self.max_dur is None or a.dur <= self.max_dur)
                and (self.min_delay is None or a.delay >= self.min_delay)
                and (self.max_delay is None or a.delay <= self.max_delay)
                and (not self.forever or a.repeat == -1))

    def _test(self, scene: Scene) -> tuple[bool, str]:
        def test(o: SceneObject) -> tuple[bool, str]:
            anims = [a for a in scene.anims if a.target == o.id]
            return any(self._fits(a) for a in anims), f"{o.id}: " + (", ".join(
                f"{a.type} dur {a.dur:g} delay {a.delay:g} repeat {a.repeat}" for a in anims) or "no animation")
        return self._each(scene, test)


class Order(_Selecting):
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


Check = Annotated[
    Count | Color | Background | Position | Arrangement | Relation | Motion | Rotation | FadeCheck | ScaleCheck
    | Recolor | TextCheck | Timing | Order,
    Field(discriminator="check"),
]


class Case(BaseModel):
    """One prompt of the evaluation set and what its scene must satisfy."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    prompt: str = Field(min_length=1)
    difficulty: Literal["easy", "medium", "hard"]  # see DIFFICULTIES
    expect: list[Check] = Field(min_length=1)


class CaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case: list[Case] = Field(min_length=1)


def load_cases(toml_text: str) -> list[Case]:
    """Parse and validate a prompt file's text (``[[case]]`` tables); ids must be unique."""
    cases = CaseFile.model_validate(tomllib.loads(toml_text)).case
    ids = [c.id for c in cases]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"repeated case ids: {', '.join(dupes)}")
    return cases


def evaluate_case(case: Case, scene: Scene | None) -> list[CheckResult]:
    """Every expectation of ``case`` against ``scene``; with no valid scene, every check fails."""
    if scene is None:
        return [CheckResult(check=c.label(), category=c.category, type=c.check_type, passed=False,
                            detail="no valid scene") for c in case.expect]
    return [c.evaluate(scene) for c in case.expect]


class Outcome(BaseModel):
    """What one prompt produced in one run: validity, cost and the checks."""

    id: str
    prompt: str
    difficulty: str
    valid: bool
    error: str | None = None
    error_message: str | None = Field(None, description="why no valid scene came out (the last rejection)")
    attempts: int = 0
    output_tokens: int = 0
    wall_s: float = 0.0
    checks: list[CheckResult] = Field(default_factory=list)
    scene: dict[str, Any] | None = None

    @property
    def retries(self) -> int:
        return max(0, self.attempts - 1)

    @property
    def passed(self) -> int:
        return sum(c.passed for c in self.checks)


def _rate(passed: int, total: int) -> float | None:
    return round(passed / total, 4) if total else None


def summarize(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """Validity rate, per-check and per-category pass rates, retries, tokens and time."""
    n = len(outcomes)
    checks = [c for o in outcomes for c in o.checks]
    by_category: dict[str, list[bool]] = defaultdict(list)
    for c in checks:
        by_category[c.category].append(c.passed)
    by_type: dict[str, list[bool]] = defaultdict(list)
    for c in checks:
        by_type[c.type or c.category].append(c.passed)
    by_difficulty: dict[str, list[bool]] = defaultdict(list)
    for o in outcomes:
        by_difficulty[o.difficulty].extend(c.passed for c in o.checks)
    walls = [o.wall_s for o in outcomes]
    tokens = [o.output_tokens for o in outcomes]
    return {
        "prompts": n,
        "valid": sum(o.valid for o in outcomes),
        "validity_rate": _rate(sum(o.valid for o in outcomes), n),
        "checks": len(checks),
        "checks_passed": sum(c.passed for c in checks),
        "check_pass_rate": _rate(sum(c.passed for c in checks), len(checks)),
        "prompts_all_checks_passed": sum(bool(o.checks) and o.passed == len(o.checks) for o in outcomes),
        "by_category": {k: {"passed": sum(v), "total": len(v), "rate": _rate(sum(v), len(v))}
                        for k, v in sorted(by_category.items(), key=lambda kv: CATEGORIES.index(kv[0]))},
        "by_check": {k: {"passed": sum(v), "total": len(v), "rate": _rate(sum(v), len(v))}
                     for k, v in sorted(by_type.items())},
        "by_difficulty": {k: {"passed": sum(v), "total": len(v), "rate": _rate(sum(v), len(v))}
                          for k, v in sorted(by_difficulty.items(), key=lambda kv: DIFFICULTIES.index(kv[0]))},
        "retries": sum(o.retries for o in outcomes),
        "prompts_with_retries": sum(o.retries > 0 for o in outcomes),
        "output_tokens_mean": round(statistics.fmean(tokens), 1) if tokens else None,
        "wall_s_mean": round(statistics.fmean(walls), 2) if walls else None,
        "wall_s_median": round(statistics.median(walls), 2) if walls else None,
        "wall_s_total": round(sum(walls), 1),
    }


def table(outcomes: Sequence[Outcome]) -> str:
    """A fixed-width table, one prompt per line, then the failed checks."""
    lines = [f"{'id':28s} {'diff':6s} {'valid':5s} {'tries':5s} {'tokens':>6s} {'time':>7s} {'checks':>7s}"]
    for o in outcomes:
        lines.append(f"{o.id[:28]:28s} {o.difficulty:6s} {'yes' if o.valid else 'NO':5s} {o.attempts:5d} "
                     f"{o.output_tokens:6d} {o.wall_s:6.1f}s {o.passed:3d}/{len(o.checks):<3d}")
    failed = [(o.id, c) for o in outcomes for c in o.checks if not c.passed]
    if failed:
        lines.append("")
        lines.append("failed checks:")
        lines.extend(f"  {i}: {c.check} -- {c.detail}" for i, c in failed)
    return "\n".join(lines)


def compare(a: Sequence[Outcome], b: Sequence[Outcome]) -> dict[str, Any]:
    """Two runs side by side: summary figures, categories, and the prompts whose checks changed."""
    sa, sb = summarize(a), summarize(b)
    figures = ("validity_rate", "check_pass_rate", "prompts_all_checks_passed", "retries", "output_tokens_mean",
               "wall_s_mean", "wall_s_median")
    categories = sorted(set(sa["by_category"]) | set(sb["by_category"]), key=CATEGORIES.index)
    index_b = {o.id: o for o in b}
    changed = []
    for o in a:
        other = index_b.get(o.id)
        if other is not None and (o.passed, o.valid) != (other.passed, other.valid):
            changed.append({"id": o.id, "a": f"{o.passed}/{len(o.checks)}", "b": f"{other.passed}/{len(other.checks)}",
                            "delta": other.passed - o.passed})
    return {
        "figures": {k: {"a": sa[k], "b": sb[k]} for k in figures},
        "categories": {k: {"a": sa["by_category"].get(k, {}).get("rate"), "b": sb["by_category"].get(k, {}).get("rate")}
                       for k in categories},
        "changed": changed,
        "only_in_a": sorted({o.id for o in a} - set(index_b)),
        "only_in_b": sorted(set(index_b) - {o.id for o in a}),
    }


def compare_table(result: dict[str, Any], name_a: str = "A", name_b: str = "B") -> str:
    lines = [f"{'figure':28s} {name_a[:18]:>18s} {name_b[:18]:>18s}"]
    for k, v in result["figures"].items():
        lines.append(f"{k:28s} {v['a']!s:>18s} {v['b']!s:>18s}")
    lines.append("")
    lines.append(f"{'category pass rate':28s} {name_a[:18]:>18s} {name_b[:18]:>18s}")
    for k, v in result["categories"].items():
        lines.append(f"{k:28s} {v['a']!s:>18s} {v['b']!s:>18s}")
    if result["changed"]:
        lines.append("")
        lines.append("prompts whose checks changed:")
        lines.extend(f"  {c['id']:28s} {c['a']:>6s} -> {c['b']:<6s} ({c['delta']:+d})" for c in result["changed"])
    return "\n".join(lines)


DOC_BEGIN, DOC_END = "<!-- eval:begin -->", "<!-- eval:end -->"


def markdown(record: dict[str, Any], outcomes: Sequence[Outcome], raw_link: str) -> str:
    """The quality section of ``docs/performance.md`` for one stored run (``record`` as run.py writes it)."""
    s = summarize(outcomes)

    def pct(rate: float | None) -> str:
        return "—" if rate is None else f"{rate:.0%}"

    lines = [
        DOC_BEGIN,
        "## Quality (issue: performance lab)",
        "",
        f"Command ({len(outcomes)} prompts of `eval/prompts.toml`, each with machine-checkable expectations; "
        "the engine alone, in one process):",
        "",
        "```bash",
        str(record.get("command", "")),
        "```",
        "",
        f"Run of {record.get('started', '?')}, model `{record.get('model')}`, {record.get('threads')} thread(s), "
        f"max_tokens {record.get('max_tokens')}, {record.get('max_retries')} re-asks allowed "
        f"(raw JSON with every scene: [`{raw_link.rsplit('/', 1)[-1]}`]({raw_link})):",
        "",
        "| figure | measured |",
        "|---|---|",
        f"| valid scenes | {s['valid']}/{s['prompts']} ({pct(s['validity_rate'])}) |",
        f"| checks passed | {s['checks_passed']}/{s['checks']} ({pct(s['check_pass_rate'])}) |",
        f"| prompts with every check passed | {s['prompts_all_checks_passed']}/{s['prompts']} |",
        f"| re-asks used (prompts needing one) | {s['retries']} ({s['prompts_with_retries']}) |",
        f"| output tokens per prompt, mean | {s['output_tokens_mean']} |",
        f"| time per prompt, mean / median | {s['wall_s_mean']} s / {s['wall_s_median']} s |",
        "",
        "| category | " + " | ".join(s["by_category"]) + " |",
        "|---|" + "---|" * len(s["by_category"]),
        "| pass rate | " + " | ".join(f"{pct(v['rate'])} ({v['passed']}/{v['total']})"
                                      for v in s["by_category"].values()) + " |",
        "",
        "| check | " + " | ".join(s["by_check"]) + " |",
        "|---|" + "---|" * len(s["by_check"]),
        "| pass rate | " + " | ".join(f"{pct(v['rate'])} ({v['passed']}/{v['total']})"
                                      for v in s["by_check"].values()) + " |",
        "",
        "| difficulty | " + " | ".join(s["by_difficulty"]) + " |",
        "|---|" + "---|" * len(s["by_difficulty"]),
        "| pass rate | " + " | ".join(f"{pct(v['rate'])} ({v['passed']}/{v['total']})"
                                      for v in s["by_difficulty"].values()) + " |",
        "",
        "<details><summary>Per prompt</summary>",
        "",
        "| id | difficulty | valid | attempts | tokens | time | checks | failed checks |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for o in outcomes:
        if o.valid:
            failed = "; ".join(f"{c.check} ({c.detail})" if c.detail else c.check for c in o.checks if not c.passed)
        else:
            failed = f"all: no valid scene ({o.error_message or o.error})"
        lines.append(f"| {o.id} | {o.difficulty} | {'yes' if o.valid else o.error or 'no'} | {o.attempts} | "
                     f"{o.output_tokens} | {o.wall_s:.1f} s | {o.passed}/{len(o.checks)} | "
                     f"{failed.replace('|', '/') or '—'} |")
    lines += ["", "</details>", DOC_END]
    return "\n".join(lines) + "\n"


def replace_section(text: str, section: str, begin: str = DOC_BEGIN, end: str = DOC_END) -> str:
    """``text`` with the part between ``begin`` and ``end`` replaced by ``section`` (appended when absent)."""
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        return head + section.rstrip("\n") + rest.split(end, 1)[1]
    return (text.rstrip("\n") + "\n\n" if text.strip() else "") + section
