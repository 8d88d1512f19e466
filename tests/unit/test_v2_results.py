"""Result documents carry v2 sources, and documents stored before v2 read exactly as before.

The stored-v1 fixture (tests/fixtures/result_v1.json) is a document as the worker wrote it before v2: it must
validate, read as language v1 without a source, and serialise back byte for byte (no key added). The worker's
document builder and its refinement base are checked on v1 and v2 documents alike.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from text2pixi.core.contracts import EditRequest, ResultDocument, TranslateRequest
from text2pixi.core.errors import BaseFailed
from text2pixi.core.scene import Scene
from text2pixi.core.v2 import V2Scene, compile_scene
from text2pixi.engine import Translation
from text2pixi.worker.translation import _document, base_of

FIXTURE = Path(__file__).parents[1] / "fixtures" / "result_v1.json"
SOURCE = {"bg": "navy", "items": [
    {"id": "sun", "shape": "circle", "color": "orange", "at": "top-right", "do": [{"move": "down", "by": 100}]},
    {"id": "box", "shape": "square", "color": "white", "at": "left", "of": "sun", "do": [
        {"rotate": 90, "dir": "ccw", "about": "bottom-left"}]},
]}


def stored_v1() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text())  # type: ignore[no-any-return]


def v2_document(**extra: Any) -> dict[str, Any]:
    source = V2Scene.model_validate(SOURCE)
    scene = compile_scene(source)
    return {**stored_v1(), "language": "v2", "scene": scene.model_dump(mode="json", exclude_defaults=True),
            "scene_json": scene.to_json(), "source": source.model_dump(mode="json", exclude_defaults=True,
                                                                       by_alias=True), **extra}


def test_a_stored_v1_document_validates_reads_as_v1_and_serialises_unchanged() -> None:
    stored = stored_v1()
    assert not {"language", "source", "patch", "source_changed"} & set(stored)
    document = ResultDocument.model_validate(stored)
    assert (document.language, document.source, document.patch, document.source_changed) == ("v1", None, None, [])
    assert json.dumps(document.as_dict()) == json.dumps(stored)  # same keys, same order, same values


def test_a_v2_document_keeps_its_source_patch_and_paths_in_declared_order() -> None:
    patch = {"edit": [{"set": "sun", "color": "red"}]}
    stored = v2_document(kind="refine", parent="0" * 32, patch=patch, source_changed=["items.sun.color"])
    document = ResultDocument.model_validate(stored)
    assert document.language == "v2" and document.source == stored["source"] and document.patch == patch
    keys = list(document.as_dict())
    assert keys.index("language") < keys.index("scene") < keys.index("source") < keys.index("patch") \
        < keys.index("source_changed") < keys.index("worker")
    with pytest.raises(ValueError, match="language"):
        ResultDocument.model_validate({**stored, "language": "v3"})


def test_variant_summaries_carry_the_source_of_v2_variants_only() -> None:
    v1 = ResultDocument.model_validate(stored_v1()).summary()
    assert "source" not in v1.model_dump(exclude_unset=True)
    v2 = ResultDocument.model_validate(v2_document()).summary()
    assert v2.model_dump(exclude_unset=True)["source"] == v2_document()["source"]


def test_base_of_a_v1_result_is_its_scene_without_a_source() -> None:
    stored = stored_v1()
    scene, source = base_of(stored["id"], stored)
    assert source is None and scene == Scene.model_validate(stored["scene"])


def test_base_of_a_v2_result_is_its_compiled_scene_and_its_source() -> None:
    stored = v2_document()
    scene, source = base_of(stored["id"], stored)
    assert source == V2Scene.model_validate(SOURCE)
    assert scene == compile_scene(V2Scene.model_validate(SOURCE))


@pytest.mark.parametrize(("change", "words"), [
    ({"source": {"bg": "navy", "items": []}}, "v2 source of result"),
    ({"source": None}, "v2 source of result"),
    ({"scene": {"objects": "none"}}, "the scene of result"),
])
def test_a_base_that_no_longer_validates_is_base_failed(change: dict[str, Any], words: str) -> None:
    stored = v2_document(**change)
    with pytest.raises(BaseFailed, match=words):
        base_of(stored["id"], stored)


def _translation(**fields: Any) -> Translation:
    scene = Scene.model_validate(stored_v1()["scene"])
    return Translation.model_validate({"scene": scene, "scene_json": scene.to_json(), "model": "m", "attempts": [],
                                       "prime_s": 0.0, "wall_s": 1.0, **fields})


def test_the_worker_writes_the_language_and_a_v2_translations_source_and_patch() -> None:
    request = TranslateRequest(prompt="make the sun red", base="0" * 32)
    v1 = _document("1" * 32, request, _translation(), "js", "<html>").as_dict()
    assert v1["language"] == "v1" and not {"source", "patch", "source_changed"} & set(v1)
    source = v2_document()["source"]
    fresh = _document("2" * 32, request, _translation(language="v2", source=source), "js", "<html>").as_dict()
    assert fresh["language"] == "v2" and fresh["source"] == source
    assert not {"patch", "source_changed"} & set(fresh)
    patch = {"edit": [{"set": "sun", "color": "red"}]}
    refined = _document("3" * 32, request, _translation(language="v2", source=source, patch=patch,
                                                         source_changed=["items.sun.color"]), "js", "<html>")
    assert (refined.patch, refined.source_changed) == (patch, ["items.sun.color"])
    assert ResultDocument.model_validate(refined.as_dict()) == refined


def test_an_edit_request_takes_a_scene_or_a_source() -> None:
    assert EditRequest.model_validate({"base": "0" * 32, "source": SOURCE}).scene is None
    assert EditRequest.model_validate({"base": "0" * 32, "scene": stored_v1()["scene"]}).source is None
    schema = EditRequest.model_json_schema()
    assert {"scene", "source"} <= set(schema["properties"]) and schema["required"] == ["base"]
