"""Edits measured: every value of a scene under a stable path, and which paths two scenes differ in.

IO-free. The service and the worker record a new version's ``changed`` paths with
:func:`changed_paths`; the edit-quality checks (:mod:`text2pixi.core.edit_checks`) and
:func:`text2pixi.core.preserve.preserve` match animations the same way, by :func:`anim_key`.
"""

from __future__ import annotations

from typing import Any

from text2pixi.core.colors import color_to_hex
from text2pixi.core.scene import Animation, Scene


def anim_key(anim: Animation) -> tuple[str, str]:
    """What identifies an animation across versions: its target and type (the k-th of them, in order)."""
    return anim.target, anim.type


def flatten(scene: Scene) -> dict[str, Any]:
    """Every value of ``scene`` (defaults included, colours as hex) under a stable path.

    ``objects.<id>.<field>``, ``anims.<target>.<type>.<k>.<field>`` (k counts the animations of one
    kind on one target), ``bg``, ``w``, ``h``: paths do not depend on list order.
    """
    out: dict[str, Any] = {"bg": color_to_hex(scene.bg), "w": scene.w, "h": scene.h}
    for obj in scene.objects:
        for name, value in obj.model_dump(mode="json").items():
            out[f"objects.{obj.id}.{name}"] = color_to_hex(value) if name == "color" else value
    seen: dict[tuple[str, str], int] = {}
    for anim in scene.anims:
        k = seen.get(anim_key(anim), 0)
        seen[anim_key(anim)] = k + 1
        for name, value in anim.model_dump(mode="json").items():
            if name in ("type", "target"):
                continue
            out[f"anims.{anim.target}.{anim.type}.{k}.{name}"] = (
                color_to_hex(value) if anim.type == "color" and name == "to" else value)
    return out


def changed_paths(base: Scene, new: Scene) -> list[str]:
    """Paths whose value differs, or that exist in only one of the two scenes."""
    a, b = flatten(base), flatten(new)
    return sorted(p for p in a.keys() | b.keys() if a.get(p, None) != b.get(p, None) or (p in a) != (p in b))
