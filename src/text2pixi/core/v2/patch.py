"""Refinement patches: a refinement writes only the change to a v2 scene, and this module applies it.

A patch is ``{"edit":[EDIT, ...]}``; each edit is an object whose first key is its verb with the item id
as its value, like a step (``{"set":"sun","color":"red"}``):

- ``{"set":ID,KEY:VALUE,...}``: change keys of an item (``ID`` may be a list of ids); ``do`` replaces its
  steps; ``null`` resets a key whose default is "none" (``after``, ``of``, ``at``, ``color``, ...);
- ``{"then":ID,"do":[STEP,...]}``: append steps to the item's sequence ("and then it spins");
- ``{"tune":ID,"faster":2,...}``: change all the item's steps at once (speed, direction, ease, repeats);
- ``{"add":ITEM}``: add an item, written exactly as in a whole scene;
- ``{"remove":ID}``: remove an item (items placed relative to it keep their place; items that waited for
  it wait for what it waited for);
- ``{"bg":COLOR}``: change the background.

Flat verb-first edits cost the fewest tokens for the common one-key change and read like the steps the
model already writes; ``add`` nests a whole item so it is written as in a fresh scene. ``tune`` covers the
common step changes without copying a step or doing arithmetic (measured: the default model rewrote steps
wrongly); anything else rewrites the item's ``do`` (no step indices: a small model miscounts them).
:func:`apply_patch` is pure: the result is a
validated :class:`V2Scene` with every item's id written out (so names stay stable across refinements),
or a :class:`SceneCompileError` naming the edit, meant to go back to the model as a re-ask.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, Discriminator, Field, Tag, ValidationError, create_model, model_validator

from text2pixi.core.errors import SceneCompileError, validation_message
from text2pixi.core.scene import Color
from text2pixi.core.v2.language import (
    MAX_ITEMS,
    Ease,
    Item,
    ItemId,
    Seconds,
    Step,
    Times,
    V2Scene,
    _no_null,
    _Strict,
)
from text2pixi.core.v2.layout import RELATIONS, item_names, place_items
from text2pixi.core.v2.motion import DUR

MAX_EDITS = 16
PLACEMENT = ("at", "of", "gap", "xy", "xy2")
"""An item's placement keys: setting ``at`` or ``xy`` replaces all of them (an item has one placement)."""

Targets = ItemId | Annotated[list[ItemId], Field(min_length=1, max_length=MAX_ITEMS)]
"""One item id, or a list of them for the same change ("make everything red")."""

_ITEM_KEYS = {name: info for name, info in Item.model_fields.items() if name != "id"}
RESETTABLE = frozenset(info.alias or name for name, info in _ITEM_KEYS.items()
                       if info.default is None and info.default_factory is None)
"""Keys whose default is "none": ``null`` in a ``set`` resets them (``"after":null`` starts an item at 0)."""


def _optional(info: Any) -> tuple[Any, Any]:
    """An item key as an optional ``set`` key with the same bounds (unset = unchanged)."""
    annotation = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    return annotation | None, Field(None, alias=info.alias)


class _SetKey(_Strict):
    set: Targets

    @model_validator(mode="after")
    def _changes_something(self) -> _SetKey:
        given = self.model_fields_set - {"set"}
        if not given:
            raise ValueError('a "set" edit needs at least one key to change, e.g. {"set":"sun","color":"red"}')
        fields = type(self).model_fields
        for name in sorted(given):
            alias = fields[name].alias or name
            if getattr(self, name) is None and alias not in RESETTABLE:
                raise ValueError(f'"{alias}":null: only {", ".join(sorted(RESETTABLE))} can be reset with null; '
                                 f'write the value you want for "{alias}"')
        return self


# Every item key except ``id`` (no renames), in the item's order, after the verb: the grammar's key order.
SetOp: type[_SetKey] = create_model(  # type: ignore[call-overload]
    "SetOp", __base__=_SetKey, __doc__="Change keys of items.", **{n: _optional(i) for n, i in _ITEM_KEYS.items()})


class ThenOp(_Strict):
    """Append steps to an item's sequence."""

    then: Targets
    do: list[Step] = Field(min_length=1, max_length=24)


class TuneOp(_Strict):
    """Change all of an item's steps at once: no step to copy, and no arithmetic for "twice as fast"."""

    tune: Targets
    faster: float | None = Field(None, gt=0.0, le=20.0)
    slower: float | None = Field(None, gt=0.0, le=20.0)
    dir: Literal["cw", "ccw"] | None = None
    ease: Ease | None = None
    times: Times | None = None
    yoyo: bool | None = None
    dur: Seconds | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> TuneOp:
        if not self.model_fields_set - {"tune"}:
            raise ValueError('a "tune" edit needs at least one of faster, slower, dir, ease, times, yoyo, dur')
        if self.faster is not None and self.slower is not None:
            raise ValueError('"faster" and "slower" together; give one (a factor: 2 is twice as fast or slow)')
        if self.times == 0:
            raise ValueError("times must be 1 or more, or -1 for forever")
        return self


class AddOp(_Strict):
    """Add an item (placed relative to others, it compiles with the whole scene)."""

    add: Item


class RemoveOp(_Strict):
    """Remove items."""

    remove: Targets


class BgOp(_Strict):
    """Change the background colour."""

    bg: Color


_OPS: dict[str, type[BaseModel]] = {"set": SetOp, "then": ThenOp, "tune": TuneOp, "add": AddOp, "remove": RemoveOp,
                                    "bg": BgOp}
OP_VERBS = tuple(_OPS)


def _op_verb(value: Any) -> str | None:
    if isinstance(value, dict):
        return next((k for k in value if k in _OPS), None)
    return next((verb for verb, model in _OPS.items() if isinstance(value, model)), None)


if TYPE_CHECKING:
    Op = _SetKey | ThenOp | TuneOp | AddOp | RemoveOp | BgOp
else:
    Op = Annotated[
        Annotated[SetOp, Tag("set")] | Annotated[ThenOp, Tag("then")] | Annotated[TuneOp, Tag("tune")]
        | Annotated[AddOp, Tag("add")]
        | Annotated[RemoveOp, Tag("remove")] | Annotated[BgOp, Tag("bg")],
        Discriminator(_op_verb, custom_error_type="unknown_edit",
                      custom_error_message=f"an edit starts with one verb key: {', '.join(_OPS)}"),
    ]


class Patch(_Strict):
    """A refinement as the model writes it: only the change, as a list of edits applied in order."""

    edit: list[Op] = Field(min_length=1, max_length=MAX_EDITS)

    def to_json(self) -> str:
        """Compact JSON of what was written (unset keys omitted, an explicit ``null`` kept), grammar order."""
        return compact_json(self.model_dump(mode="json", exclude_unset=True, by_alias=True))


def patch_json_schema() -> dict[str, Any]:
    """The JSON schema the decoder enforces for patches: key order = field order; ``null`` only where a
    ``set`` may reset a key (:data:`RESETTABLE`)."""
    schema: dict[str, Any] = _no_null(Patch.model_json_schema(by_alias=True))
    props = schema["$defs"]["SetOp"]["properties"]
    for key in RESETTABLE:
        props[key] = {"anyOf": [props[key], {"type": "null"}]}
    return schema


def _integral(node: Any) -> Any:
    if isinstance(node, float) and node.is_integer():
        return int(node)
    if isinstance(node, list):
        return [_integral(v) for v in node]
    if isinstance(node, dict):
        return {k: _integral(v) for k, v in node.items()}
    return node


def compact_json(data: Any) -> str:
    """JSON as the model writes it: no spaces, whole numbers without ``.0`` (``"dur":2``, not ``2.0``)."""
    return json.dumps(_integral(data), separators=(",", ":"), ensure_ascii=False)


def named(scene: V2Scene) -> V2Scene:
    """``scene`` with every item's id written out (the name the compiler gives it), as patches refer to it."""
    names = item_names(scene.items)
    items = [i if i.id == n else i.model_copy(update={"id": n}) for i, n in zip(scene.items, names, strict=True)]
    return scene.model_copy(update={"items": items})


class _Edit:
    """The scene being edited: items as JSON dicts (defaults omitted) keyed by their ids, in order."""

    def __init__(self, base: V2Scene) -> None:
        scene = named(base)
        self.bg = scene.bg
        self.size = (scene.w, scene.h)
        self.items: dict[str, dict[str, Any]] = {
            str(i.id): i.model_dump(mode="json", exclude_defaults=True, by_alias=True) for i in scene.items}
        self.touched: dict[str, int] = {}
        self.removed: dict[str, int] = {}

    def scene(self) -> V2Scene:
        return V2Scene.model_validate({"bg": self.bg, "w": self.size[0], "h": self.size[1],
                                       "items": list(self.items.values())})

    def fail(self, k: int, op: Any, message: str) -> SceneCompileError:
        verb = _op_verb(op) or "?"
        value = getattr(op, verb)
        what = f'"{verb}"' if isinstance(value, BaseModel) else f'"{verb}":{compact_json(value)}'
        return SceneCompileError(f"edit {k + 1} ({what}): {message}")

    def target(self, k: int, op: Any, ident: str) -> dict[str, Any]:
        if ident in self.items:
            self.touched[ident] = k
            return self.items[ident]
        if ident in self.removed:
            raise self.fail(k, op, f"{ident!r} was removed by edit {self.removed[ident] + 1}")
        copy = re.fullmatch(r"(.+?)(\d+)", ident)
        if copy and copy[1] in self.items and 1 <= int(copy[2]) <= int(self.items[copy[1]].get("n", 1)):
            raise self.fail(k, op, f"{ident!r} is copy {copy[2]} of item {copy[1]!r}; edit {copy[1]!r} "
                            "(\"colors\" gives each copy its own colour)")
        raise self.fail(k, op, f"no item {ident!r} (ids: {', '.join(self.items)})")

    def validated(self, k: int, op: Any, data: dict[str, Any]) -> dict[str, Any]:
        try:
            return Item.model_validate(data).model_dump(mode="json", exclude_defaults=True, by_alias=True)
        except ValidationError as exc:
            raise self.fail(k, op, _reasons(exc)) from None


def _reasons(exc: ValidationError) -> str:
    """Pydantic's complaints about an edited item, without its ``Value error,`` prefixes."""
    return "; ".join(("" if not e["loc"] else ".".join(map(str, e["loc"])) + ": ") + e["msg"].removeprefix(
        "Value error, ") for e in exc.errors()[:3])


def _targets(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(dict.fromkeys(value))


def _set(item: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``item`` with ``changes`` (``None`` = reset), keeping it consistent: one placement, text only on text,
    a line's end only on a line, a single place only for a single copy."""
    out = dict(item)
    shape = changes.get("shape", item.get("shape", "circle"))
    if "shape" in changes:
        if shape != "text":
            out.pop("text", None)
        if shape != "polygon":
            out.pop("pts", None)
        if shape != "line" and "xy2" in out and "xy" in out:
            (x1, y1), (x2, y2) = out["xy"], out.pop("xy2")
            out["xy"] = [round((x1 + x2) / 2), round((y1 + y2) / 2)]
    if "at" in changes or "xy" in changes or (int(changes.get("n") or 1) > 1 and "xy" not in changes):
        relation = changes.get("at") in RELATIONS
        for key in PLACEMENT:
            if key not in changes and not (relation and key in ("of", "gap")):
                out.pop(key, None)
    for key, value in changes.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = value
    return out


def apply_patch(base: V2Scene, patch: Patch) -> V2Scene:
    """The v2 scene after ``patch``'s edits, in order; a :class:`SceneCompileError` names a bad edit."""
    ed = _Edit(base)
    for k, op in enumerate(patch.edit):
        if isinstance(op, BgOp):
            ed.bg = op.bg
        elif isinstance(op, AddOp):
            _add(ed, k, op)
        elif isinstance(op, RemoveOp):
            for ident in _targets(op.remove):
                _remove(ed, k, op, ident)
        elif isinstance(op, TuneOp):
            for ident in _targets(op.tune):
                item = ed.target(k, op, ident)
                ed.items[ident] = ed.validated(k, op, {**item, "do": _tuned(ed, k, op, ident, item.get("do", []))})
        elif isinstance(op, ThenOp):
            steps = [s.model_dump(mode="json", exclude_defaults=True, by_alias=True) for s in op.do]
            for ident in _targets(op.then):
                item = ed.target(k, op, ident)
                ed.items[ident] = ed.validated(k, op, {**item, "do": [*item.get("do", []), *steps]})
        else:
            changes = op.model_dump(mode="json", exclude_unset=True, by_alias=True)
            changes.pop("set")
            for ident in _targets(op.set):
                ed.items[ident] = ed.validated(k, op, _set(ed.target(k, op, ident), changes))
    _check_refs(ed)
    try:
        return ed.scene()
    except ValidationError as exc:
        raise SceneCompileError(f"the edited scene is not valid: {validation_message(exc)}") from None


def _tuned(ed: _Edit, k: int, op: TuneOp, ident: str, steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every step with the tune's options: ``faster`` divides (``slower`` multiplies) each step's duration (its
    default when it has none), delay and wait; ``dir`` sets which way spin and rotate steps turn; the others
    are set as given."""
    if not steps:
        raise ed.fail(k, op, f"item {ident!r} has no steps; add some with {{\"then\":\"{ident}\",\"do\":[...]}}")
    if op.dir is not None and not any(next(iter(s)) in ("spin", "rotate") for s in steps):
        raise ed.fail(k, op, f"item {ident!r} has no spin or rotate step to turn {op.dir}; add one with \"then\"")
    speed = _factor(op.faster) if op.faster else (1 / _factor(op.slower) if op.slower else None)
    out: list[dict[str, Any]] = []
    for step in steps:
        verb, new = next(iter(step)), dict(step)
        if verb == "wait":
            new["wait"] = round(step["wait"] / (speed or 1.0), 3)
            out.append(new)
            continue
        if speed is not None:
            own = 2.0 * float(step.get("turns", 1.0)) if verb == "spin" else DUR.get(verb, 1.0)
            new["dur"] = round(float(step.get("dur", own)) / speed, 3)
            if step.get("delay"):
                new["delay"] = round(float(step["delay"]) / speed, 3)
        if op.dir is not None and verb == "spin":
            new["spin"] = op.dir
        elif op.dir is not None and verb == "rotate":
            new["rotate"], new["dir"] = abs(int(step["rotate"])), op.dir
        updates = {"ease": op.ease, "times": op.times, "yoyo": op.yoyo, "dur": op.dur}
        new.update({key: value for key, value in updates.items() if value is not None})
        out.append(new)
    return out


def _factor(value: float) -> float:
    """How much faster or slower: 2 and 0.5 both mean twice (as with ``shrink``), and 1 (which would change
    nothing; a small model writes it for a plain "slower") means the default, twice."""
    return 2.0 if value == 1 else max(value, 1 / value)


def _add(ed: _Edit, k: int, op: AddOp) -> None:
    item = op.add.model_dump(mode="json", exclude_defaults=True, by_alias=True)
    if op.add.id is None:
        item = {"id": item_names([Item(id=i) for i in ed.items] + [op.add])[-1], **item}
    ident = str(item["id"])
    if ident in ed.items:
        raise ed.fail(k, op, f'id {ident!r} is taken; give the new item another "id", or use '
                      f'{{"set":"{ident}",...}} to change the one there is')
    ed.items[ident] = item
    ed.touched[ident] = k
    ed.removed.pop(ident, None)


def _remove(ed: _Edit, k: int, op: RemoveOp, ident: str) -> None:
    """Remove an item; those placed relative to it keep their resting place (pinned as ``xy``), those that
    waited for it (``after``) start when it would have started."""
    gone = ed.target(k, op, ident)
    if len(ed.items) == 1:
        raise ed.fail(k, op, "a scene needs at least one item; add another item before removing the last")
    scene = ed.scene()
    centres = {p.name: p.centres[0] for p in place_items(scene)}
    for name, item in ed.items.items():
        if item.get("of") == ident:
            x, y = centres[name]
            ed.items[name] = {**{key: v for key, v in item.items() if key not in PLACEMENT}, "xy": [round(x), round(y)]}
        if item.get("after") == ident:
            moved = {key: v for key, v in ed.items[name].items() if key != "after"}
            if gone.get("after") is not None:
                moved["after"] = gone["after"]
            start = float(item.get("start", 0.0)) + float(gone.get("start", 0.0))
            if start:
                moved["start"] = start
            ed.items[name] = ed.validated(k, op, moved)
    del ed.items[ident]
    ed.removed[ident] = k


def _check_refs(ed: _Edit) -> None:
    """Every ``of`` and ``after`` (of an item or a step) names an item of the edited scene."""
    for name, item in ed.items.items():
        refs = [(f'"{key}"', item.get(key)) for key in ("of", "after")]
        refs += [(f'step {j + 1} "of"', step.get("of")) for j, step in enumerate(item.get("do", []))]
        for where, ref in refs:
            if ref is None or ref in ed.items:
                continue
            origin = f"edit {ed.touched[name] + 1}: " if name in ed.touched else ""
            why = f"edit {ed.removed[ref] + 1} removed it" if ref in ed.removed else "there is no such item"
            raise SceneCompileError(f"{origin}item {name!r} has {where}:\"{ref}\", but {why} (ids: "
                                    f"{', '.join(ed.items)}); name an item that is there")


def changed_paths(base: V2Scene, patch: Patch) -> list[str]:
    """What ``patch`` changes in ``base``'s source: ``bg``, ``items.<id>`` (added or removed),
    ``items.<id>.<key>`` (a key whose value differs, e.g. ``items.sun.do``), sorted."""
    return source_changes(base, apply_patch(base, patch))


def source_changes(base: V2Scene, after: V2Scene) -> list[str]:
    """The paths of :func:`changed_paths` between two sources (e.g. a base and its patched, kept result)."""
    before = named(base)
    after = named(after)
    paths = [key for key in ("bg", "w", "h") if getattr(before, key) != getattr(after, key)]
    old = {str(i.id): i.model_dump(mode="json", by_alias=True) for i in before.items}
    new = {str(i.id): i.model_dump(mode="json", by_alias=True) for i in after.items}
    paths += [f"items.{name}" for name in old.keys() ^ new.keys()]
    for name in old.keys() & new.keys():
        paths += [f"items.{name}.{key}" for key in old[name] if key != "id" and old[name][key] != new[name][key]]
    return sorted(paths)
