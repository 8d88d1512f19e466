"""Sanity checks on a compiled scene: things a viewer cannot see, and animations that change nothing.

IO-free. A scene can be valid and still show nothing: a white square on the near-white background, an
object transparent or off the stage at every moment, a move that ends where the object already is.
:func:`review` finds these (:mod:`text2pixi.core.visibility` over :mod:`text2pixi.core.timeline`, i.e. as the
page plays the scene) and decides, for each one, by what the sentence says:

- the sentence says nothing about it (no colour named for that object or the background, no motion word
  for a no-op move, ...): a deterministic **fix** (a contrasting background or object colour, opacity 1,
  the object moved onto the stage, the no-op animation dropped), listed in :attr:`Review.fixes`;
- the sentence says something about it and the scene contradicts it: a **problem** whose message tells the
  model which object, what is wrong and what the sentence asked; the engine re-asks with it;
- the sentence asks for exactly what was written (yellow on white): left alone, listed in :attr:`Review.kept`.

A colour the sentence names (:mod:`text2pixi.core.stated`) is never changed. For a refinement, what was
already wrong in the base scene is not the refinement's doing and is left alone (the user has seen it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ConfigDict, ModelWrapValidatorHandler, ValidationError, ValidationInfo, model_validator

from text2pixi.core import scene as s
from text2pixi.core import timeline as tl
from text2pixi.core.colors import CSS_COLOR_NAMES, color_family
from text2pixi.core.edit_words import COLOR_CHANGE_WORDS, mentioned, targeted, tokens
from text2pixi.core.sanity_issues import Issue, find_issues
from text2pixi.core.stated import StatedColors, stated_colors
from text2pixi.core.visibility import FIX_CONTRAST, MIN_ALPHA, RGB, contrast, legible, local_box, states

BG_CHOICES = ("black", "white")
"""Backgrounds a fix may pick (when the sentence names none): the two that contrast with the most colours."""

_CATEGORY = {"move": "pos", "rotate": "rot", "scale": "size", "fade": "alpha", "color": "color"}
"""The :func:`text2pixi.core.edit_words.mentioned` category that speaks of each animation type."""


@dataclass(frozen=True)
class Problem:
    """Something the sentence asks for that the scene gets wrong: what the model is re-asked with."""

    kind: str
    target: str
    message: str


@dataclass(frozen=True)
class Review:
    """The scene with deterministic fixes applied, what they were, and what needs a re-ask."""

    scene: s.Scene
    fixes: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    def message(self) -> str:
        """The re-ask message: every problem, one sentence each."""
        return "; ".join(p.message for p in self.problems)


@dataclass
class _Context:
    prompt: str
    words: set[str]
    categories: set[str]
    named: set[str] | None
    colors: StatedColors

    def speaks_of(self, category: str, target: str) -> bool:
        if category == "color":
            found = bool(self.words & COLOR_CHANGE_WORDS)
        else:
            found = category in self.categories
        return found and (self.named is None or target in self.named)


def review(scene: s.Scene, prompt: str, base: s.Scene | None = None) -> Review:
    """Find what cannot be seen or changes nothing, fix what the sentence leaves open, report the rest."""
    issues = find_issues(scene)
    if base is not None:
        before = {i.key for i in find_issues(base)}
        issues = [i for i in issues if i.key not in before]
    if not issues:
        return Review(scene)
    ctx = _Context(prompt, tokens(prompt), mentioned(prompt), targeted(scene, prompt), stated_colors(prompt))
    fixes: list[str] = []
    problems: list[Problem] = []
    kept: list[str] = []
    objects = {o.id: o for o in scene.objects}
    drop: set[int] = set()
    updates: dict[str, dict[str, Any]] = {}
    moves: dict[int, tuple[int, int]] = {}
    contrast_issues: list[Issue] = []
    for issue in issues:
        if issue.kind == "no_op":
            anim = scene.anims[issue.anim]
            if ctx.speaks_of(_CATEGORY[anim.type], anim.target):
                problems.append(Problem("no_op", anim.target, issue.message + _no_op_hint(anim, ctx.words)))
            else:
                drop.add(issue.anim)
                fixes.append(f"dropped {issue.message}")
        elif issue.kind == "transparent":
            if ctx.speaks_of("alpha", issue.target):
                problems.append(Problem("transparent", issue.target, f"{issue.message}; the sentence asks for it "
                                        "to appear or fade: give it an alpha or a fade that reaches at least 0.5"))
            else:
                updates.setdefault(issue.target, {})["alpha"] = 1.0
                drop.update(n for n, a in enumerate(scene.anims) if a.target == issue.target and a.type == "fade")
                fixes.append(f"made {issue.target!r} opaque: {issue.message}")
        elif issue.kind == "off_stage":
            if ctx.speaks_of("pos", issue.target):
                problems.append(Problem("off_stage", issue.target, f"{issue.message}; place or move it inside "
                                        f"the {scene.w}x{scene.h} stage where the sentence says"))
            else:
                _onto_stage(scene, objects[issue.target], updates, moves)
                fixes.append(f"moved {issue.target!r} onto the stage: {issue.message}")
        else:
            contrast_issues.append(issue)
    fixed = _apply(scene, updates, moves, drop)
    if contrast_issues:
        fixed = _contrast(fixed, contrast_issues, ctx, fixes, problems, kept)
    return Review(fixed, fixes, problems, kept)


_DIRECTIONS = ("left", "right", "up", "down", "top", "bottom", "across", "centre", "center", "corner", "edge",
               "side", "away", "back", "falls", "fall", "rises", "rise", "drops", "jumps", "slides")


def _no_op_hint(anim: Any, words: set[str]) -> str:
    if isinstance(anim, s.Move):
        said = ", ".join(f'"{w}"' for w in _DIRECTIONS if w in words)
        return (f"; the sentence asks for motion{f' ({said})' if said else ''}: give a destination away from "
                "where the object is")
    if isinstance(anim, s.Fade):
        return ("; a fade in needs the object's alpha to start at 0, a fade out needs a lower alpha "
                "than the object has")
    if isinstance(anim, s.Rotate):
        return "; the sentence asks for a rotation: give 'by' a non-zero number of degrees"
    if isinstance(anim, s.Scale):
        return "; the sentence asks for a size change: give a scale factor different from the current one"
    return "; the sentence asks for a colour change: give a different colour"


def _clamp(v: float, low: float, high: float) -> int:
    return round(min(max(v, low), high)) if low <= high else round((low + high) / 2)


def _onto_stage(scene: s.Scene, obj: Any, updates: dict[str, dict[str, Any]],
                moves: dict[int, tuple[int, int]]) -> None:
    """Clamp the object's resting place and its move destinations so that its box lies on the stage."""
    x0, y0, x1, y1 = local_box(obj)
    cx, cy = tl.initial_value(obj, "pos")
    nx, ny = _clamp(cx, -x0, scene.w - x1), _clamp(cy, -y0, scene.h - y1)
    change = updates.setdefault(obj.id, {})
    change["x"], change["y"] = round(obj.x + nx - cx), round(obj.y + ny - cy)
    if isinstance(obj, s.Line):
        change["x2"], change["y2"] = round(obj.x2 + nx - cx), round(obj.y2 + ny - cy)
    for n, anim in enumerate(scene.anims):
        if anim.target == obj.id and isinstance(anim, s.Move):
            moves[n] = (_clamp(anim.x, -x0, scene.w - x1), _clamp(anim.y, -y0, scene.h - y1))


def _apply(scene: s.Scene, updates: dict[str, dict[str, Any]], moves: dict[int, tuple[int, int]],
           drop: set[int]) -> s.Scene:
    """A copy of the scene with object fields updated, move destinations replaced and animations dropped."""
    if not (updates or moves or drop):
        return scene
    objects = [o.model_copy(update=updates[o.id]) if o.id in updates else o for o in scene.objects]
    anims = []
    for n, anim in enumerate(scene.anims):
        if n in drop:
            continue
        anims.append(anim.model_copy(update={"x": moves[n][0], "y": moves[n][1]}) if n in moves else anim)
    return scene.model_copy(update={"objects": objects, "anims": anims})


def _describe(obj: Any) -> str:
    return f"the {obj.color} {obj.type} {obj.id!r}"


def _contrast(scene: s.Scene, issues: list[Issue], ctx: _Context, fixes: list[str], problems: list[Problem],
              kept: list[str]) -> s.Scene:
    """Re-ask what contradicts the sentence's colours; otherwise change what it leaves open (bg first)."""
    objects = {o.id: o for o in scene.objects}
    open_ids: list[str] = []
    for issue in issues:
        obj = objects[issue.target]
        if not ctx.colors.bg_accepts(scene.bg):
            asked = " or ".join(w.text for w in ctx.colors.background)
            problems.append(Problem("contrast", obj.id, f"the sentence asks for a {asked} background; bg is "
                                    f"{scene.bg}, so {_describe(obj)} is nearly invisible on it ({issue.message})"))
        elif mismatch := ctx.colors.kind_mismatch(obj.type, obj.color):
            asked = " or ".join(w.text for w in mismatch)
            problems.append(Problem("contrast", obj.id, f"the sentence asks for a {asked} {obj.type}; "
                                    f"{obj.id!r} is {obj.color} on the {scene.bg} background, where it is nearly "
                                    f"invisible ({issue.message})"))
        elif ctx.colors.object_stated(obj.color) and ctx.colors.bg_stated():
            kept.append(f"{_describe(obj)} on {scene.bg} is hard to see ({issue.message}), as the sentence asks")
        else:
            open_ids.append(obj.id)
    if not open_ids:
        return scene
    if not ctx.colors.bg_stated():
        scene = _better_background(scene, ctx, fixes)
    still = {i.target for i in find_issues(scene) if i.kind == "contrast"}
    updates: dict[str, dict[str, Any]] = {}
    recolor: dict[int, str] = {}
    bg = tl.rgb(scene.bg)
    for obj in scene.objects:
        if obj.id not in still or obj.id not in open_ids or ctx.colors.object_stated(obj.color):
            continue
        if not legible(tl.rgb(obj.color), bg):
            updates[obj.id] = {"color": _contrasting(obj.color, bg)}
            fixes.append(f"recoloured {obj.id!r} from {obj.color} to {updates[obj.id]['color']}: it was nearly "
                         f"invisible on the {scene.bg} background")
        for n, anim in enumerate(scene.anims):
            if anim.target == obj.id and isinstance(anim, s.Tint) and not legible(tl.rgb(anim.to), bg) \
                    and not ctx.colors.object_stated(anim.to):
                recolor[n] = _contrasting(anim.to, bg)
                fixes.append(f"anims[{n}] now changes {obj.id!r} to {recolor[n]} instead of {anim.to}, which "
                             f"is nearly invisible on the {scene.bg} background")
    fixed = _apply(scene, updates, {}, set())
    if recolor:
        anims = [a.model_copy(update={"to": recolor[n]}) if n in recolor else a for n, a in enumerate(fixed.anims)]
        fixed = fixed.model_copy(update={"anims": anims})
    return fixed


def _score(scene: s.Scene) -> tuple[int, float]:
    """(objects nearly invisible, -lowest best-moment contrast): smaller is better."""
    bg = tl.rgb(scene.bg)
    invisible, lowest = 0, 21.0
    for rows in states(scene).values():
        best = max(contrast(r.color, bg) for r in rows)
        lowest = min(lowest, best)
        invisible += not any(legible(r.color, bg) for r in rows if r.alpha >= MIN_ALPHA)
    return invisible, -lowest


def _better_background(scene: s.Scene, ctx: _Context, fixes: list[str]) -> s.Scene:
    """Swap the background for the choice that leaves the fewest objects nearly invisible, if that is fewer."""
    current = _score(scene)
    best, best_score = scene, current
    for choice in BG_CHOICES:
        candidate = scene.model_copy(update={"bg": choice})
        if _stated_lost(scene, candidate, ctx):
            continue
        score = _score(candidate)
        if score < best_score:
            best, best_score = candidate, score
    if best is not scene and best_score[0] < current[0]:
        fixes.append(f"changed the background from {scene.bg} to {best.bg}: objects were nearly invisible on it")
        return best
    return scene


def _stated_lost(before: s.Scene, after: s.Scene, ctx: _Context) -> bool:
    """Would ``after``'s background hide an object whose colour the sentence names and ``before`` shows?"""
    seen_before = {i.target for i in find_issues(before) if i.kind == "contrast"}
    for issue in find_issues(after):
        obj = next(o for o in after.objects if o.id == issue.target)
        if issue.kind == "contrast" and issue.target not in seen_before and ctx.colors.object_stated(obj.color):
            return True
    return False


def _contrasting(color: str, bg: RGB) -> str:
    """The colour of the same family nearest to ``color`` that reaches :data:`FIX_CONTRAST` on ``bg``,
    else black or white, whichever contrasts more."""
    family = color_family(color)
    base = tl.rgb(color)
    same = [c for c in CSS_COLOR_NAMES if color_family(c) == family and contrast(tl.rgb(c), bg) >= FIX_CONTRAST]
    if same:
        return min(same, key=lambda c: (sum((a - b) ** 2 for a, b in zip(tl.rgb(c), base, strict=True)), c))
    return max(("black", "white"), key=lambda c: contrast(tl.rgb(c), bg))


@dataclass(frozen=True)
class SanityContext:
    """What :class:`ReviewedScene` needs besides the reply: the sentence, a refinement's base, and whether this
    is the last attempt (whose sanity problems are then kept and reported instead of failing the request)."""

    prompt: str
    base: s.Scene | None = None
    last_attempt: Callable[[], bool] = lambda: False


class ReviewedScene(s.Scene):
    """A :class:`Scene` that also fails validation on the sanity problems the sentence speaks of.

    Used as the response model of the engine's re-ask loop with a :class:`SanityContext` as the validation
    context (``context={"sanity": ...}``), so a problem reaches the model exactly as a schema error does.
    Its JSON schema is :class:`Scene`'s, so the decoding grammar is unchanged.
    """

    model_config = ConfigDict(title="Scene")  # errors read "validation error for Scene", as without review

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return s.Scene.model_json_schema(*args, **kwargs)

    @model_validator(mode="wrap")
    @classmethod
    def _review(cls, value: Any, handler: ModelWrapValidatorHandler[ReviewedScene],
                info: ValidationInfo) -> ReviewedScene:
        ctx = (info.context or {}).get("sanity")
        if not isinstance(ctx, SanityContext):
            return handler(value)
        try:
            scene = handler(value)
        except ValidationError as exc:
            hint = _background_hint(value, ctx.prompt, exc)
            if hint is None:
                raise
            raise ValueError(f"{exc.errors()[0]['msg'].removeprefix('Value error, ')}; {hint}") from None
        found = review(scene, ctx.prompt, ctx.base)
        if found.problems and not ctx.last_attempt():
            raise ValueError(found.message())
        return scene


def _background_hint(value: Any, prompt: str, exc: ValidationError) -> str | None:
    """For the same-colour rejection (``Scene``'s own check), the background the sentence asks for."""
    if exc.error_count() != 1 or "would be invisible" not in str(exc) or not isinstance(value, dict):
        return None
    bg = value.get("bg", "black")
    asked = stated_colors(prompt)
    try:
        if not isinstance(bg, str) or asked.bg_accepts(bg.strip().lower()):
            return None
    except (ValueError, KeyError):  # not a colour: the reply's own error says so
        return None
    names = " or ".join(w.text for w in asked.background)
    return f"the sentence asks for a {names} background, not {bg}: set bg to it"
