"""``compile_scene``: a v2 scene to the compiled scene (``core/scene.py``'s ``Scene``) the renderer plays.

Pure and deterministic: placement (``layout``), the motion of each step (``motion``), their order
(``order``) and the defaults (``defaults``) are resolved here into objects with pixel centres and
animations with absolute delays. Anything the language admits but the compiler cannot honour raises
:class:`~text2pixi.core.errors.SceneCompileError`, whose message names the item and step and says what
would be valid, so it can be sent back to the model as a re-ask.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from text2pixi.core import scene as s
from text2pixi.core.colors import color_to_hex
from text2pixi.core.errors import SceneCompileError, validation_message
from text2pixi.core.v2.defaults import default_colors, neutral_for
from text2pixi.core.v2.language import V2Scene
from text2pixi.core.v2.layout import Placed, place_items
from text2pixi.core.v2.motion import Ctx, State, Tween
from text2pixi.core.v2.order import Timeline, cycle_of, item_starts, sequence
from text2pixi.core.v2.refs import resolve_refs
from text2pixi.core.v2.shapes import anchor_offset, line_ends


def _clean(t: float) -> float:
    """Times without float noise (0.30000000000000004 -> 0.3), other values untouched."""
    r = round(t, 6)
    return r if abs(r - t) < 1e-9 else t


def _colors(scene: V2Scene) -> list[str]:
    """Each item's colour: stated, else a palette colour (a neutral for text) that shows on the background."""
    missing = [k for k, i in enumerate(scene.items) if i.color is None and i.colors is None and i.shape != "text"]
    palette = dict(zip(missing, default_colors(scene.bg, len(missing)), strict=True))
    return [i.color or (i.colors[0] if i.colors else palette.get(k) or neutral_for(scene.bg))
            for k, i in enumerate(scene.items)]


def _check_stated_colors(scene: V2Scene, placed: list[Placed]) -> None:
    """A stated colour that is the background's: an error naming the item (never a changed colour).

    The compiled scene rejects an object of the background's own colour (it could never be seen); said here in
    the item's words, so the re-ask names what the model wrote. Lower contrast is the sanity review's business.
    """
    bg = color_to_hex(scene.bg)
    for p in placed:
        key, stated = ("colors", p.item.colors[:len(p.ids)]) if p.item.colors else ("color", [p.item.color])
        for color in stated:
            if color is not None and color_to_hex(color) == bg:
                raise SceneCompileError(f"\"{key}\" {color} on a {scene.bg} background, so it would be invisible: "
                                        f"choose another \"{key}\" or another \"bg\"", item=p.name)


def _draw_order(placed: list[Placed]) -> list[int]:
    """Items in scene order, except that an item placed ``on`` another is drawn right after it (over it)."""
    order = list(range(len(placed)))
    names = [p.name for p in placed]
    for k, p in enumerate(placed):
        if p.item.at == "on" and p.item.of is not None:
            ref = names.index(p.item.of)
            if order.index(k) < order.index(ref):
                order.remove(k)
                order.insert(order.index(ref) + 1, k)
    return order


def _anim(t: Tween, target: str, start: float, cycle: dict[str, Any] | None) -> dict[str, Any]:
    anim: dict[str, Any] = {"type": t.kind, "target": target, **t.fields, "dur": _clean(t.dur),
                            "delay": _clean(start + t.delay), "ease": t.ease, "repeat": t.repeat, "yoyo": t.yoyo}
    if cycle is not None:
        anim["cycle"] = {**cycle, "start": _clean(start), "every": _clean(cycle["every"])}
    return anim


def _object(p: Placed, oid: str, centre: tuple[float, float], color: str, tl: Timeline) -> dict[str, Any]:
    obj: dict[str, Any] = {**p.body.fields, "id": oid}
    x, y = round(centre[0]), round(centre[1])
    if tl.start_pos is not None:
        x, y = tl.start_pos
    if p.item.shape == "line":
        ends = line_ends(p.item, p.body, centre[0], centre[1])
        dx, dy = x - round(centre[0]), y - round(centre[1])
        obj.update(x=ends["x"] + dx, y=ends["y"] + dy, x2=ends["x2"] + dx, y2=ends["y2"] + dy)
    else:
        obj.update(x=x, y=y)
    alpha = p.item.alpha if tl.start_alpha is None else tl.start_alpha
    obj.update(color=color, alpha=alpha, rot=p.body.rot)
    if tl.pivot is not None:
        ox, oy = anchor_offset(tl.pivot, p.body.w / 2, p.body.h / 2)  # type: ignore[arg-type]
        obj["pivot"] = [ox, oy]
    return obj


def compile_scene(scene: V2Scene) -> s.Scene:
    """The compiled scene of a v2 scene, or a :class:`SceneCompileError` that says what to change."""
    scene = resolve_refs(scene)
    placed = place_items(scene)
    _check_stated_colors(scene, placed)
    names = [p.name for p in placed]
    refs = {p.name: p.box() for p in placed}
    colors = _colors(scene)
    timelines: list[list[Timeline]] = []
    offsets: list[list[float]] = []
    once: list[float] = []
    for k, p in enumerate(placed):
        item = p.item
        lines: list[Timeline] = []
        starts: list[float] = []
        for j, centre in enumerate(p.centres):
            color = item.colors[j % len(item.colors)] if item.colors else colors[k]
            x, y = (round(centre[0]), round(centre[1]))
            state = State(x, y, p.body.rot, 1.0, 1.0, item.alpha, color)
            ctx = Ctx(p.name, 0, scene.w, scene.h, p.body, (x, y), item.alpha, refs, False, False, False, False)
            tl = sequence(item, p.name, state, ctx)
            offset = 0.0 if j == 0 or item.stagger is None else (
                starts[-1] + lines[-1].once if item.stagger == "then" else j * float(item.stagger))
            lines.append(tl)
            starts.append(offset)
        timelines.append(lines)
        offsets.append(starts)
        once.append(max(o + tl.once for o, tl in zip(starts, lines, strict=True)))
    begins = item_starts(scene.items, names, once)
    objects: list[dict[str, Any]] = []
    anims: list[dict[str, Any]] = []
    for k in _draw_order(placed):
        p = placed[k]
        for j, oid in enumerate(p.ids):
            tl = timelines[k][j]
            color = p.item.colors[j % len(p.item.colors)] if p.item.colors else colors[k]
            objects.append(_object(p, oid, p.centres[j], color, tl))
    for k, p in enumerate(placed):
        for j, oid in enumerate(p.ids):
            tl = timelines[k][j]
            start = begins[k] + offsets[k][j]
            cycle = cycle_of(p.item, start, tl.length)
            anims += [_anim(t, oid, start, cycle) for t in tl.tweens]
    return _validated(scene, objects, anims)


def _validated(scene: V2Scene, objects: list[dict[str, Any]], anims: list[dict[str, Any]]) -> s.Scene:
    if len(objects) > s.COMPILED_MAX_OBJECTS:
        raise SceneCompileError(f"the scene has {len(objects)} objects (copies included); at most "
                                f"{s.COMPILED_MAX_OBJECTS}: use fewer items or a smaller \"n\"")
    if len(anims) > s.COMPILED_MAX_ANIMATIONS:
        raise SceneCompileError(f"the scene compiles to {len(anims)} animations; at most {s.COMPILED_MAX_ANIMATIONS}: "
                                "use fewer copies or steps")
    late = [a for a in anims if a["delay"] > s.MAX_SECONDS]
    if late:
        raise SceneCompileError(f"{late[0]['target']!r} would start an animation at {late[0]['delay']:g} s; the "
                                f"scene must start everything within {s.MAX_SECONDS:g} s: shorten the steps or waits")
    data: dict[str, Any] = {"objects": objects, "bg": scene.bg, "w": scene.w, "h": scene.h, "anims": anims}
    try:
        return s.Scene.model_validate(data)
    except ValidationError as exc:
        raise SceneCompileError(f"the compiled scene is not valid: {validation_message(exc)}") from exc
