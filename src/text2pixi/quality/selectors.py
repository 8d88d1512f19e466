"""Which objects a quality check is about, and the scene geometry it judges them by (IO-free).

A check selects objects by kind (with everyday aliases: a "square" is a rect or roundrect with
nearly equal sides, a "ball" a circle), colour family and text. The helpers below say where an
object is and where it goes: :func:`in_region` is deliberately tolerant ("left" is the left 40 % of
the stage), :func:`goes` strict about directions. Coordinates follow :mod:`text2pixi.core.scene`:
pixels, origin top-left, ``y`` down.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from text2pixi.core.colors import color_matches, normalize_family
from text2pixi.core.scene import (
    Circle,
    Ellipse,
    Line,
    Move,
    Polygon,
    Rect,
    RoundRect,
    Scene,
    SceneObject,
    Star,
    Text,
    Triangle,
)

KINDS = ("circle", "rect", "roundrect", "ellipse", "triangle", "star", "polygon", "line", "text")
KIND_ALIASES = {"square": ("rect", "roundrect"), "box": ("rect", "roundrect"), "rectangle": ("rect", "roundrect"),
                "ball": ("circle",)}
MIN_MOVE_PX = 20  # a move shorter than this in a direction does not count as moving that way


def _kind_list(value: Any) -> Any:
    kinds = [value] if isinstance(value, str) else value
    for kind in kinds or []:
        if kind not in KINDS and kind not in KIND_ALIASES:
            raise ValueError(f"unknown kind {kind!r}; use one of {', '.join(KINDS + tuple(KIND_ALIASES))}")
    return kinds


Kinds = Annotated[list[str] | None, BeforeValidator(_kind_list)]
"""Scene kinds or aliases; one kind may be given as a plain string."""

Family = Annotated[str, AfterValidator(normalize_family)]
"""A colour family (a colour name is read as its family)."""


class NoMatch(Exception):
    """No object matched the selector (the check cannot hold)."""


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


class Selector(BaseModel):
    """Which objects a check is about: every given field must match."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Kinds = Field(None, description="scene kinds, or square/box/rectangle/ball")
    color: Family | None = Field(None, description="colour family the object must have")
    text: str | None = Field(None, description="substring of a text object's words (case-insensitive)")

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
            raise NoMatch(f"no {self.describe()} in the scene (objects: {kinds})")
        return found


AnimT = TypeVar("AnimT")


def anims_of(scene: Scene, obj_id: str, kind: type[AnimT]) -> list[AnimT]:
    """The animations of type ``kind`` that target ``obj_id``, in scene order."""
    return [a for a in scene.anims if a.target == obj_id and isinstance(a, kind)]


def moves_with_origin(scene: Scene, obj: SceneObject) -> list[tuple[Move, int, int]]:
    """Each move of ``obj`` in start-time order, with where it starts (the previous destination)."""
    x, y = obj.x, obj.y
    out = []
    for move in sorted(anims_of(scene, obj.id, Move), key=lambda m: m.delay):
        out.append((move, x, y))
        x, y = move.x, move.y
    return out


def end_position(scene: Scene, obj: SceneObject) -> tuple[int, int]:
    """Where ``obj`` ends up: the destination of its move that ends last (its start without moves)."""
    moves = anims_of(scene, obj.id, Move)
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
