"""v1 scenes (stored results, hand edits) to v2, losslessly: ``compile_scene(from_v1(s))`` plays as ``s`` does.

Convert-on-read: every value is written in its exact form (``xy`` positions, explicit sizes and colours,
``xy`` move steps, each step's own ``dur``/``ease``), because v2's defaults are not v1's. Each object's
animations become its steps in one ``with`` group, each step's ``delay`` its v1 delay, in v1's order, so
every track sees the same tweens in the same order.
"""

from __future__ import annotations

from typing import Any

from text2pixi.core import scene as s
from text2pixi.core.v2.language import V2Scene


def _shape(obj: Any) -> dict[str, Any]:
    """The v2 shape keys that rebuild ``obj``'s geometry exactly."""
    if isinstance(obj, s.Circle):
        return {"shape": "circle", "size": 2 * obj.r}
    if isinstance(obj, s.Star):
        out: dict[str, Any] = {"shape": "star", "size": 2 * obj.r, "points": obj.points}
        if obj.inner is not None:
            out["inner"] = obj.inner
        return out
    if isinstance(obj, s.Rect | s.RoundRect | s.Ellipse | s.Triangle):
        shape = "square" if isinstance(obj, s.Rect) and obj.w == obj.h else obj.type
        out = {"shape": shape, "size": max(obj.w, obj.h)}
        if shape != "square":
            out["aspect"] = obj.w / obj.h
        if isinstance(obj, s.RoundRect):
            out["radius"] = obj.radius
        return out
    if isinstance(obj, s.Polygon):
        return {"shape": "polygon", "pts": list(obj.pts)}
    if isinstance(obj, s.Line):
        return {"shape": "line", "width": obj.width}
    assert isinstance(obj, s.Text)
    return {"shape": "text", "text": obj.text, "size": obj.size}


def _step(anim: Any) -> dict[str, Any]:
    if isinstance(anim, s.Move):
        step: dict[str, Any] = {"xy": [anim.x, anim.y]}
    elif isinstance(anim, s.Rotate):
        step = {"rotate": anim.by}
    elif isinstance(anim, s.Scale):
        step = {"scale": anim.to}
        if anim.axis != "xy":
            step["axis"] = anim.axis
    elif isinstance(anim, s.Fade):
        step = {"fade": anim.to}
    else:
        step = {"color": anim.to}
    step.update(dur=anim.dur, ease=anim.ease, times=anim.repeat + 1 if anim.repeat >= 0 else -1)
    if anim.yoyo:
        step["yoyo"] = True
    return step


def from_v1(scene: s.Scene) -> V2Scene:
    """The v2 scene that compiles back to ``scene``'s objects and timeline (v1 scenes have no cycles)."""
    items: list[dict[str, Any]] = []
    for obj in scene.objects:
        item: dict[str, Any] = {"id": obj.id, **_shape(obj), "color": obj.color}
        if obj.rot:
            item["rot"] = obj.rot
        if obj.alpha != 1.0:
            item["alpha"] = obj.alpha
        item["xy"] = [obj.x, obj.y]
        if isinstance(obj, s.Line):
            item["xy2"] = [obj.x2, obj.y2]
        steps: list[dict[str, Any]] = []
        for anim in sorted((a for a in scene.anims if a.target == obj.id), key=lambda a: a.delay):
            step = _step(anim)
            if steps:
                step["with"] = True
            if anim.delay:
                step["delay"] = anim.delay
            steps.append(step)
        if steps:
            item["do"] = steps
        items.append(item)
    data: dict[str, Any] = {"bg": scene.bg, "w": scene.w, "h": scene.h, "items": items}
    return V2Scene.model_validate(data)
