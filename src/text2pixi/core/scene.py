"""The scene schema: the command language the model writes.

Keys are short because the model pays ~0.1 s per output token on CPU, and every list, string and
number is bounded so that a runaway generation cannot produce an unbounded document. The JSON
schema derived from these models is what the decoding grammar enforces (see ``grammar.py``);
the checks that a JSON schema cannot express (unique ids, animation targets, stage bounds) live in
``Scene``'s validator and feed the retry loop with a precise message.

``Scene`` is also the *compiled scene* that the renderer, the timeline and the exporters read: the v2 compiler
(``core/v2``) writes it with a few optional extensions the v1 grammar leaves out (:data:`EXTENSIONS`): an object's
``pivot``, a scale's ``axis`` and an animation's ``cycle`` (a looped sequence). Compiled scenes may also place
objects and move destinations off the stage; only what the model writes as v1 is held inside it
(:data:`STAGE_BOUNDS`). Defaults are omitted from :meth:`Scene.to_json`, so a v1 scene's JSON is unchanged.

Coordinates are pixels with the origin at the top-left corner of the stage, ``x`` to the right
and ``y`` down; every object is positioned by its centre. Angles are degrees (clockwise),
times are seconds.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from text2pixi.core.colors import CSS_COLOR_NAMES, HEX_COLOR_PATTERN, check_color, color_to_hex

MAX_STAGE_SIDE = 1920
MIN_STAGE_SIDE = 64
MAX_OBJECTS = 16
"""Objects of a v1 scene the model writes (the decoding grammar's bound, held on the :data:`STAGE_BOUNDS` path)."""
MAX_ANIMATIONS = 24
"""Animations a v1 scene the model writes may have (as :data:`MAX_OBJECTS`)."""
COMPILED_MAX_OBJECTS = 256
"""Objects of any other scene: a compiled v2 scene has up to 16 items of up to 16 copies each."""
COMPILED_MAX_ANIMATIONS = 512
"""Animations of any other scene: a 16 x 16 grid of copies with two steps each."""
MAX_TEXT_CHARS = 120
MAX_SECONDS = 60.0
MAX_CYCLES = 1000
STAGE_BOUNDS = "stage_bounds"
"""Validation-context key: ``context={STAGE_BOUNDS: True}`` holds object centres, line ends and move destinations
inside the stage, with the messages the re-ask loop sends back. Only the v1 generation path sets it (the model's
reply); compiled scenes, stored results and hand edits may go off-stage (a slide in, a move off-screen). It also
holds the v1 list bounds (:data:`MAX_OBJECTS`, :data:`MAX_ANIMATIONS`); other scenes have the compiled ones."""
EXTENSIONS = ("pivot", "axis", "cycle")
"""The compiled scene's fields that the v1 schema (:func:`scene_json_schema`, the decoding grammar) leaves out."""
_SLACK = 1e-9


Color = Annotated[
    str,
    AfterValidator(check_color),
    WithJsonSchema(
        {
            "description": "CSS colour name (e.g. red, skyblue) or hex #rrggbb",
            "anyOf": [
                {"type": "string", "enum": list(CSS_COLOR_NAMES)},
                {"type": "string", "pattern": HEX_COLOR_PATTERN},
            ],
        }
    ),
]


ObjectId = Annotated[
    str,
    Field(
        pattern=r"^[a-z][a-z0-9_]{0,15}$",
        description="unique name of the object: lowercase letters, digits, underscore",
    ),
]
Px = Annotated[int, Field(ge=-MAX_STAGE_SIDE, le=2 * MAX_STAGE_SIDE)]
Size = Annotated[int, Field(ge=1, le=2 * MAX_STAGE_SIDE)]


class _Strict(BaseModel):
    """Unknown keys are errors: a misspelt key must not silently fall back to a default."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class _Shape(_Strict):
    type: str
    id: ObjectId
    x: Px = Field(description="centre x in pixels from the left edge")
    y: Px = Field(description="centre y in pixels from the top edge")


Offset = Annotated[float, Field(ge=-2 * MAX_STAGE_SIDE, le=2 * MAX_STAGE_SIDE)]


class _Paint(_Strict):
    color: Color = "white"
    alpha: float = Field(1.0, ge=0.0, le=1.0, description="opacity, 0 transparent to 1 opaque")
    rot: int = Field(0, ge=-360, le=360, description="rotation in degrees, clockwise")
    pivot: SkipJsonSchema[tuple[Offset, Offset] | None] = Field(
        None, description="compiled scenes only: the origin of rotation and scale, as an offset in pixels from the "
        "centre in the object's own unrotated, unscaled frame ([-40, 40] is the bottom-left corner of an 80x80 "
        "square); x, y stay the centre at rest")


class Circle(_Paint, _Shape):
    type: Literal["circle"]
    r: Size = Field(description="radius in pixels")


class Rect(_Paint, _Shape):
    type: Literal["rect"]
    w: Size = Field(description="width in pixels")
    h: Size = Field(description="height in pixels")


class RoundRect(_Paint, _Shape):
    type: Literal["roundrect"]
    w: Size = Field(description="width in pixels")
    h: Size = Field(description="height in pixels")
    radius: int = Field(12, ge=0, le=MAX_STAGE_SIDE, description="corner radius in pixels")


class Ellipse(_Paint, _Shape):
    type: Literal["ellipse"]
    w: Size = Field(description="width in pixels")
    h: Size = Field(description="height in pixels")


class Triangle(_Paint, _Shape):
    type: Literal["triangle"]
    w: Size = Field(description="base width in pixels")
    h: Size = Field(description="height in pixels; the tip points up")


class Star(_Paint, _Shape):
    type: Literal["star"]
    r: Size = Field(description="outer radius in pixels")
    points: int = Field(5, ge=3, le=12, description="number of tips")
    inner: int | None = Field(None, ge=1, le=2 * MAX_STAGE_SIDE, description="inner radius in pixels; default r/2")


class Polygon(_Paint, _Shape):
    type: Literal["polygon"]
    pts: list[int] = Field(
        min_length=6,
        max_length=24,
        description="vertices as x1,y1,x2,y2,... in pixels relative to the centre",
    )


class Line(_Paint, _Shape):
    type: Literal["line"]
    x2: Px = Field(description="end x in pixels; (x, y) is the start")
    y2: Px = Field(description="end y in pixels")
    width: int = Field(4, ge=1, le=100, description="stroke width in pixels")


class Text(_Paint, _Shape):
    type: Literal["text"]
    text: str = Field(min_length=1, max_length=MAX_TEXT_CHARS, description="the words to show")
    size: int = Field(32, ge=6, le=400, description="font size in pixels")


SceneObject = Annotated[
    Circle | Rect | RoundRect | Ellipse | Triangle | Star | Polygon | Line | Text,
    Field(discriminator="type"),
]

Ease = Literal["linear", "easeIn", "easeOut", "easeInOut", "bounce", "elastic", "back"]


class _Anim(_Strict):
    type: str
    target: ObjectId = Field(description="id of the object to animate")


class Cycle(_Strict):
    """A looped sequence (compiled scenes only): it starts at ``start`` and replays every ``every`` seconds.

    Each animation of the sequence carries the same cycle; its ``delay`` is its first start, so ``delay - start``
    is its offset in the cycle, and it must end within the cycle (checked by :class:`Scene`). In each cycle an
    animation that has not reached its offset yet shows nothing of its own, so the sequence restarts from its
    beginning; after the last cycle every animation holds its end state.
    """

    start: float = Field(ge=0.0, le=MAX_SECONDS, description="seconds when the first cycle begins")
    every: float = Field(gt=0.0, le=MAX_SECONDS, description="seconds from one cycle's start to the next")
    times: int = Field(ge=-1, le=MAX_CYCLES, description="number of cycles; -1 loops forever")

    @model_validator(mode="after")
    def _check_times(self) -> Cycle:
        if self.times == 0:
            raise ValueError("cycle times must be -1 (forever) or at least 1")
        return self


class _Timing(_Strict):
    dur: float = Field(1.0, gt=0.0, le=MAX_SECONDS, description="duration in seconds")
    delay: float = Field(0.0, ge=0.0, le=MAX_SECONDS, description="start after this many seconds")
    ease: Ease = "linear"
    repeat: int = Field(0, ge=-1, le=100, description="extra repetitions; -1 repeats forever")
    yoyo: bool = Field(False, description="every other repetition runs backwards")
    cycle: SkipJsonSchema[Cycle | None] = Field(None, description="compiled scenes only: the looped sequence it "
                                                "belongs to")


class Move(_Timing, _Anim):
    type: Literal["move"]
    x: Px = Field(description="destination centre x in pixels")
    y: Px = Field(description="destination centre y in pixels")


class Rotate(_Timing, _Anim):
    type: Literal["rotate"]
    by: int = Field(ge=-36000, le=36000, description="degrees to turn, clockwise; negative turns anticlockwise")


class Scale(_Timing, _Anim):
    type: Literal["scale"]
    to: float = Field(ge=0.0, le=20.0, description="scale factor; 1 is the original size")
    axis: SkipJsonSchema[Literal["xy", "x", "y"]] = Field(
        "xy", description="compiled scenes only: scale both axes, or only x, or only y")


class Fade(_Timing, _Anim):
    type: Literal["fade"]
    to: float = Field(ge=0.0, le=1.0, description="opacity to reach, 0 to 1")


class Tint(_Timing, _Anim):
    type: Literal["color"]
    to: Color = Field(description="colour to change to")


Animation = Annotated[Move | Rotate | Scale | Fade | Tint, Field(discriminator="type")]


class Scene(_Strict):
    """A 2D animation: a stage, the objects on it, and the animations that drive them."""

    # The schema (the v1 grammar) keeps the v1 bounds; validation allows a compiled scene's (see STAGE_BOUNDS).
    objects: list[SceneObject] = Field(min_length=1, max_length=COMPILED_MAX_OBJECTS,
                                       json_schema_extra={"maxItems": MAX_OBJECTS})
    bg: Color = Field("black", description="stage background colour")
    w: int = Field(800, ge=MIN_STAGE_SIDE, le=MAX_STAGE_SIDE, description="stage width in pixels")
    h: int = Field(600, ge=MIN_STAGE_SIDE, le=MAX_STAGE_SIDE, description="stage height in pixels")
    anims: list[Animation] = Field(default_factory=list, max_length=COMPILED_MAX_ANIMATIONS,
                                   json_schema_extra={"maxItems": MAX_ANIMATIONS})

    @model_validator(mode="after")
    def _check_semantics(self, info: ValidationInfo) -> Scene:
        problems: list[str] = []
        stage_bounds = isinstance(info.context, dict) and bool(info.context.get(STAGE_BOUNDS))
        if stage_bounds:
            problems += _v1_list_problems(self)
        ids = [o.id for o in self.objects]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            problems.append(f"object ids must be unique; repeated: {', '.join(dupes)}")

        def inside(what: str, x: int, y: int) -> None:
            if stage_bounds and not (0 <= x <= self.w and 0 <= y <= self.h):
                problems.append(f"{what} ({x},{y}) is outside the {self.w}x{self.h} stage")

        background = color_to_hex(self.bg)
        for obj in self.objects:
            inside(f"object {obj.id!r} centre", obj.x, obj.y)
            if color_to_hex(obj.color) == background:
                problems.append(
                    f"object {obj.id!r} is {obj.color} on a {self.bg} background, so it would be invisible; "
                    "choose a different bg or color"
                )
            if isinstance(obj, Line):
                inside(f"line {obj.id!r} end", obj.x2, obj.y2)
            if isinstance(obj, Polygon) and len(obj.pts) % 2:
                problems.append(f"polygon {obj.id!r} needs an even number of pts (x,y pairs)")
            if isinstance(obj, Star) and obj.inner is not None and obj.inner >= obj.r:
                problems.append(f"star {obj.id!r} inner radius must be smaller than r")
        faded = {a.target for a in self.anims if isinstance(a, Fade)}
        for obj in self.objects:
            if obj.alpha == 0 and obj.id not in faded:
                problems.append(f"object {obj.id!r} has alpha 0 and no fade animation, so it is never visible")
        known = set(ids)
        for n, anim in enumerate(self.anims):
            if anim.target not in known:
                problems.append(
                    f"anims[{n}] targets {anim.target!r}, which is not an object id (ids: {', '.join(ids)})"
                )
            if isinstance(anim, Move):
                inside(f"anims[{n}] move destination", anim.x, anim.y)
            if anim.cycle is not None:
                problems += _cycle_problems(n, anim)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def to_json(self) -> str:
        """Compact JSON with defaults omitted."""
        return self.model_dump_json(exclude_defaults=True)

    def duration(self) -> float | None:
        """Seconds until the last animation ends (a looped sequence: its last cycle), or ``None`` when one
        repeats forever."""
        end = 0.0
        for anim in self.anims:
            if anim.repeat < 0 or (anim.cycle is not None and anim.cycle.times < 0):
                return None
            end = max(end, anim.delay + anim.dur * (anim.repeat + 1))
            if anim.cycle is not None:
                end = max(end, anim.cycle.start + anim.cycle.every * anim.cycle.times)
        return end


def _v1_list_problems(scene: Scene) -> list[str]:
    """The v1 bounds on the lists, worded as pydantic words its own list bounds (the re-ask loop sends them)."""
    problems = []
    for name, items, limit in (("objects", scene.objects, MAX_OBJECTS), ("anims", scene.anims, MAX_ANIMATIONS)):
        if len(items) > limit:
            problems.append(f"{name}: list should have at most {limit} items, not {len(items)}")
    return problems


def _cycle_problems(n: int, anim: _Timing) -> list[str]:
    """What makes an animation's cycle impossible: it must start within its cycle and end before the next."""
    cycle = anim.cycle
    assert cycle is not None
    problems = []
    if anim.delay + _SLACK < cycle.start:
        problems.append(f"anims[{n}] delay {anim.delay:g} is before its cycle's start {cycle.start:g}")
    if anim.repeat < 0:
        problems.append(f"anims[{n}] repeats forever inside a cycle; loop the cycle instead")
    elif anim.delay - cycle.start + anim.dur * (anim.repeat + 1) > cycle.every + _SLACK:
        problems.append(f"anims[{n}] ends {anim.delay - cycle.start + anim.dur * (anim.repeat + 1):g} s into its "
                        f"cycle, after the cycle's {cycle.every:g} s")
    return problems


def scene_json_schema() -> dict[str, object]:
    """The JSON schema the decoder enforces, derived from :class:`Scene`."""
    return Scene.model_json_schema()
