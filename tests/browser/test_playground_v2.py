"""The playground on a v2 result, in Chromium, against the real functions on a real Redis and S3 (no model).

A v2 hand edit of a result stored before v2 is opened by its link: the JSON pane shows the source (what was
written), the compiled scene sits below it, and the property panel lists the source's items. An edit changes
the source (compiled on the server through /ui/api/compile, then played: the canvas shows it), a refused one
is said in words and changes nothing, and Refine stores the unsaved edit as a v2 version before queueing the
refinement on it. The page's CSP forbids eval, so waiting polls with ``page.evaluate`` (``tests/pixels.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest
import requests
from flask import Flask
from redis import Redis
from rq import Queue

from tests.backends import RedisServer, S3Server, import_template, serve_wsgi
from tests.browser.test_playground import Session
from tests.browser.test_playground_editing import COUNT_NEAR, set_colour
from tests.conftest import ROOT
from tests.integration.test_edit_v2 import FIXTURE, SOURCE
from tests.pixels import wait_for
from text2pixi.service.functions import get_service
from text2pixi.service.store import Store
from text2pixi.settings import Settings, get_settings
from text2pixi.web import playground
from text2pixi.web.gateway import Gateway, GatewayConfig, create_app

pytestmark = [pytest.mark.browser]

KEY = "playground-v2-key-0123456789"
QUEUE = "playground-v2"


@dataclass
class Page:
    session: Session
    url: str
    store: Store
    queue: Any
    result: dict[str, Any]
    stored_v1: dict[str, Any]
    context: Any


def open_result(context: Any, url: str, result_id: str, versions: int) -> Session:
    """The playground opened on a stored result's link, once it plays with ``versions`` versions listed."""
    page = context.new_page()
    session = Session(page)
    page.on("pageerror", lambda exc: session.errors.append(str(exc)))
    page.on("request", lambda req: session.requests.append(req.url))
    page.goto(f"{url}/ui/#job={result_id}")
    wait_for(page, "document.body.dataset.ready === 'true' && document.body.dataset.state === 'playing'"
             f" && document.querySelectorAll('#history li').length === {versions}", timeout=60)
    return session


@pytest.fixture(scope="module")
def v2_page(backends: tuple[RedisServer, S3Server], browser: Any,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Page]:
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
        url = stack.enter_context(serve_wsgi(app)).replace("127.0.0.1", "localhost")
        stored = json.loads(FIXTURE.read_text())
        store.put_result(stored["id"], stored, None)
        edited = requests.post(f"{url}/function/translate/edit", headers={"X-API-Key": KEY}, timeout=30,
                               json={"base": stored["id"], "source": SOURCE, "note": "a v2 scene"})
        assert edited.status_code == 201, edited.text
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        stack.callback(context.close)
        result = edited.json()["result"]
        session = open_result(context, url, result["id"], 2)
        yield Page(session, url, store, Queue(QUEUE, connection=Redis.from_url(r.url)), result, stored, context)


def set_value(page: Any, element: str, value: str) -> None:
    """Set an input and fire its change, without focusing it (a later blur would fire a second change)."""
    page.evaluate("""([id, v]) => { const el = document.getElementById(id); el.value = v;
                    el.dispatchEvent(new Event('change', { bubbles: true })); }""", [element, value])


def source_on_screen(page: Any) -> dict[str, Any]:
    return json.loads(page.inner_text("#scene"))  # type: ignore[no-any-return]


def test_a_v2_result_shows_its_source_its_compiled_scene_and_its_items(v2_page: Page) -> None:
    page = v2_page.session.page
    assert source_on_screen(page) == v2_page.result["source"]
    assert page.inner_text("#scene-title") == "Scene (v2, as written)"
    assert page.is_visible("#compiled")
    assert json.loads(page.inner_text("#compiled")) == v2_page.result["scene"]
    assert page.evaluate("[...document.querySelectorAll('#p-object option')].map(o => o.value)") == \
        ["sun", "box", "dot"]
    assert page.evaluate("__PIXI_APP__.stage.children.map(c => c.label)") == \
        [o["id"] for o in v2_page.result["scene"]["objects"]]
    page.select_option("#p-object", "dot")
    page.dispatch_event("#p-object", "change")
    assert page.is_disabled("#p-x") and page.is_enabled("#p-size")  # copies follow their layout
    page.select_option("#p-object", "sun")
    page.dispatch_event("#p-object", "change")
    assert page.is_enabled("#p-x") and page.input_value("#p-color") == "#ffa500"
    assert v2_page.session.errors == []


def test_the_panel_edits_the_source_and_the_canvas_follows(v2_page: Page) -> None:
    page = v2_page.session.page
    assert page.evaluate(COUNT_NEAR, [0, 255, 0]) < 50
    set_colour(page, "#00ff00")
    wait_for(page, "document.querySelectorAll('#history li').length === 3", timeout=20)
    source = source_on_screen(page)
    assert source["items"][0]["color"] == "#00ff00"
    assert source["items"][1:] == v2_page.result["source"]["items"][1:]
    assert json.loads(page.inner_text("#compiled"))["objects"][0]["color"] == "#00ff00"
    assert page.evaluate(COUNT_NEAR, [0, 255, 0]) > 200  # the canvas shows the edited source
    assert any("/ui/api/compile?source=" in u for u in v2_page.session.requests)
    page.select_option("#p-object", "box")
    page.dispatch_event("#p-object", "change")
    set_value(page, "p-x", "200")
    wait_for(page, "document.querySelectorAll('#history li').length === 4", timeout=20)
    box = source_on_screen(page)["items"][1]
    assert box["xy"][0] == 200 and "at" not in box and "of" not in box
    assert json.loads(page.inner_text("#compiled"))["objects"][1]["x"] == 200
    assert v2_page.session.errors == []


def test_a_refused_v2_edit_is_said_in_words_and_changes_nothing(v2_page: Page) -> None:
    page = v2_page.session.page
    before = source_on_screen(page)
    set_value(page, "p-size", "100000")
    wait_for(page, "!document.getElementById('error').hidden", timeout=20)
    assert "v2 source is not valid" in page.inner_text("#error") and "size" in page.inner_text("#error")
    assert source_on_screen(page) == before
    assert page.evaluate("document.querySelectorAll('#history li').length") == 4


def test_refine_stores_the_unsaved_v2_edit_as_its_base(v2_page: Page) -> None:
    page = v2_page.session.page
    edited = source_on_screen(page)
    page.fill("#instruction", "make the sun bigger")
    page.click("#refine")
    wait_for(page, "document.querySelectorAll('#history li').length === 0 || "
             "document.body.dataset.state === 'working'", timeout=20)
    wait_for(page, f"location.hash !== '#job={v2_page.result['id']}'", timeout=20)
    jobs = v2_page.queue.get_jobs()
    assert len(jobs) == 1 and jobs[0].args[0]["prompt"] == "make the sun bigger"
    base = v2_page.store.get_result(jobs[0].args[0]["base"])
    assert base is not None and base["kind"] == "edit" and base["language"] == "v2"
    assert base["source"] == edited and base["parent"] == v2_page.result["id"]


def test_a_result_stored_before_v2_is_edited_and_refined_as_v1(v2_page: Page) -> None:
    session = open_result(v2_page.context, v2_page.url, v2_page.stored_v1["id"], 1)
    page = session.page
    try:
        assert json.loads(page.inner_text("#scene")) == v2_page.stored_v1["scene"]
        assert page.inner_text("#scene-title") == "Scene (validated JSON)" and not page.is_visible("#compiled")
        assert page.evaluate("[...document.querySelectorAll('#p-object option')].map(o => o.value)") == ["ball", "box"]
        set_colour(page, "#00ff00")
        wait_for(page, "document.querySelectorAll('#history li').length === 2", timeout=20)
        scene = json.loads(page.inner_text("#scene"))
        assert scene["objects"][0]["color"] == "#00ff00" and page.evaluate(COUNT_NEAR, [0, 255, 0]) > 200
        assert any("/ui/api/render.js?scene=" in u for u in session.requests)
        assert not any("/ui/api/compile" in u for u in session.requests)
        v2_page.queue.empty()
        page.fill("#instruction", "make the ball bigger")
        page.click("#refine")
        wait_for(page, f"location.hash !== '#job={v2_page.stored_v1['id']}'", timeout=20)
        jobs = v2_page.queue.get_jobs()
        assert len(jobs) == 1
        base = v2_page.store.get_result(jobs[0].args[0]["base"])
        assert base is not None and base["language"] == "v1" and "source" not in base and base["scene"] == scene
        assert session.errors == []
    finally:
        page.close()
