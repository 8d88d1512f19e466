"""The v2 scene language: what the model writes. Intent, not pixels; the compiler works out the rest.

Keys are short English words, values are enums or bounded numbers, every optional key has a default, and an
item's steps are nested in it, so a small model writes few tokens and no id bookkeeping. The key order of
each model is the order the decoding grammar enforces (:func:`v2_json_schema`). A step is an object whose
first key is its verb (``{"move":"right","by":100}``); the verb decides which model validates it, so an error
names that verb's own fields. The full reference, with each verb's exact timeline, is ``docs/scene-v2.md``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag, model_validator

from text2pixi.core.scene import MAX_SECONDS, MAX_STAGE_SIDE, MAX_TEXT_CHARS, MIN_STAGE_SIDE, Color

MAX_ITEMS = 16
MAX_STEPS = 24
MAX_COPIES = 16
MAX_PX = 2 * MAX_STAGE_SIDE

Anchor = Literal["center", "top", "bottom", "left", "right", "top-left", "top-right", "bottom-left", "bottom-right"]
"""A stage anchor (inset by a margin so the object is inside), a region for copies, or a pivot on the object."""
Relation = Literal["left", "right", "above", "below", "on"]
"""Where an item goes relative to the one named by ``of``."""
Direction = Literal[
    "up", "down", "left", "right", "up-left", "up-right", "down-left", "down-right",
    "north", "south", "east", "west", "northeast", "northwest", "southeast", "southwest",
]
Side = Literal["left", "right", "top", "bottom"]
Shape = Literal["circle", "square", "rect", "roundrect", "ellipse", "triangle", "star", "polygon", "line", "text"]
SizeName = Literal["tiny", "small", "medium", "large", "huge"]
Layout = Literal["row", "column", "grid", "ring"]
Ease = Literal["linear", "easeIn", "easeOut", "easeInOut", "bounce", "elastic", "back"]
ItemId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,12}$")]
"""Short enough that copy ids (``<id>1`` .. ``<id>16``) stay valid compiled object ids."""


def upto(limit: float) -> BeforeValidator:
    """A magnitude past its largest allowed value means that value ("shrinks down to nothing" written as
    ``"shrink":100``, "endlessly" as ``"dur":100``): the intent is "as much as possible", and refusing it only
    re-asks for the same number. Lower bounds stay errors (a zero duration or factor has no such reading)."""

    def clamp(value: Any) -> Any:
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value > limit:
            return type(value)(limit)
        return value

    return BeforeValidator(clamp)


def _size(value: Any) -> Any:
    """A move's distance written negative ("down by -120"): the direction says where, the number how far."""
    return -value if isinstance(value, int) and not isinstance(value, bool) and value < 0 else value


Distance = Annotated[int, Field(ge=1, le=MAX_PX), upto(MAX_PX), BeforeValidator(_size)]
Fraction = Annotated[float, Field(ge=-1.0, le=2.0)]
Point = Annotated[list[Fraction], Field(min_length=2, max_length=2)]
"""``[fx, fy]``: fractions of the stage width and height (0..1 on stage; a little beyond is off-stage)."""
Pixel = Annotated[int, Field(ge=-MAX_STAGE_SIDE, le=MAX_PX)]
XY = Annotated[list[Pixel], Field(min_length=2, max_length=2)]
Seconds = Annotated[float, Field(gt=0.0, le=MAX_SECONDS), upto(MAX_SECONDS)]
Times = Annotated[int, Field(ge=-1, le=101), upto(101)]
"""How many times a step plays: 1 once, -1 forever (0 is refused by the validator)."""


class _Strict(BaseModel):
    """Unknown keys are errors, and values are immutable; aliases are what the model writes."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, serialize_by_alias=True)


class _Timing(_Strict):
    """Options every step accepts. ``dur`` and ``ease`` default per verb (see the reference)."""

    dur: Seconds | None = None
    ease: Ease | None = None
    times: Times | None = None
    yoyo: bool = False
    with_: bool = Field(False, alias="with")
    delay: Annotated[float, upto(MAX_SECONDS)] = Field(0.0, ge=0.0, le=MAX_SECONDS)

    @model_validator(mode="after")
    def _times_not_zero(self) -> _Timing:
        if self.times == 0:
            raise ValueError("times must be 1 or more, or -1 for forever")
        return self


class _Move(_Strict):
    move: Direction
    by: Distance | Literal["edge", "off"] | None = None


class _To(_Strict):
    to: Anchor | Literal["above", "below", "on", "start"] | Point
    of: ItemId | None = None
    gap: int | None = Field(None, ge=0, le=MAX_STAGE_SIDE)


class _Xy(_Strict):
    xy: XY


class _Spin(_Strict):
    spin: Literal["cw", "ccw"]
    turns: Annotated[float, upto(100.0)] = Field(1.0, gt=0.0, le=100.0)
    about: Anchor | None = None


class _Rotate(_Strict):
    rotate: int = Field(ge=-36000, le=36000)
    dir: Literal["cw", "ccw"] = "cw"
    about: Anchor | None = None


class _Scale(_Strict):
    scale: Annotated[float, upto(20.0)] = Field(ge=0.0, le=20.0)
    axis: Literal["xy", "x", "y"] = "xy"
    about: Anchor | None = None


class _Grow(_Strict):
    grow: Annotated[float, upto(20.0)] = Field(gt=0.0, le=20.0)
    axis: Literal["xy", "x", "y"] = "xy"
    about: Anchor | None = None


class _Shrink(_Strict):
    shrink: Annotated[float, upto(20.0)] = Field(gt=0.0, le=20.0)
    axis: Literal["xy", "x", "y"] = "xy"
    about: Anchor | None = None


class _Fade(_Strict):
    fade: Literal["in", "out"] | Annotated[float, Field(ge=0.0, le=1.0)]


class _Color(_Strict):
    color: Color


class _Pulse(_Strict):
    pulse: Annotated[float, upto(5.0)] = Field(gt=0.0, le=5.0)


class _Bounce(_Strict):
    bounce: Annotated[int, upto(MAX_PX)] = Field(ge=1, le=MAX_PX)


class _Shake(_Strict):
    shake: Annotated[int, upto(MAX_STAGE_SIDE)] = Field(ge=1, le=MAX_STAGE_SIDE)


class _Float(_Strict):
    float_: Annotated[int, upto(MAX_STAGE_SIDE)] = Field(alias="float", ge=1, le=MAX_STAGE_SIDE)


class _Blink(_Strict):
    blink: Annotated[int, upto(100)] = Field(ge=1, le=100)


class _Slide(_Strict):
    slide: Literal["in", "out"]
    side: Side | None = None


class _Fall(_Strict):
    fall: Literal["bottom", "off"]


# The verb's own fields first, the timing options after them (pydantic orders fields base-last in the MRO).
class MoveStep(_Timing, _Move):
    """Move by a distance in a direction (default: a quarter of the stage, kept on stage)."""


class ToStep(_Timing, _To):
    """Move to an anchor, a stage fraction, next to another item, or back to the start."""


class XyStep(_Timing, _Xy):
    """Move to absolute pixels."""


class SpinStep(_Timing, _Spin):
    """Whole turns at a steady speed; forever unless ``times`` (or another step follows)."""


class RotateStep(_Timing, _Rotate):
    """Turn by an angle, clockwise unless ``dir`` is ccw, about the centre or ``about``."""


class ScaleStep(_Timing, _Scale):
    """Scale to a factor of the original size."""


class GrowStep(_Timing, _Grow):
    """Scale by a factor of the current size."""


class ShrinkStep(_Timing, _Shrink):
    """Scale down by a factor (2 and 0.5 both halve the size)."""


class FadeStep(_Timing, _Fade):
    """Fade in (the item starts invisible), out, or to an opacity."""


class ColorStep(_Timing, _Color):
    """Change colour."""


class PulseStep(_Timing, _Pulse):
    """Grow by a factor and back; forever unless ``times``."""


class BounceStep(_Timing, _Bounce):
    """Hop up by a height and fall back; forever unless ``times``."""


class ShakeStep(_Timing, _Shake):
    """Shake sideways by an amplitude and settle where it was."""


class FloatStep(_Timing, _Float):
    """Drift up by an amplitude and back, gently; forever unless ``times``."""


class BlinkStep(_Timing, _Blink):
    """Disappear and reappear, a number of times."""


class SlideStep(_Timing, _Slide):
    """Slide in from off-stage to the item's place, or out to off-stage."""


class FallStep(_Timing, _Fall):
    """Fall down to the bottom edge, or off the stage."""


class WaitStep(_Strict):
    """Do nothing for a while (the next step starts later)."""

    wait: Seconds
    with_: bool = Field(False, alias="with")


_STEPS: dict[str, type[_Strict]] = {
    "move": MoveStep, "to": ToStep, "xy": XyStep, "spin": SpinStep, "rotate": RotateStep, "scale": ScaleStep,
    "grow": GrowStep, "shrink": ShrinkStep, "fade": FadeStep, "color": ColorStep, "pulse": PulseStep,
    "bounce": BounceStep, "shake": ShakeStep, "float": FloatStep, "blink": BlinkStep, "slide": SlideStep,
    "fall": FallStep, "wait": WaitStep,
}
VERBS = tuple(_STEPS)
MOVE_STEPS = (MoveStep, ToStep, XyStep)
"""The steps that move an item across the stage to a point (not the presets that swing or slide it)."""


def _verb(value: Any) -> str | None:
    """The verb of a step: its first key (JSON input) or its model (an instance)."""
    if isinstance(value, dict):
        return next((k for k in value if k in _STEPS), None)
    for verb, model in _STEPS.items():
        if isinstance(value, model):
            return verb
    return None


def verb_of(step: object) -> str:
    """The verb of a validated step."""
    verb = _verb(step)
    if verb is None:
        raise TypeError(f"not a step: {step!r}")
    return verb


Step = Annotated[
    Annotated[MoveStep, Tag("move")] | Annotated[ToStep, Tag("to")] | Annotated[XyStep, Tag("xy")]
    | Annotated[SpinStep, Tag("spin")] | Annotated[RotateStep, Tag("rotate")] | Annotated[ScaleStep, Tag("scale")]
    | Annotated[GrowStep, Tag("grow")] | Annotated[ShrinkStep, Tag("shrink")] | Annotated[FadeStep, Tag("fade")]
    | Annotated[ColorStep, Tag("color")] | Annotated[PulseStep, Tag("pulse")] | Annotated[BounceStep, Tag("bounce")]
    | Annotated[ShakeStep, Tag("shake")] | Annotated[FloatStep, Tag("float")] | Annotated[BlinkStep, Tag("blink")]
    | Annotated[SlideStep, Tag("slide")] | Annotated[FallStep, Tag("fall")] | Annotated[WaitStep, Tag("wait")],
    Discriminator(_verb, custom_error_type="unknown_verb",
                  custom_error_message=f"a step starts with one verb key: {', '.join(_STEPS)}"),
]


_SHAPE_NOUNS = {"circle": ("ball",), "rect": ("rectangle", "box"), "roundrect": ("rectangle", "box"),
                "square": ("box",), "ellipse": ("oval",), "polygon": ("hexagon",)}
"""Nouns a shape is also called by, besides its own name (a label equal to one of them names the item)."""


class Item(_Strict):
    """One object (or ``n`` copies of it), where it is, and what it does."""

    id: ItemId | None = None
    shape: Shape = "circle"
    text: str | None = Field(None, min_length=1, max_length=MAX_TEXT_CHARS)
    color: Color | None = None
    size: SizeName | Annotated[int, Field(ge=1, le=2 * MAX_PX)] = "medium"
    aspect: float | None = Field(None, gt=0.0, le=MAX_PX)
    sides: int = Field(6, ge=3, le=12)
    points: int = Field(5, ge=3, le=12)
    inner: int | None = Field(None, ge=1, le=MAX_PX)
    radius: int | None = Field(None, ge=0, le=MAX_STAGE_SIDE)
    width: int = Field(4, ge=1, le=100)
    pts: list[int] | None = Field(None, min_length=6, max_length=24)
    rot: int = Field(0, ge=-360, le=360)
    alpha: float = Field(1.0, ge=0.0, le=1.0)
    at: Anchor | Relation | Point | None = None
    of: ItemId | None = None
    gap: int = Field(20, ge=0, le=MAX_STAGE_SIDE)
    xy: XY | None = None
    xy2: XY | None = None
    n: int = Field(1, ge=1, le=MAX_COPIES)
    layout: Layout = "row"
    in_: Anchor | None = Field(None, alias="in")
    cols: int | None = Field(None, ge=1, le=MAX_COPIES)
    colors: list[Color] | None = Field(None, min_length=1, max_length=MAX_COPIES)
    stagger: Literal["then"] | Annotated[float, Field(ge=0.0, le=MAX_SECONDS), upto(MAX_SECONDS)] | None = None
    after: ItemId | None = None
    start: Annotated[float, upto(MAX_SECONDS)] = Field(0.0, ge=0.0, le=MAX_SECONDS)
    loop: bool | Annotated[int, Field(ge=1, le=100), upto(100)] = False
    do: list[Step] = Field(default_factory=list, max_length=MAX_STEPS)

    @model_validator(mode="before")
    @classmethod
    def _no_own_name_as_text(cls, data: Any) -> Any:
        """A shape labelled with its own shape word or id (``{"shape":"star","text":"star"}``): the model named
        the item, it did not ask for a text item, so the label goes; any other text on a shape stays an error."""
        if not isinstance(data, dict) or data.get("shape") in (None, "text") or not isinstance(data.get("text"), str):
            return data
        own = {str(data["shape"]), *_SHAPE_NOUNS.get(str(data["shape"]), ())}
        if isinstance(data.get("id"), str):
            own.add(data["id"])
        return {k: v for k, v in data.items() if k != "text"} if data["text"].strip().lower() in own else data

    @model_validator(mode="after")
    def _consistent(self) -> Item:
        name = self.id or self.shape
        if self.shape == "text" and self.text is None:
            raise ValueError(f"item {name!r} is text but has no \"text\"; add \"text\":\"...\"")
        if self.shape != "text" and self.text is not None:
            raise ValueError(f"item {name!r} has \"text\" but shape {self.shape!r}; use \"shape\":\"text\"")
        if self.pts is not None and len(self.pts) % 2:
            raise ValueError(f"item {name!r}: pts needs an even number of values (x,y pairs)")
        if self.xy2 is not None and (self.shape != "line" or self.xy is None):
            raise ValueError(f"item {name!r}: xy2 (a line's end) needs shape line and xy (its start)")
        if sum(p is not None for p in (self.at, self.xy)) > 1:
            raise ValueError(f"item {name!r} has both at and xy; give one placement")
        if self.of is not None and self.at is None:
            raise ValueError(f"item {name!r} has of but no at; write e.g. \"at\":\"left\",\"of\":\"{self.of}\"")
        if self.n > 1 and (self.at is not None or self.xy is not None):
            raise ValueError(f"item {name!r} has {self.n} copies and a single place; use \"in\" for their region")
        return self


class V2Scene(_Strict):
    """A whole v2 scene: the stage and its items, each with its steps."""

    bg: Color = "black"
    w: int = Field(800, ge=MIN_STAGE_SIDE, le=MAX_STAGE_SIDE)
    h: int = Field(600, ge=MIN_STAGE_SIDE, le=MAX_STAGE_SIDE)
    items: list[Item] = Field(min_length=1, max_length=MAX_ITEMS)

    def to_json(self) -> str:
        """Compact JSON with defaults omitted, in the grammar's key order."""
        return self.model_dump_json(exclude_defaults=True, by_alias=True)


def _no_null(node: Any) -> Any:
    """Drop ``null`` alternatives and ``null`` defaults: an omitted key is how the model says "default"."""
    if isinstance(node, list):
        return [_no_null(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _no_null(v) for k, v in node.items() if not (k == "default" and v is None)}
    if "anyOf" in out:
        options = [o for o in out["anyOf"] if o != {"type": "null"}]
        if len(options) == 1:
            del out["anyOf"]
            out.update(options[0])
        else:
            out["anyOf"] = options
    return out


def v2_json_schema() -> dict[str, Any]:
    """The JSON schema the decoder enforces for v2 scenes (key order = field order, no nulls)."""
    return dict(_no_null(V2Scene.model_json_schema(by_alias=True)))
