"""Compiled object ids of copies never repeat another item's ids (core/v2/layout.copy_ids)."""

from __future__ import annotations

from text2pixi.core.v2.compiler import compile_scene
from text2pixi.core.v2.language import V2Scene


def _ids(data: dict[str, object]) -> list[str]:
    return [o.id for o in compile_scene(V2Scene.model_validate(data)).objects]


def test_copies_are_numbered_from_one() -> None:
    assert _ids({"items": [{"id": "dot", "n": 3}]}) == ["dot1", "dot2", "dot3"]


def test_copy_ids_that_would_collide_get_an_underscore() -> None:
    ids = _ids({"items": [{"id": "i1", "n": 12}, {"id": "i11", "n": 2}]})
    assert len(ids) == len(set(ids)) == 14
    assert ids[:2] == ["i1_1", "i1_2"] and ids[-2:] == ["i11_1", "i11_2"]


def test_an_unnamed_item_after_copies_of_its_shape() -> None:
    ids = _ids({"items": [{"n": 16}, {}]})
    assert len(ids) == len(set(ids)) == 17
    assert "circle2" in ids and ids[0] == "circle_1"
