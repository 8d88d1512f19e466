"""The playground in Chromium against the running local stack: prompt in, progress, a live Pixi.js v8 stage,
the scene and the code, copy/download/replay, errors in words, and no script from a hostile prompt."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.pixels import stage_stats, wait_for
from text2pixi.ops import localstack
from text2pixi.ops.localstack import StackConfig
from text2pixi.web import playground

pytestmark = [pytest.mark.browser, pytest.mark.model, pytest.mark.stack]

PROMPT = "a red circle"
HOSTILE = 'a red ball </script><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
DONE = "['playing', 'failed', 'error'].includes(document.body.dataset.state)"


@pytest.fixture(scope="module")
def stack(small_stack: StackConfig) -> StackConfig:
    return small_stack


@dataclass
class Session:
    """An open playground page and what it did."""

    page: Any
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)


def open_playground(context, stack: StackConfig) -> Session:  # type: ignore[no-untyped-def]
    page = context.new_page()
    session = Session(page)
    page.on("pageerror", lambda exc: session.errors.append(str(exc)))
    page.on("dialog", lambda d: (session.errors.append("dialog: " + d.message), d.dismiss()))
    page.on("request", lambda r: session.requests.append(r.url))
    page.goto(stack.gateway_url + "/")  # redirects to /ui/
    wait_for(page, "document.body.dataset.ready === 'true'")
    return session


def submit(session: Session, prompt: str, timeout: float = 240) -> str:
    """Type, press Animate, record the status lines until the page settles; returns the final state."""
    page = session.page
    page.fill("#prompt", prompt)
    page.click("#submit")
    deadline = time.monotonic() + timeout
    while not page.evaluate(DONE):
        if time.monotonic() > deadline:
            raise AssertionError(f"still {page.inner_text('#status')!r} after {timeout}s")
        text = page.inner_text("#status")
        if not session.statuses or session.statuses[-1] != text:
            session.statuses.append(text)
        page.wait_for_timeout(100)
    session.statuses.append(page.inner_text("#status"))
    return str(page.evaluate("document.body.dataset.state"))


@pytest.fixture(scope="module")
def played(browser, stack: StackConfig) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    """One prompt through the playground, left playing for the tests below to look at."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.gateway_url)
    session = open_playground(context, stack)
    state = submit(session, PROMPT)
    assert state == "playing", (session.page.inner_text("#status"), session.page.inner_text("#error"))
    yield session
    context.close()


def job_id(session: Session) -> str:
    return str(session.page.evaluate("location.hash.slice(5)"))


def test_progress_goes_queued_started_finished_with_elapsed_time(played: Session) -> None:
    assert played.page.url.endswith("/ui/#job=" + job_id(played))
    seen = " | ".join(played.statuses)
    assert any(s.startswith(("Queued", "Generating")) for s in played.statuses), seen
    assert all(" s" in s for s in played.statuses if s.startswith(("Queued", "Generating"))), seen  # a live clock
    assert played.statuses[-1].startswith("Finished in ") and played.statuses[-1].endswith(" s."), seen
    steps = played.page.evaluate("[...document.querySelectorAll('#steps li')].map(li => li.className)")
    assert steps == ["done", "done", "done"]
    assert played.page.is_hidden("#error")


def test_the_stage_plays_the_scene(played: Session, api: requests.Session, stack: StackConfig) -> None:
    page = played.page
    view = api.get(f"{stack.gateway_url}/function/status/{job_id(played)}", timeout=10).json()
    scene = view["result"]["scene"]
    stats = stage_stats(page)
    assert stats["painted"] > 200, stats  # the canvas is not blank: shapes differ from the background
    assert page.evaluate("__PIXI_APP__.stage.children.length") == len(scene["objects"])
    assert page.evaluate("__PIXI_APP__.stage.children.map(c => c.label)") == [o["id"] for o in scene["objects"]]
    texts = [o["text"] for o in scene["objects"] if o["type"] == "text"]
    assert page.evaluate("__PIXI_APP__.stage.children.filter(c => c.text !== undefined).map(c => c.text)") == texts
    assert page.evaluate("document.querySelectorAll('#stage canvas').length") == 1
    wait_for(page, "__TEXT2PIXI__.time > 0.3", timeout=20)  # the ticker runs


def test_scene_json_and_code_are_shown(played: Session, api: requests.Session, stack: StackConfig) -> None:
    view = api.get(f"{stack.gateway_url}/function/status/{job_id(played)}", timeout=10).json()
    result = view["result"]
    assert json.loads(played.page.inner_text("#scene")) == (result.get("source") or result["scene"])  # v2: as written
    if result.get("source"):
        assert json.loads(played.page.inner_text("#compiled")) == result["scene"]
    assert played.page.text_content("#code") == view["result"]["js"]
    assert 'import { Application, Graphics, Text } from "pixi.js";' in view["result"]["js"]
    assert view["result"]["model"] in played.page.inner_text("#meta")


def test_replay_pause_and_copy(played: Session) -> None:
    page = played.page
    page.click("#pause")
    assert page.evaluate("__TEXT2PIXI__.playing") is False and page.inner_text("#pause") == "Play"
    page.evaluate("__TEXT2PIXI__.seek(5)")
    page.click("#replay")
    assert page.evaluate("__TEXT2PIXI__.playing") is True
    assert page.evaluate("__TEXT2PIXI__.time") < 1.0
    page.click("#copy")
    wait_for(page, "document.getElementById('copied').textContent !== ''", timeout=5)
    assert page.evaluate("navigator.clipboard.readText()") == page.text_content("#code")


def test_download_is_the_standalone_page_and_plays_offline(played: Session, tmp_path: Path,
                                                           api: requests.Session, stack: StackConfig) -> None:
    page = played.page
    with page.expect_download() as info:
        page.click("#download")
    download = info.value
    assert download.suggested_filename == f"text2pixi-{job_id(played)}.html"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    stored = api.get(f"{stack.gateway_url}/function/status/{job_id(played)}/html", timeout=10).text
    assert path.read_text(encoding="utf-8") == stored
    offline = page.context.new_page()
    urls: list[str] = []
    offline.on("request", lambda r: urls.append(r.url))
    offline.goto(path.as_uri())
    wait_for(offline, "document.body.dataset.state !== 'loading'")
    assert offline.evaluate("document.body.dataset.state") == "playing"
    assert stage_stats(offline)["painted"] > 200
    assert all(u.startswith("file://") for u in urls)
    offline.close()


def test_everything_comes_from_the_gateway(played: Session, stack: StackConfig) -> None:
    assert played.requests and all(u.startswith(stack.gateway_url + "/") for u in played.requests), played.requests
    assert any(u.endswith("/ui/pixi.js") for u in played.requests)
    assert any(u.endswith("/scene.js") for u in played.requests)
    assert played.errors == []


def test_a_shared_link_shows_the_job_again(browser, played: Session, stack: StackConfig) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{stack.gateway_url}/ui/#job={job_id(played)}")
    wait_for(page, DONE, timeout=30)
    assert page.evaluate("document.body.dataset.state") == "playing"
    assert page.inner_text("#scene") == played.page.inner_text("#scene")
    context.close()


def test_view_by_job_id(played: Session, stack: StackConfig, tmp_path: Path) -> None:
    out = tmp_path / "view.html"
    result = subprocess.run(
        [sys.executable, "-m", "text2pixi.ops.cli", "view", job_id(played), "--gateway", stack.gateway_url,
         "--api-key", localstack.api_key(stack), "--out", str(out)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    compiled = played.page.inner_text("#compiled") or played.page.inner_text("#scene")  # a v2 result shows both
    assert json.loads(compiled)["objects"][0]["id"] in out.read_text()


def test_errors_are_shown_in_words(browser, stack: StackConfig) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    session = open_playground(context, stack)
    page = session.page
    assert submit(session, "   ", timeout=20) == "error"
    assert page.inner_text("#error") == "The prompt is empty; describe the animation, e.g. 'a red ball bounces'"
    assert submit(session, "a red ball " * 120, timeout=20) == "error"
    assert "characters; the limit is 1000" in page.inner_text("#error")
    assert page.evaluate("document.querySelectorAll('#stage canvas').length") == 0
    context.close()


def test_a_hostile_prompt_runs_no_script(browser, stack: StackConfig, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    session = open_playground(context, stack)
    page = session.page
    state = submit(session, HOSTILE)
    assert page.evaluate("window.__pwned === undefined")
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert page.input_value("#prompt") == HOSTILE
    if state == "playing":  # the weak model may not manage a scene; when it does, its page is inert too
        with page.expect_download() as info:
            page.click("#download")
        path = tmp_path / "hostile.html"
        info.value.save_as(path)
        offline = context.new_page()
        offline.on("dialog", lambda d: (session.errors.append("dialog: " + d.message), d.dismiss()))
        offline.goto(path.as_uri())
        wait_for(offline, "document.body.dataset.state !== 'loading'")
        assert offline.title() == HOSTILE.strip()
        assert offline.evaluate("window.__pwned === undefined")
        assert offline.evaluate("document.querySelectorAll('img').length") == 0
        offline.close()
    else:  # the failure is told in words, and the page is as inert as before
        assert state == "failed" and len(page.inner_text("#error")) > 20
        assert page.evaluate("window.__pwned === undefined")
    assert session.errors == []
    context.close()


def test_the_proxy_adds_the_key_only_for_same_origin_loopback_callers(stack: StackConfig) -> None:
    base = stack.gateway_url
    direct = requests.post(base + "/function/translate", json={"prompt": "x"}, timeout=10)
    assert direct.status_code == 401  # the functions still need the key...
    missing = requests.get(f"{base}/ui/api/status/{'0' * 32}", timeout=10)
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")  # ...the proxy adds it
    cross = requests.post(base + "/ui/api/translate", json={"prompt": "x"}, timeout=10,
                          headers={"Origin": "https://attacker.example"})
    assert cross.status_code == 403
    rebound = requests.get(base + "/ui/", headers={"Host": f"attacker.example:{stack.gateway_port}"}, timeout=10)
    assert rebound.status_code == 403
    key = localstack.api_key(stack)
    for path in ["/ui/", *(f"/ui/{name}" for name in playground.PAGE_MODULES), "/ui/api/status/" + "0" * 32]:
        assert key not in requests.get(base + path, timeout=10).text
