"""The structured diff of a refinement: keep the base's value for every field the instruction does not touch.

IO-free. The engine applies :func:`preserve` after the model answered: a small model asked to "make
the circle blue" also tends to nudge positions or durations it was never asked about. A field the
instruction gives no reason to touch (by its wording, and by which objects it names: see
:mod:`text2pixi.core.edit_words`) goes back to its base value; the model's scene is kept whole when
the merge would not validate. It is deliberately conservative: it never invents values, it only
chooses per field between the base's and the model's.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field, ValidationError

from text2pixi.core.colors import color_to_hex
from text2pixi.core.edit_words import DIRECTIONAL_SIZE, edit_mentioned, targeted, tokens
from text2pixi.core.scene import Scene
from text2pixi.core.scene_diff import anim_key

# The word category (text2pixi.core.edit_words) that gives a reason to change each field.
OBJECT_FIELDS: dict[str, str] = {
    "type": "type", "x": "pos", "y": "pos", "x2": "pos", "y2": "pos", "color": "color", "alpha": "alpha",
    "rot": "tilt", "r": "size", "w": "size", "h": "size", "radius": "size", "inner": "size", "points": "size",
    "pts": "size", "width": "size", "size": "size", "text": "text",
}
ANIM_FIELDS: dict[str, str] = {"x": "pos", "y": "pos", "dur": "dur", "delay": "delay", "ease": "ease",
                               "repeat": "repeat", "yoyo": "repeat"}
ANIM_VALUE: dict[str, str] = {"move": "pos", "rotate": "rot", "scale": "size", "fade": "alpha", "color": "color"}
"""The category of an animation's ``by``/``to`` value, by animation type."""


class Preserved(BaseModel):
    """The scene after :func:`preserve`, and which of the model's changes went back to the base."""

    scene: Scene
    reverted: list[str] = Field(default_factory=list, description="paths set back to their base value, or adjusted "
                                "(suffix :proportional, :speed_as_dur)")
    merged: bool = Field(True, description="False when the merge did not validate and the model's scene was kept")


def _speed_as_duration(old: dict[str, Any], data: dict[str, Any]) -> bool:
    """"Spin faster" written as a larger turn in the same time becomes the same turn in less time.

    The speed of a rotation is ``by / dur``; an instruction about speed changes the duration, and the
    amount of turning stays the base's. Only when the model changed ``by`` (same direction) and kept ``dur``.
    """
    by, dur = data.get("by"), data.get("dur")
    if (isinstance(by, int) and by and old["by"] and (by > 0) == (old["by"] > 0) and by != old["by"]
            and dur == old["dur"]):
        data["dur"] = round(min(60.0, max(0.05, old["dur"] * old["by"] / by)), 3)
        data["by"] = old["by"]
        return True
    return False


def _keep_proportions(before: dict[str, Any], data: dict[str, Any], instruction: str) -> bool:
    """"Make the square smaller" with only one side changed: scale the other side alike (no directional word)."""
    if "w" not in before or "h" not in before or tokens(instruction) & DIRECTIONAL_SIZE:
        return False
    w_changed, h_changed = data.get("w") != before["w"], data.get("h") != before["h"]
    if w_changed == h_changed:
        return False
    if w_changed:
        data["h"] = max(1, round(before["h"] * data["w"] / before["w"]))
    else:
        data["w"] = max(1, round(before["w"] * data["h"] / before["h"]))
    return True


def preserve(base: Scene, edited: Scene, instruction: str) -> Preserved:
    """Keep base values for fields the instruction gives no reason to change (see the module doc)."""
    allowed = edit_mentioned(instruction)
    targets = targeted(base, instruction)
    structural = "structure" in allowed
    reverted: list[str] = []

    def may(category: str, obj_id: str | None) -> bool:
        if category not in allowed:
            return False
        return targets is None or obj_id is None or obj_id in targets

    # Objects: by id, then unmatched ones pairwise in order when their kinds agree (a renamed object).
    base_by_id = {o.id: o for o in base.objects}
    pairs: dict[str, str] = {}  # edited id -> base id
    for obj in edited.objects:
        if obj.id in base_by_id:
            pairs[obj.id] = obj.id
    rest_base = [o for o in base.objects if o.id not in pairs.values()]
    rest_new = [o for o in edited.objects if o.id not in pairs]
    for new, old in zip(rest_new, rest_base, strict=False):
        if new.type == old.type and not structural:
            pairs[new.id] = old.id
    objects: list[dict[str, Any]] = []
    kept_new: set[str] = set()
    for obj in edited.objects:
        data = obj.model_dump(mode="json")
        base_id = pairs.get(obj.id)
        if base_id is None:
            if structural:
                objects.append(data)
                kept_new.add(obj.id)
            else:
                reverted.append(f"objects.{obj.id}")
            continue
        before = base_by_id[base_id].model_dump(mode="json")
        if data["type"] != before["type"] and not may("type", base_id):
            reverted.append(f"objects.{base_id}.type")
            objects.append(before)
            continue
        if data["type"] != before["type"]:
            data["id"] = base_id
            objects.append(data)
            continue
        for name, category in OBJECT_FIELDS.items():
            if name in before and data.get(name) != before[name] and not may(category, base_id):
                if name == "color" and color_to_hex(str(data[name])) == color_to_hex(str(before[name])):
                    continue
                data[name] = before[name]
                reverted.append(f"objects.{base_id}.{name}")
        if _keep_proportions(before, data, instruction):
            reverted.append(f"objects.{base_id}.{'h' if data['w'] != before['w'] else 'w'}:proportional")
        data["id"] = base_id
        objects.append(data)
    present = {o["id"] for o in objects}
    if not structural:
        for obj in base.objects:  # dropped by the model without being asked to
            if obj.id not in present:
                objects.insert(base.objects.index(obj), obj.model_dump(mode="json"))
                present.add(obj.id)
                reverted.append(f"objects.{obj.id}")

    # Animations: retarget renamed objects, then match by (target, type) occurrence.
    rename = {new: old for new, old in pairs.items() if new != old}
    base_anims: dict[tuple[str, str], list[Any]] = {}
    for anim in base.anims:
        base_anims.setdefault(anim_key(anim), []).append(anim)
    used: dict[tuple[str, str], int] = {}
    anims: list[dict[str, Any]] = []
    for anim in edited.anims:
        data = anim.model_dump(mode="json")
        data["target"] = rename.get(anim.target, anim.target)
        if data["target"] not in present:
            continue
        key = (data["target"], anim.type)
        k = used.get(key, 0)
        used[key] = k + 1
        candidates = base_anims.get(key, [])
        if k >= len(candidates):  # a new animation: wanted if its kind or a structural change was asked for
            if structural or data["target"] in kept_new or may(ANIM_VALUE[anim.type], data["target"]):
                anims.append(data)
            else:
                reverted.append(f"anims.{data['target']}.{anim.type}.{k}")
            continue
        old = candidates[k].model_dump(mode="json")
        fields = dict(ANIM_FIELDS) if anim.type == "move" else {k2: v for k2, v in ANIM_FIELDS.items()
                                                                  if k2 not in ("x", "y")}
        if anim.type != "move":
            fields["by" if anim.type == "rotate" else "to"] = ANIM_VALUE[anim.type]
        if anim.type == "rotate" and may("dur", data["target"]) and _speed_as_duration(old, data):
            reverted.append(f"anims.{data['target']}.rotate.{k}.by:speed_as_dur")
        for name, category in fields.items():
            if name in old and data.get(name) != old[name] and not may(category, data["target"]):
                data[name] = old[name]
                reverted.append(f"anims.{data['target']}.{anim.type}.{k}.{name}")
        anims.append(data)
    # Base animations the model dropped without being asked to (no structural words, its kind not named).
    for (target, kind), candidates in base_anims.items():
        for k in range(used.get((target, kind), 0), len(candidates)):
            if target in present and not structural and not may(ANIM_VALUE[kind], target) \
                    and not may("repeat", target):
                anims.append(candidates[k].model_dump(mode="json"))
                reverted.append(f"anims.{target}.{kind}.{k}")

    top = {"objects": objects, "anims": anims, "bg": edited.bg, "w": edited.w, "h": edited.h}
    if edited.bg != base.bg and "bg" not in allowed and color_to_hex(edited.bg) != color_to_hex(base.bg):
        top["bg"] = base.bg
        reverted.append("bg")
    if (edited.w, edited.h) != (base.w, base.h) and "stage" not in allowed:
        top["w"], top["h"] = base.w, base.h
        reverted.append("w,h")
    if not reverted:
        return Preserved(scene=edited, reverted=[])
    try:
        return Preserved(scene=Scene.model_validate(top), reverted=reverted)
    except ValidationError:  # the mix is inconsistent (e.g. a colour now equal to the background)
        return Preserved(scene=edited, reverted=[], merged=False)
