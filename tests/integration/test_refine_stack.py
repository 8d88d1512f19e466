"""Refinement, variants, hand edits and version history end to end: HTTP through the gateway to the functions,
Redis, a warm SmolLM2 worker and S3 (the shared small stack). SmolLM2 is weak; these tests check the plumbing
(parents, chains, ids, errors, stored pages), and the default model's edit quality is in test_refinement_qwen.py."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import redis
import requests
from rq import Queue

from text2pixi.core.scene import Scene
from text2pixi.ops.localstack import StackConfig, service_settings

pytestmark = [pytest.mark.model, pytest.mark.stack]

BASE_SCENE = {"objects": [{"type": "circle", "id": "ball", "x": 200, "y": 300, "r": 40, "color": "red"}],
              "bg": "black", "anims": [{"type": "move", "target": "ball", "x": 600, "y": 300, "dur": 2}]}


@pytest.fixture(scope="module")
def stack(small_stack: StackConfig) -> StackConfig:
    return small_stack


def call(api: requests.Session, stack: StackConfig, method: str, path: str, **kwargs: Any) -> requests.Response:
    return api.request(method, stack.gateway_url + path, timeout=90, **kwargs)


def wait_done(api: requests.Session, stack: StackConfig, job_id: str, timeout: float = 240) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        view = call(api, stack, "GET", f"/function/status/{job_id}").json()
        if view["status"] in ("finished", "failed"):
            return view  # type: ignore[no-any-return]
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} still running after {timeout}s")


def wait_for_prepare_jobs(stack: StackConfig, timeout: float = 60) -> None:
    """Until no prepare job is queued or running: a user's think time between an edit and a refinement."""
    settings = service_settings(stack)
    queue = Queue(settings.prepare_queue_name, connection=redis.Redis.from_url(settings.resolved_redis_url))
    deadline = time.monotonic() + timeout
    while queue.count or queue.intermediate_queue.get_job_ids() or queue.started_job_registry.count:
        assert time.monotonic() < deadline, "prepare jobs still queued"
        time.sleep(0.1)


def translate(api: requests.Session, stack: StackConfig, body: dict[str, Any]) -> dict[str, Any]:
    accepted = call(api, stack, "POST", "/function/translate", json=body)
    assert accepted.status_code in (200, 202), accepted.text
    return wait_done(api, stack, accepted.json()["id"])


@pytest.fixture(scope="module")
def root(api: requests.Session, stack: StackConfig) -> dict[str, Any]:
    """A first version that does not depend on the weak model: a hand edit of a generated scene would need one,
    so the chain starts from a generated job, and the tests below edit and refine it."""
    view = translate(api, stack, {"prompt": "a red circle"})
    assert view["status"] == "finished", view
    return view


def test_edit_stores_a_validated_version_with_its_parent(api: requests.Session, stack: StackConfig,
                                                        root: dict[str, Any]) -> None:
    edited = call(api, stack, "POST", "/function/translate/edit",
                  json={"base": root["id"], "scene": BASE_SCENE, "note": "a red ball moving right"})
    assert edited.status_code == 201, edited.text
    body = edited.json()
    assert body["status"] == "finished" and body["result"]["parent"] == root["id"]
    assert body["result"]["kind"] == "edit" and body["result"]["prompt"] == "a red ball moving right"
    assert Scene.model_validate(body["result"]["scene"]) == Scene.model_validate(BASE_SCENE)
    # The new version is a result like any other: status, its page, and a base for refinements.
    view = call(api, stack, "GET", f"/function/status/{body['id']}").json()
    assert view["status"] == "finished" and view["result"]["scene_json"] == body["result"]["scene_json"]
    page = call(api, stack, "GET", f"/function/status/{body['id']}/html")
    assert page.status_code == 200 and "__PIXI_APP__" in page.text
    history = call(api, stack, "GET", f"/function/status/{body['id']}/history").json()
    assert [v["id"] for v in history["versions"]] == [root["id"], body["id"]]
    assert [v["kind"] for v in history["versions"]] == ["generate", "edit"]


def test_edits_are_validated_strictly(api: requests.Session, stack: StackConfig, root: dict[str, Any]) -> None:
    invisible = json.loads(json.dumps(BASE_SCENE))
    invisible["objects"][0]["color"] = "black"  # on a black background
    cases = [
        ({"base": root["id"], "scene": invisible}, 400, "invalid_scene"),
        ({"base": root["id"], "scene": {**BASE_SCENE, "script": "<x>"}}, 400, "invalid_scene"),
        ({"base": root["id"], "scene": {"objects": []}}, 400, "invalid_scene"),
        ({"base": root["id"], "scene": BASE_SCENE, "extra": 1}, 400, "invalid_request"),
        ({"base": "0" * 32, "scene": BASE_SCENE}, 404, "base_not_found"),
        ({"base": "../etc", "scene": BASE_SCENE}, 400, "invalid_request"),
        ({"scene": BASE_SCENE}, 400, "invalid_request"),
    ]
    for body, status, code in cases:
        answer = call(api, stack, "POST", "/function/translate/edit", json=body)
        assert (answer.status_code, answer.json()["error"]) == (status, code), (body, answer.text)
    invalid = call(api, stack, "POST", "/function/translate/edit", json=cases[0][0]).json()
    assert "invisible" in invalid["message"]


def test_refinement_records_its_parent_and_the_chain(api: requests.Session, stack: StackConfig,
                                                    root: dict[str, Any]) -> None:
    edited = call(api, stack, "POST", "/function/translate/edit",
                  json={"base": root["id"], "scene": {**BASE_SCENE, "bg": "navy"}}).json()
    wait_for_prepare_jobs(stack)
    view = translate(api, stack, {"prompt": "make the ball blue", "base": edited["id"],
                                  "options": {"max_tokens": 200}})
    history = call(api, stack, "GET", f"/function/status/{view['id']}/history").json()
    assert [v["id"] for v in history["versions"]] == [root["id"], edited["id"], view["id"]]
    if view["status"] == "failed":  # the weak model's reply did not validate: still a version of the chain
        assert view["error"]["error"] in ("generation_failed", "output_truncated"), view
        return
    result = view["result"]
    assert result["parent"] == edited["id"] and result["kind"] == "refine"
    assert result["prompt"] == "make the ball blue"
    Scene.model_validate(result["scene"])
    assert isinstance(result["changed"], list) and isinstance(result["reverted"], list)
    # The user turn held the base scene, after the cached prefix. The hand edit queued a prepare job, so the
    # idle worker had evaluated that head already: the refinement started from its KV checkpoint.
    first = result["timings"]["attempts"][0]
    assert result["timings"]["checkpoint"] == "restored", result["timings"]
    assert first["cached_tokens"] > 500 + 40 and first["prompt_tokens"] - first["cached_tokens"] < 60


def test_a_refinement_right_after_its_base_starts_from_the_checkpoint_the_worker_kept(
        api: requests.Session, stack: StackConfig) -> None:
    """After a job, the idle worker evaluates the head of a refinement of its scene; the refinement then
    evaluates only its instruction. Whether the refinement is queued before or after that preparation ends,
    it starts from the checkpoint (a waiting refinement of the base does not make the worker skip it)."""
    base = translate(api, stack, {"prompt": "a red circle"})  # as root: a prompt the weak model finishes
    assert base["status"] == "finished", base
    view = translate(api, stack, {"prompt": "make the circle blue", "base": base["id"],
                                  "options": {"max_tokens": 300}})
    assert view["status"] == "finished", view
    timings = view["result"]["timings"]
    assert timings["checkpoint"] == "restored", timings
    first = timings["attempts"][0]
    assert first["prompt_tokens"] - first["cached_tokens"] < 60  # the instruction's turn only


def test_a_base_that_is_unknown_unfinished_or_failed_is_a_clear_4xx(api: requests.Session, stack: StackConfig,
                                                                   root: dict[str, Any]) -> None:
    unknown = call(api, stack, "POST", "/function/translate", json={"prompt": "slower", "base": "f" * 32})
    assert (unknown.status_code, unknown.json()["error"]) == (404, "base_not_found")
    malformed = call(api, stack, "POST", "/function/translate", json={"prompt": "slower", "base": "nope"})
    assert (malformed.status_code, malformed.json()["error"]) == (400, "invalid_request")
    # One worker: a job queued behind another one is not finished when we ask to refine it.
    first = call(api, stack, "POST", "/function/translate", json={"prompt": "a green square"}).json()
    second = call(api, stack, "POST", "/function/translate", json={"prompt": "a blue star"}).json()
    pending = call(api, stack, "POST", "/function/translate", json={"prompt": "slower", "base": second["id"]})
    assert (pending.status_code, pending.json()["error"]) == (409, "base_not_finished"), pending.text
    # A job that failed (its output cannot fit in 16 tokens) has no scene to continue from.
    failed = translate(api, stack, {"prompt": "a red ball", "options": {"max_tokens": 16}})
    assert failed["status"] == "failed", failed
    refused = call(api, stack, "POST", "/function/translate", json={"prompt": "slower", "base": failed["id"]})
    assert (refused.status_code, refused.json()["error"]) == (409, "base_failed"), refused.text
    for job in (first, second):
        wait_done(api, stack, job["id"])


def test_variants_are_distinct_results_with_their_own_code_and_page(api: requests.Session,
                                                                   stack: StackConfig) -> None:
    view = translate(api, stack, {"prompt": "a red circle", "variants": 2, "options": {"max_tokens": 200}})
    assert view["status"] == "finished", view
    result = view["result"]
    assert result["variants_requested"] == 2
    variants = result["variants"]
    assert variants[0]["id"] == view["id"] and variants[0]["scene_json"] == result["scene_json"]
    assert len(variants) == 2, "the weak model managed one valid distinct variant only"
    assert len({v["scene_json"] for v in variants}) == 2  # distinct
    assert len({v["id"] for v in variants}) == 2
    for variant in variants:
        own = call(api, stack, "GET", f"/function/status/{variant['id']}").json()
        assert own["status"] == "finished" and own["result"]["js"] == variant["js"]
        assert own["result"]["variant_of"] == view["id"]
        page = call(api, stack, "GET", f"/function/status/{variant['id']}/html")
        assert page.status_code == 200 and "__PIXI_APP__" in page.text
    # A single-result request keeps the old shape.
    assert "variants" not in translate(api, stack, {"prompt": "a red circle"})["result"]
    too_many = call(api, stack, "POST", "/function/translate", json={"prompt": "a red circle", "variants": 5})
    assert (too_many.status_code, too_many.json()["error"]) == (400, "invalid_request")
