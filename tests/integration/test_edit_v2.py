"""Hand edits in v1 and v2, and refinement bases, on a real Redis and S3 (no model, no worker).

``POST /function/translate/edit`` takes a compiled/v1 ``scene`` (as before) or a v2 ``source``, which is
compiled, rendered and stored with ``language`` v2; a bad v2 scene is a 400 naming the problem that stores
nothing. A result stored before v2 (tests/fixtures/result_v1.json) stays a base to edit and refine: the
worker reads it as a compiled scene without a source, and a v2 result as its scene plus its source. The
playground's proxy compiles an edited v2 source (``/ui/api/compile``) and stores it through ``/ui/api/edit``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.backends import RedisServer, S3Server, import_template, serve_wsgi
from tests.conftest import ROOT
from text2pixi.core.codegen import render_module
from text2pixi.core.contracts import TranslateRequest
from text2pixi.core.errors import BaseFailed
from text2pixi.core.scene import Scene
from text2pixi.core.scene_diff import changed_paths
from text2pixi.core.v2 import V2Scene, compile_scene
from text2pixi.service.functions import get_service
from text2pixi.service.store import Store
from text2pixi.settings import Settings, get_settings
from text2pixi.web import playground
from text2pixi.web.gateway import Gateway, GatewayConfig, create_app
from text2pixi.worker.translation import _base_scene

KEY = "edit-v2-api-key-0123456789"
QUEUE = "edit-v2"
FIXTURE = Path(__file__).parents[1] / "fixtures" / "result_v1.json"
SOURCE: dict[str, Any] = {"bg": "navy", "items": [
    {"id": "sun", "shape": "circle", "color": "orange", "at": "top-right", "do": [{"move": "down", "by": 100}]},
    {"id": "box", "shape": "square", "color": "white", "at": "left", "of": "sun",
     "do": [{"rotate": 90, "dir": "ccw", "about": "bottom-left"}]},
    {"id": "dot", "n": 3, "layout": "row", "in": "bottom", "colors": ["red", "gold"], "do": [{"pulse": 1.2}]},
]}


@dataclass
class Service:
    translate: FlaskClient
    status: FlaskClient
    store: Store
    ui: FlaskClient

    def edit(self, body: dict[str, Any]) -> TestResponse:
        return self.translate.post("/edit", json=body, headers={"X-API-Key": KEY})

    def stored_ids(self) -> set[str]:
        listing = self.store.client.list_objects_v2(Bucket=self.store.settings.results_bucket)
        return {item["Key"] for item in listing.get("Contents", [])}


@pytest.fixture(scope="module")
def service(backends: tuple[RedisServer, S3Server], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    r, s3 = backends
    env = {"TEXT2PIXI_REDIS_URL": r.url, "TEXT2PIXI_S3_ENDPOINT_URL": s3.url, "TEXT2PIXI_S3_ACCESS_KEY": s3.access_key,
           "TEXT2PIXI_S3_SECRET_KEY": s3.secret_key, "TEXT2PIXI_API_KEY": KEY, "TEXT2PIXI_QUEUE_NAME": QUEUE,
           "TEXT2PIXI_SECRETS_DIR": str(tmp_path_factory.mktemp("no-secrets"))}
    with pytest.MonkeyPatch.context() as mp, ExitStack() as stack:
        for name, value in env.items():
            mp.setenv(name, value)
        get_settings.cache_clear()
        get_service.cache_clear()
        stack.callback(get_service.cache_clear)
        stack.callback(get_settings.cache_clear)
        settings = Settings()
        store = Store(settings)
        store.ensure_buckets()
        index = import_template(mp)
        apps: dict[str, Flask] = {name: index.create_app(index.load_handler(ROOT / "functions" / name))
                                  for name in ("translate", "status")}
        urls = {name: stack.enter_context(serve_wsgi(app)) for name, app in apps.items()}
        gateway = Gateway(GatewayConfig(functions=urls))
        stack.callback(gateway.close)
        app = create_app(gateway)
        assert playground.install(app, gateway, bind_host="127.0.0.1", mode="auto", settings=settings)
        yield Service(apps["translate"].test_client(), apps["status"].test_client(), store, app.test_client())


@pytest.fixture(scope="module")
def stored_v1(service: Service) -> dict[str, Any]:
    """A result as the worker stored it before v2, put in S3 as it is."""
    document: dict[str, Any] = json.loads(FIXTURE.read_text())
    service.store.put_result(document["id"], document, None)
    return document


def error(answer: TestResponse, status: int, code: str) -> str:
    assert answer.status_code == status, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["error"] == code and "Traceback" not in answer.get_data(as_text=True), body
    return str(body["message"])


def test_a_v1_edit_of_a_stored_v1_result_is_stored_as_before(service: Service, stored_v1: dict[str, Any]) -> None:
    scene = json.loads(json.dumps(stored_v1["scene"]))
    scene["objects"][0]["color"] = "blue"
    answer = service.edit({"base": stored_v1["id"], "scene": scene, "note": "blue ball"})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    result = answer.get_json()["result"]
    assert result["language"] == "v1" and not {"source", "patch", "source_changed"} & set(result)
    assert result["scene"] == scene and result["changed"] == ["objects.ball.color"]
    assert result["js"] == render_module(Scene.model_validate(scene))
    assert service.store.get_result(result["id"]) == result


def test_a_v2_edit_is_compiled_rendered_and_stored_with_its_source(service: Service,
                                                                   stored_v1: dict[str, Any]) -> None:
    answer = service.edit({"base": stored_v1["id"], "source": SOURCE, "note": "a v2 scene"})
    assert answer.status_code == 201, answer.get_data(as_text=True)
    result = answer.get_json()["result"]
    compiled = compile_scene(V2Scene.model_validate(SOURCE))
    assert result["language"] == "v2" and result["kind"] == "edit" and result["parent"] == stored_v1["id"]
    assert result["source"] == V2Scene.model_validate(SOURCE).model_dump(mode="json", exclude_defaults=True,
                                                                         by_alias=True)
    assert result["source"]["items"][1]["of"] == "sun"  # what was written, not the compiled positions
    assert result["scene"] == compiled.model_dump(mode="json", exclude_defaults=True)
    assert [o["id"] for o in result["scene"]["objects"]] == ["sun", "box", "dot1", "dot2", "dot3"]
    assert result["scene_json"] == compiled.to_json() and result["js"] == render_module(compiled)
    assert result["changed"] == changed_paths(Scene.model_validate(stored_v1["scene"]), compiled)
    assert {"bg", "objects.ball.type", "objects.sun.x", "objects.box.pivot"} <= set(result["changed"])
    assert service.store.get_result(result["id"]) == result
    page = service.status.get(f"/{result['id']}/html", headers={"X-API-Key": KEY})
    assert page.status_code == 200 and "dot3" in page.get_data(as_text=True)
    history = service.status.get(f"/{result['id']}/history", headers={"X-API-Key": KEY}).get_json()["versions"]
    assert [(v["language"], v["source"] is None) for v in history] == [("v1", True), ("v2", False)]
    assert history[1]["source"] == result["source"]


@pytest.mark.parametrize(("body", "status", "code", "words"), [
    ({"source": {**SOURCE, "items": [{"id": "box", "at": "left", "of": "moon"}]}}, 400, "invalid_scene",
     "item 'box': \"of\":'moon' is not an item id (ids: box)"),
    ({"source": {"bg": "navy", "items": [{"id": "a", "do": [{"hop": 3}]}]}}, 400, "invalid_scene",
     "the v2 source is not valid: items.0.do.0: a step starts with one verb key"),
    ({"source": {"bg": "navy", "items": []}}, 400, "invalid_scene", "items: List should have at least 1 item"),
    ({"source": {"bg": "navy", "items": [{"id": "a", "do": [{"move": "up", "times": -1}, {"move": "down"}]}]}}, 400,
     "invalid_scene", "item 'a' step 2: never starts"),
    ({"scene": SOURCE}, 400, "invalid_scene", 'it is a v2 scene; send it as "source"'),
    ({"scene": {"bg": "black", "objects": [], "anims": []}, "source": SOURCE}, 400, "invalid_request", "not both"),
    ({}, 400, "invalid_request", "not neither"),
    ({"sourc": SOURCE}, 400, "invalid_request", "unknown field 'sourc'; the body's fields are base, scene, source"),
    ({"source": "a sun"}, 400, "invalid_request", "source: Input should be a valid dictionary"),
])
def test_a_bad_edit_is_a_precise_400_that_stores_nothing(service: Service, stored_v1: dict[str, Any],
                                                          body: dict[str, Any], status: int, code: str,
                                                          words: str) -> None:
    before = service.stored_ids()
    message = error(service.edit({"base": stored_v1["id"], **body}), status, code)
    assert words in message
    assert service.stored_ids() == before


def test_a_valid_v2_edit_of_an_unknown_base_is_404(service: Service) -> None:
    error(service.edit({"base": "0" * 32, "source": SOURCE}), 404, "base_not_found")


def test_refinement_bases_a_v1_result_has_no_source_and_a_v2_result_its_source(
        service: Service, stored_v1: dict[str, Any]) -> None:
    scene, source = _base_scene(service.store, TranslateRequest(prompt="make it red", base=stored_v1["id"]))
    assert source is None and scene == Scene.model_validate(stored_v1["scene"])
    edited = service.edit({"base": stored_v1["id"], "source": SOURCE}).get_json()["result"]
    scene, source = _base_scene(service.store, TranslateRequest(prompt="make it red", base=edited["id"]))
    assert source == V2Scene.model_validate(SOURCE)
    assert scene == compile_scene(V2Scene.model_validate(SOURCE))
    broken = {**edited, "id": "f" * 32, "source": {"bg": "navy", "items": [{"shape": "hexagon"}]}}
    service.store.put_result(broken["id"], broken, None)
    with pytest.raises(BaseFailed, match=f"the v2 source of result {'f' * 32} no longer validates"):
        _base_scene(service.store, TranslateRequest(prompt="make it red", base=broken["id"]))


def test_a_v2_edit_can_be_refined(service: Service, stored_v1: dict[str, Any]) -> None:
    edited = service.edit({"base": stored_v1["id"], "source": SOURCE}).get_json()["result"]
    answer = service.translate.post("/", json={"prompt": "make the sun red", "base": edited["id"]},
                                    headers={"X-API-Key": KEY})
    assert answer.status_code == 202 and answer.get_json()["status"] == "queued", answer.get_data(as_text=True)


def test_the_playground_compiles_an_edited_source_and_stores_it_as_v2(service: Service,
                                                                      stored_v1: dict[str, Any]) -> None:
    edited = json.loads(json.dumps(SOURCE))
    edited["items"][0]["color"] = "red"
    answer = service.ui.get("/ui/api/compile", query_string={"source": json.dumps(edited)})
    assert answer.status_code == 200, answer.get_data(as_text=True)
    body = answer.get_json()
    assert body["scene"] == compile_scene(V2Scene.model_validate(edited)).model_dump(mode="json",
                                                                                     exclude_defaults=True)
    assert body["source"]["items"][0]["color"] == "red"
    bad = json.loads(json.dumps(SOURCE))
    bad["items"][1]["of"] = "moon"
    message = error(service.ui.get("/ui/api/compile", query_string={"source": json.dumps(bad)}), 400,
                    "invalid_scene")
    assert "\"of\":'moon' is not an item id" in message
    error(service.ui.get("/ui/api/compile"), 400, "invalid_scene")
    stored = service.ui.post("/ui/api/edit", json={"base": stored_v1["id"], "source": body["source"],
                                                   "note": "sun: colour"})
    assert stored.status_code == 201, stored.get_data(as_text=True)
    result = stored.get_json()["result"]
    assert result["language"] == "v2" and result["source"] == body["source"] and result["scene"] == body["scene"]
