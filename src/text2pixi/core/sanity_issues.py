"""The sanity issues of a compiled scene, found from its timeline; :mod:`text2pixi.core.sanity` decides what to do.

IO-free. Four kinds, each "at every moment" of the scene as the page plays it (:mod:`text2pixi.core.visibility`):

- ``transparent``: the object's opacity never reaches :data:`~text2pixi.core.visibility.MIN_ALPHA`;
- ``off_stage``: its bounding box (size, rotation, scale and pivot included) never overlaps the stage;
- ``contrast``: whenever it is opaque enough and on the stage, its colour is nearly invisible on the background;
- ``no_op``: an animation whose end value is the value it starts from, and without which every value of the
  scene stays the same at every moment (a "no-op" that stops an earlier loop does something, and is not one).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from text2pixi.core import scene as s
from text2pixi.core import timeline as tl
from text2pixi.core.visibility import MIN_ALPHA, MIN_CONTRAST, contrast, legible, on_stage, sample_times, states

_SAME = {"pos": 0.5, "angle": 1e-6, "scale": 1e-3, "sx": 1e-3, "sy": 1e-3, "alpha": 1e-3, "tint": 0.5}
"""How close a tween's end is to its start to change nothing visible (pixels, degrees, factor, opacity, 0-255)."""


@dataclass(frozen=True)
class Issue:
    """One sanity issue: its kind, the object, the animation's index for a no-op, and a sentence with numbers."""

    kind: str
    target: str
    message: str
    anim: int = -1
    anim_type: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        """What identifies the issue across two versions of a scene (a refinement and its base)."""
        return (self.kind, self.target, self.anim_type)


def _num(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def find_issues(scene: s.Scene) -> list[Issue]:
    """Every issue of the scene, objects in order, then no-op animations in order."""
    issues: list[Issue] = []
    bg = tl.rgb(scene.bg)
    for obj_id, rows in states(scene).items():
        if all(r.alpha < MIN_ALPHA for r in rows):
            issues.append(Issue("transparent", obj_id, f"{obj_id!r} is transparent at every moment (alpha at most "
                                f"{_num(max(r.alpha for r in rows))})"))
            continue
        if not any(on_stage(r.box, scene.w, scene.h) for r in rows):
            x0, y0, x1, y1 = rows[0].box
            issues.append(Issue("off_stage", obj_id, f"{obj_id!r} is off the {scene.w}x{scene.h} stage at every "
                                f"moment (at {_num(rows[0].t)} s it spans x {_num(x0)}..{_num(x1)}, "
                                f"y {_num(y0)}..{_num(y1)})"))
            continue
        shown = [r for r in rows if r.alpha >= MIN_ALPHA and on_stage(r.box, scene.w, scene.h)]
        if shown and not any(legible(r.color, bg) for r in shown):
            best = max(contrast(r.color, bg) for r in shown)
            issues.append(Issue("contrast", obj_id, f"contrast {best:.2f}:1 at best, below {MIN_CONTRAST}:1"))
    issues.extend(_no_ops(scene))
    return issues


def _no_ops(scene: s.Scene) -> list[Issue]:
    index = {id(a): n for n, a in enumerate(scene.anims)}
    same: dict[int, bool] = {}
    starts: dict[int, tuple[float, ...]] = {}
    for track in tl.tracks(scene).values():
        for tween in track.tweens:
            n = index[id(tween.anim)]
            gap = max((abs(a - b) for a, b in zip(tween.start, tween.to, strict=True)), default=0.0)
            same[n] = same.get(n, True) and gap <= _SAME.get(track.prop, 1e-6)
            starts.setdefault(n, tween.start)
    issues = []
    for n, anim in enumerate(scene.anims):
        if same.get(n) and _removable(scene, n):
            issues.append(Issue("no_op", anim.target, _describe(anim, n, starts[n]), n, anim.type))
    return issues


def _removable(scene: s.Scene, n: int) -> bool:
    """Does the scene without ``anims[n]`` take the same values at every sampled moment?"""
    anim = scene.anims[n]
    without = scene.model_copy(update={"anims": [a for k, a in enumerate(scene.anims) if k != n]})
    times = sample_times(scene)
    before, after = tl.tracks(scene), tl.tracks(without)
    obj = next(o for o in scene.objects if o.id == anim.target)
    for (target, prop), track in before.items():
        if target != anim.target:
            continue
        other = after.get((target, prop))
        for t in times:
            a = track.value(t)
            b = other.value(t) if other is not None else tl.initial_value(obj, prop)
            if max(abs(x - y) for x, y in zip(a, b, strict=True)) > 1e-6:
                return False
    return True


def _describe(anim: Any, n: int, start: tuple[float, ...]) -> str:
    at = f"at {_num(anim.delay)} s"
    if isinstance(anim, s.Move):
        return (f"anims[{n}], a move of {anim.target!r} to ({anim.x}, {anim.y}), where it already is {at} "
                "(so it does not move)")
    if isinstance(anim, s.Rotate):
        return f"anims[{n}], a rotation of {anim.target!r} by {anim.by} degrees (so it does not turn)"
    if isinstance(anim, s.Scale):
        return f"anims[{n}], a scale of {anim.target!r} to {_num(anim.to)}, the scale it already has {at}"
    if isinstance(anim, s.Fade):
        return (f"anims[{n}], a fade of {anim.target!r} to alpha {_num(anim.to)}, the alpha it already has "
                f"{at}")
    return f"anims[{n}], a colour change of {anim.target!r} to {anim.to}, the colour it already has {at}"
