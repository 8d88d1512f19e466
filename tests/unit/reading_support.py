"""Shared by the tests of core/v2/reading/: a v2 source from its JSON, and the two outcomes of a pass."""

from __future__ import annotations

from text2pixi.core.v2 import V2Scene, compile_scene
from text2pixi.core.v2.reading import Pass

__all__ = ["Pass", "assert_fixed", "assert_unchanged", "parsed"]


def parsed(text: str) -> V2Scene:
    return V2Scene.model_validate_json(text)


def assert_fixed(fix: Pass, prompt: str, source: str, fixed: str) -> None:
    """``fix`` turns ``source`` into ``fixed``, says so, and the result compiles."""
    scene, fixes = fix(parsed(source), prompt)
    assert scene.to_json() == fixed and fixes
    compile_scene(scene)


def assert_unchanged(fix: Pass, prompt: str, source: str) -> None:
    """``fix`` hands ``source`` back as it is (the very object) and reports nothing."""
    scene = parsed(source)
    out, fixes = fix(scene, prompt)
    assert out is scene and fixes == []
