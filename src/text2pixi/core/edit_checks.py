"""Edit quality: whether a refinement made the change a case asks for and kept every other base value.

IO-free. A :class:`RefinementCase` of ``tests/fixtures/refinements.json`` is a base scene, an
instruction, the change it must make (``expect``, globs over :func:`text2pixi.core.scene_diff.flatten`
paths) and the paths it may also change (``allow``); ``bench/refine.py`` and the integration tests
score a model's edits with :func:`check_case`.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from pydantic import BaseModel, Field

from text2pixi.core.colors import color_matches
from text2pixi.core.scene import Scene
from text2pixi.core.scene_diff import changed_paths, flatten


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
