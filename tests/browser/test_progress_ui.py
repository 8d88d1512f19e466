"""The playground's progress view in Chromium on the small-model stack: the job's event stream moves a progress bar
(tokens, time), objects are drawn while the model still writes, the finished scene replaces them; and without
EventSource the page still finishes by polling. Also the /ui/api events proxy itself (404 as JSON, resume)."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.browser.test_playground import Session, job_id, open_playground
from tests.pixels import stage_stats
from text2pixi.ops.localstack import StackConfig

pytestmark = [pytest.mark.browser, pytest.mark.model, pytest.mark.stack]

PROMPT = "a red circle"
TOKENS = re.compile(r"(\d+) / (\d+|\?) tokens")
LOG = "(globalThis.__TEXT2PIXI_PROGRESS__ || {log: []}).log"


@pytest.fixture(scope="module")
def stack(small_stack: StackConfig) -> StackConfig:
    return small_stack


def watch(session: Session, prompt: str, timeout: float = 240) -> list[dict[str, Any]]:
    """Submit, then sample the progress view every 100 ms until the page settles; returns the samples."""
    page = session.page
    page.fill("#prompt", prompt)
    page.click("#submit")
    samples: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        sample = page.evaluate("""() => ({
            done: ['playing', 'failed', 'error'].includes(document.body.dataset.state),
            shown: !document.getElementById('progress').hidden,
            text: document.getElementById('progress-text').textContent,
            bar: document.getElementById('progress-bar').value,
            status: document.getElementById('status').textContent})""")
        samples.append(sample)
        if sample["done"]:
            return samples
        if time.monotonic() > deadline:
            raise AssertionError(f"still {sample['status']!r} after {timeout}s")
        page.wait_for_timeout(100)


@pytest.fixture(scope="module")
def streamed(browser, stack: StackConfig) -> Iterator[tuple[Session, list[dict[str, Any]]]]:  # type: ignore[no-untyped-def]
    """One prompt through the playground with the event stream, left playing for the tests below."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    session = open_playground(context, stack)
    samples = watch(session, PROMPT)
    state = session.page.evaluate("document.body.dataset.state")
    assert state == "playing", (session.page.inner_text("#status"), session.page.inner_text("#error"))
    yield session, samples
    context.close()


def test_the_progress_bar_moves_before_the_end(streamed: tuple[Session, list[dict[str, Any]]]) -> None:
    session, samples = streamed
    running = [s for s in samples if not s["done"] and s["shown"]]
    counts = [int(m.group(1)) for s in running if (m := TOKENS.search(s["text"]))]
    assert counts and max(counts) > 0, [s["text"] for s in samples]
    assert counts == sorted(counts), counts  # tokens only go up within one attempt (the stack re-asks none)
    assert any(s["bar"] > 0 for s in running), samples
    assert any("attempt 1" in s["text"] for s in running), [s["text"] for s in running]
    assert any(re.search(r"\d+\.\d s$", s["text"]) for s in running), [s["text"] for s in running]  # time
    assert any(u.endswith(f"/ui/api/status/{job_id(session)}/events") for u in session.requests), session.requests
    assert session.errors == []


def test_objects_are_drawn_before_the_job_finishes(streamed: tuple[Session, list[dict[str, Any]]]) -> None:
    session, _ = streamed
    log = session.page.evaluate(LOG)
    kinds = [e.get("type") or e["kind"] for e in log]
    assert kinds[-1] in {"finished", "draw"} and "finished" in kinds, kinds
    finished_at = next(e["at"] for e in log if e.get("type") == "finished")
    draws = [e for e in log if e["kind"] == "draw"]
    assert draws and draws[0]["at"] < finished_at and draws[0]["objects"] >= 1, log
    objects = [e for e in log if e.get("type") == "object"]
    assert objects and objects[0]["at"] < finished_at
    assert kinds.index("started") < kinds.index("tokens") < kinds.index("object") < kinds.index("finished"), kinds


def test_the_finished_scene_replaces_the_partial_one(streamed: tuple[Session, list[dict[str, Any]]],
                                                     api: requests.Session, stack: StackConfig) -> None:
    session, _ = streamed
    page = session.page
    view = api.get(f"{stack.gateway_url}/function/status/{job_id(session)}", timeout=10).json()
    result = view["result"]
    scene = result["scene"]
    assert page.evaluate("__PIXI_APP__.stage.children.map(c => c.label)") == [o["id"] for o in scene["objects"]]
    if result.get("source"):  # a v2 result: the scene as the model wrote it, and what plays
        assert json.loads(page.inner_text("#scene")) == result["source"]
        assert json.loads(page.inner_text("#compiled")) == scene
    else:
        assert json.loads(page.inner_text("#scene")) == scene
    assert page.inner_text("#status").startswith("Finished in ")
    assert page.evaluate("document.querySelectorAll('#stage canvas').length") == 1
    assert stage_stats(page)["painted"] > 200
    # the stage's script is the finished job's (scene.js), loaded after the last partial draw (render.js)
    scripts = [u for u in session.requests if u.endswith("/scene.js") or "/render.js?" in u]
    assert scripts[-1].endswith(f"/ui/api/status/{job_id(session)}/scene.js"), scripts[-3:]
    assert any("/render.js?" in u for u in scripts), "no partial scene was drawn"


def test_without_eventsource_the_page_finishes_by_polling(browser, stack: StackConfig) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_init_script("delete window.EventSource")
    session = open_playground(context, stack)
    samples = watch(session, "a red circle")
    page = session.page
    assert page.evaluate("document.body.dataset.state") == "playing", page.inner_text("#error")
    assert page.inner_text("#status").startswith("Finished in ")
    assert not any(s["shown"] for s in samples)  # no stream, no progress view: the steps and clock only
    assert not any(u.endswith("/events") for u in session.requests), session.requests
    assert sum(u.endswith(f"/ui/api/status/{job_id(session)}") for u in session.requests) >= 2  # polled
    assert page.evaluate(LOG) == []
    assert page.evaluate("__PIXI_APP__.stage.children.length") >= 1
    assert session.errors == []
    context.close()


def read_events(url: str, headers: dict[str, str] | None = None) -> list[dict[str, str]]:
    """One SSE stream read to its end: [{id, event, data}]."""
    with requests.get(url, headers=headers or {}, stream=True, timeout=60) as response:
        assert response.status_code == 200, response.text
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert response.headers["X-Accel-Buffering"] == "no"
        text = response.content.decode()
    events = []
    for block in text.split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.splitlines():
            name, sep, value = line.partition(":")
            if sep and name in {"id", "event", "data"}:
                fields[name] = value.removeprefix(" ")
        if fields:
            events.append(fields)
    return events


def test_the_events_proxy_relays_resume_and_errors(streamed: tuple[Session, list[dict[str, Any]]],
                                                   stack: StackConfig) -> None:
    session, _ = streamed
    url = f"{stack.gateway_url}/ui/api/status/{job_id(session)}/events"
    events = read_events(url)
    assert events and events[-1]["event"] == "finished", events
    if len(events) > 1:  # the ended job's stream is still stored: Last-Event-ID resumes after the given event
        rest = read_events(url, {"Last-Event-ID": events[0]["id"]})
        assert [e["id"] for e in rest] == [e["id"] for e in events[1:]]
        assert read_events(f"{url}?last_event_id={events[0]['id']}") == rest
    missing = requests.get(f"{stack.gateway_url}/ui/api/status/{'0' * 32}/events", timeout=10)
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    bad = requests.get(f"{stack.gateway_url}/ui/api/status/nothex/events", timeout=10)
    assert bad.status_code == 404
