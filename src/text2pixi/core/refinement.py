"""Refinement: a new version of a scene from a base scene and an instruction ("make it slower").

IO-free, like ``scene.py`` and ``prompt.py``. Four things live here:

* :func:`ordered_json` writes a scene in the key order the decoding grammar enforces (required keys
  first, then optional ones, as the prompt's examples do), so the model can copy the base verbatim and
  the engine's look-up drafts (``lookup.py``) match what it writes token for token;
* :func:`refinement_message` is the user turn of a refinement. The system prefix and the examples stay
  byte-identical to a fresh request's, so the primed KV cache is reused; only this turn is new;
* :func:`preserve` is the structured diff the engine applies after the model answered: a small model
  asked to "make the circle blue" also tends to nudge positions or durations it was never asked
  about. A field the instruction gives no reason to touch (by its wording, and by which objects it
  names) goes back to its base value; the model's scene is kept whole when the merge would not
  validate. It is a heuristic over words, deliberately conservative: it never invents values, it
  only chooses per field between the base's and the model's;
* :func:`flatten`, :func:`changed_paths` and :func:`check_case` measure edits: which paths changed,
  and whether a (base, instruction, expectation) case both made its change and kept everything else.
"""

from __future__ import annotations

import fnmatch
import json
import re
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from text2pixi.core.colors import CSS_COLOR_NAMES, color_matches, color_to_hex
from text2pixi.core.scene import Scene

# --- the prompt side ---------------------------------------------------------------------------------


SHOWN_DEFAULTS = frozenset({"dur", "ease"})
"""Animation keys written even at their default value: to make an animation slower or elastic, a small model
edits a number or a word it can see far more reliably than it adds a key it cannot (measured: with them
omitted, "make the ball bounce slower" came back unchanged)."""


def _ordered(model: BaseModel, shown: frozenset[str] = frozenset()) -> dict[str, Any]:
    """One model's non-default fields (plus ``shown`` ones), required ones first in declaration order, then
    optional ones; integral floats as integers, as the prompt's examples write them."""
    fields = type(model).model_fields
    full = model.model_dump(mode="json")
    data = model.model_dump(mode="json", exclude_defaults=True) | {k: full[k] for k in shown if k in full}
    required = [k for k, f in fields.items() if f.is_required() and k in data]
    optional = [k for k, f in fields.items() if not f.is_required() and k in data]
    return {k: int(v) if isinstance(v, float) and v.is_integer() else v
            for k, v in ((k, data[k]) for k in required + optional)}


def ordered_json(scene: Scene) -> str:
    """Compact JSON of ``scene`` in the grammar's key order (what the model writes), defaults omitted except
    an animation's duration and easing (:data:`SHOWN_DEFAULTS`)."""
    top = _ordered(scene)
    top["objects"] = [_ordered(o) for o in scene.objects]
    if "anims" in top:
        top["anims"] = [_ordered(a, SHOWN_DEFAULTS) for a in scene.anims]
    return json.dumps(top, separators=(",", ":"), ensure_ascii=False)


def refinement_message(base: Scene, instruction: str) -> str:
    """The user turn of a refinement: the current scene, then the change (after the cached prefix)."""
    return (
        f"Current scene: {ordered_json(base)}\n"
        f"Change: {instruction}\n"
        "Reply with the whole new scene. Keep every object, position, colour and timing the change "
        "does not mention exactly as it is."
    )


# --- what an instruction mentions ----------------------------------------------------------------------

_WORDS: dict[str, frozenset[str]] = {
    "color": frozenset({"color", "colour", "colors", "colours", "colored", "coloured", "paint", "tint", "hue",
                        "darker", "lighter", "brighter", "dark", "light", "bright", "pale", "gray", "grey"}
                       | set(CSS_COLOR_NAMES)),
    "alpha": frozenset({"transparent", "opaque", "opacity", "alpha", "fade", "fades", "faded", "fading", "visible",
                        "invisible", "translucent", "dim", "disappear", "disappears", "appear", "appears",
                        "vanish", "vanishes"}),
    "rot": frozenset({"rotate", "rotates", "rotation", "rotated", "rotating", "tilt", "tilted", "angle", "spin",
                      "spins", "spinning", "turn", "turns", "turning", "upside", "clockwise", "anticlockwise",
                      "counterclockwise", "degrees", "twirl", "twirls"}),
    "tilt": frozenset({"tilt", "tilted", "angle", "angled", "rotated", "upside", "degrees", "lean", "leans",
                       "slant", "slanted"}),
    "pos": frozenset({"move", "moves", "moving", "position", "left", "right", "up", "down", "top", "bottom",
                      "centre", "center", "centered", "centred", "corner", "middle", "higher", "lower", "closer",
                      "apart", "further", "farther", "edge", "side", "place", "put", "shift", "slide", "slides",
                      "across", "row", "column", "spread", "travel", "travels", "drop", "drops", "fall", "falls",
                      "rise", "rises", "jump", "jumps", "bounce", "bounces", "bouncing", "far", "distance"}),
    "size": frozenset({"size", "bigger", "smaller", "larger", "big", "small", "tiny", "huge", "large", "grow",
                       "grows", "growing", "shrink", "shrinks", "shrinking", "wider", "narrower", "taller",
                       "thicker", "thinner", "radius", "width", "height", "scale", "scales", "double", "half",
                       "pulse", "pulses", "pulsing", "twice", "points", "tips", "thick", "thin"}),
    "text": frozenset({"text", "say", "says", "word", "words", "read", "reads", "label", "write", "written",
                       "font", "title", "letters"}),
    "type": frozenset({"into", "instead", "replace", "shape", "turn"}),
    "dur": frozenset({"slow", "slower", "slowly", "fast", "faster", "quick", "quicker", "quickly", "speed",
                      "duration", "seconds", "second", "sec", "rapid", "rapidly", "longer", "shorter", "tempo",
                      "pace", "sluggish", "snappy", "speedy", "long", "short"}),
    "delay": frozenset({"delay", "delayed", "after", "wait", "waits", "later", "sooner", "earlier", "then",
                        "start", "starts", "stagger", "staggered", "sequence", "together", "simultaneously",
                        "immediately", "before", "another"}),
    "ease": frozenset({"ease", "easing", "bounce", "bouncy", "bouncing", "elastic", "smooth", "smoothly", "linear",
                       "springy", "spring", "accelerate", "accelerates", "decelerate", "gently", "abrupt",
                       "abruptly", "overshoot", "wobble"}),
    "repeat": frozenset({"loop", "loops", "looping", "forever", "repeat", "repeats", "repeating", "once", "twice",
                         "times", "again", "endless", "endlessly", "continuously", "stop", "stops", "yoyo", "back",
                         "forth", "pulse", "pulsing", "spinning", "bouncing", "infinite", "infinitely"}),
    "bg": frozenset({"background", "bg", "backdrop", "behind"}),
    "stage": frozenset({"stage", "canvas", "screen", "resolution", "widescreen", "portrait", "landscape"}),
    "structure": frozenset({"add", "adds", "another", "more", "remove", "delete", "without", "fewer", "extra",
                            "third", "copy", "duplicate", "new", "also", "two", "three", "four", "five", "six",
                            "seven", "eight", "nine", "ten", "only", "single", "no", "none", "drop", "rid", "stop",
                            "don't", "not", "second", "pair", "both", "others", "multiple", "several"}),
}
"""Words that give an instruction a reason to touch a category of fields."""

_ALL_WORDS = frozenset({"all", "every", "everything", "each", "both", "them", "they", "whole", "scene", "objects",
                        "shapes"})
"""Words that address every object, so naming one does not freeze the others."""

_KIND_WORDS: dict[str, frozenset[str]] = {
    "circle": frozenset({"circle", "circles", "ball", "balls", "dot", "dots", "disc", "disk", "sun", "planet"}),
    "rect": frozenset({"square", "squares", "rectangle", "rectangles", "rect", "box", "boxes", "block", "blocks",
                       "bar", "bars"}),
    "roundrect": frozenset({"square", "squares", "rectangle", "rectangles", "box", "boxes", "rounded", "button",
                            "card"}),
    "ellipse": frozenset({"ellipse", "ellipses", "oval", "ovals", "egg"}),
    "triangle": frozenset({"triangle", "triangles", "arrow"}),
    "star": frozenset({"star", "stars"}),
    "polygon": frozenset({"polygon", "polygons", "hexagon", "pentagon", "octagon", "shape"}),
    "line": frozenset({"line", "lines", "stick", "stroke"}),
    "text": frozenset({"text", "word", "words", "title", "label", "letters", "caption"}),
}

DIRECTIONAL_SIZE = frozenset({"wider", "narrower", "taller", "shorter", "width", "height", "wide", "tall",
                              "narrow", "flat", "flatter", "stretch", "stretched", "squash", "squashed"})
"""Words that change one side of a box; without them, "smaller" keeps its proportions."""

OBJECT_FIELDS: dict[str, str] = {
    "type": "type", "x": "pos", "y": "pos", "x2": "pos", "y2": "pos", "color": "color", "alpha": "alpha",
    "rot": "tilt", "r": "size", "w": "size", "h": "size", "radius": "size", "inner": "size", "points": "size",
    "pts": "size", "width": "size", "size": "size", "text": "text",
}
ANIM_FIELDS: dict[str, str] = {"x": "pos", "y": "pos", "dur": "dur", "delay": "delay", "ease": "ease",
                               "repeat": "repeat", "yoyo": "repeat"}
ANIM_VALUE: dict[str, str] = {"move": "pos", "rotate": "rot", "scale": "size", "fade": "alpha", "color": "color"}
"""The category of an animation's ``by``/``to`` value, by animation type."""


def _tokens(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9']+", text.lower()))


def mentioned(instruction: str) -> set[str]:
    """The field categories an instruction gives a reason to change (see :data:`_WORDS`)."""
    words = _tokens(instruction)
    found = {category for category, vocabulary in _WORDS.items() if words & vocabulary}
    if '"' in instruction or "'" in instruction.replace("'s", ""):
        found.add("text")
    return found


def targeted(base: Scene, instruction: str) -> set[str] | None:
    """Ids of the objects the instruction names (by id, kind or colour), or ``None`` for all of them."""
    words = _tokens(instruction)
    if words & _ALL_WORDS or (words & {"it", "its"} and len(base.objects) == 1):
        return None
    hits: set[str] = set()
    for obj in base.objects:
        names = {obj.id, obj.id.rstrip("0123456789_"), *obj.id.split("_")}
        if words & names or words & _KIND_WORDS.get(obj.type, frozenset()):
            hits.add(obj.id)
        elif obj.color in words and len(obj.color) > 2:
            hits.add(obj.id)
    return hits or None


# --- the structured diff -------------------------------------------------------------------------------


class Preserved(BaseModel):
    """The scene after :func:`preserve`, and which of the model's changes went back to the base."""

    scene: Scene
    reverted: list[str] = Field(default_factory=list, description="paths set back to their base value, or adjusted "
                                "(suffix :proportional, :speed_as_dur)")
    merged: bool = Field(True, description="False when the merge did not validate and the model's scene was kept")


def _key(anim: Any) -> tuple[str, str]:
    return anim.target, anim.type


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
    if "w" not in before or "h" not in before or _tokens(instruction) & DIRECTIONAL_SIZE:
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
    allowed = mentioned(instruction)
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
        base_anims.setdefault(_key(anim), []).append(anim)
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


# --- measuring edits ------------------------------------------------------------------------------------


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
        k = seen.get(_key(anim), 0)
        seen[_key(anim)] = k + 1
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


class Expect(BaseModel):
    """One expected change: the value at ``path`` (a glob; every match must pass)."""

    path: str
    color: str | None = Field(None, description="colour family the value must belong to")
    equals: Any = None
    more_than_base: bool = False
    less_than_base: bool = False
    above: float | None = None
    below: float | None = None
    exists: bool | None = None
    any: bool = Field(False, description="one matching path passing is enough (e.g. a new object's type)")


class RefinementCase(BaseModel):
    """A (base scene, instruction, expectation) case of the edit-quality set."""

    name: str
    base: dict[str, Any]
    instruction: str
    expect: list[Expect]
    allow: list[str] = Field(default_factory=list, description="globs of paths that may change besides expect's")


class CaseResult(BaseModel):
    name: str
    changed: bool
    preserved: bool
    problems: list[str]
    diff: list[str]


def _check_value(expect: Expect, path: str, value: Any, old: Any) -> list[str]:
    problems: list[str] = []
    if expect.color is not None and not color_matches(str(value), expect.color):
        problems.append(f"{path} is {value}, not {expect.color}")
    if expect.equals is not None and value != expect.equals:
        problems.append(f"{path} is {value!r}, not {expect.equals!r}")
    if expect.above is not None and not (isinstance(value, int | float) and value > expect.above):
        problems.append(f"{path} is {value}, not above {expect.above}")
    if expect.below is not None and not (isinstance(value, int | float) and value < expect.below):
        problems.append(f"{path} is {value}, not below {expect.below}")
    if expect.more_than_base and not (isinstance(old, int | float) and value > old):
        problems.append(f"{path} is {value}, not more than {old}")
    if expect.less_than_base and not (isinstance(old, int | float) and value < old):
        problems.append(f"{path} is {value}, not less than {old}")
    return problems


def _check_expect(expect: Expect, base: dict[str, Any], new: dict[str, Any]) -> list[str]:
    paths = [p for p in new if fnmatch.fnmatchcase(p, expect.path)]
    if expect.exists is False:
        return [f"{expect.path} should be gone"] if paths else []
    if not paths:
        return [f"{expect.path} is missing"]
    results = [_check_value(expect, path, new[path], base.get(path)) for path in paths]
    if expect.any:
        return [] if any(not r for r in results) else [f"no {expect.path} passes: {results[0][0]}"]
    return [problem for r in results for problem in r]


def check_case(case: RefinementCase, new: Scene) -> CaseResult:
    """Whether ``new`` makes the case's change (``expect``) and keeps every other base value."""
    base_scene = Scene.model_validate(case.base)
    base, after = flatten(base_scene), flatten(new)
    problems: list[str] = []
    for expect in case.expect:
        problems += _check_expect(expect, base, after)
    changed = not problems
    globs = [e.path for e in case.expect] + case.allow
    kept = [p for p, v in base.items() if not any(fnmatch.fnmatchcase(p, g) for g in globs) and after.get(p) != v]
    problems += [f"{p} changed: {base[p]!r} -> {after.get(p, '(gone)')!r}" for p in kept]
    return CaseResult(name=case.name, changed=changed, preserved=not kept, problems=problems,
                      diff=changed_paths(base_scene, new))
