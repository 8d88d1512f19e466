"""Direct editing in the playground, in Chromium against the shared small stack: the property panel re-renders
the stage at once without the model (the canvas pixels change), Undo restores the previous scene, Refine
continues from an edited scene (stored first as a version), and variants play side by side.

The page's CSP forbids eval, so waiting polls with ``page.evaluate`` (``tests/pixels.py``)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.browser.test_playground import DONE, Session, job_id, open_playground, submit
from tests.pixels import wait_for
from text2pixi.core.scene import Scene
from text2pixi.ops.localstack import StackConfig

pytestmark = [pytest.mark.browser, pytest.mark.model, pytest.mark.stack]

COUNT_NEAR = """([r, g, b]) => {
  const ctl = globalThis.__TEXT2PIXI__;
  ctl.pause();
  ctl.seek(0);
  const app = globalThis.__PIXI_APP__;
  app.render();
  const w = app.screen.width, h = app.screen.height;
  const c = document.createElement('canvas');
  c.width = w; c.height = h;
  const ctx = c.getContext('2d');
  ctx.drawImage(app.canvas, 0, 0, w, h);
  const d = ctx.getImageData(0, 0, w, h).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (Math.abs(d[i] - r) + Math.abs(d[i + 1] - g) + Math.abs(d[i + 2] - b) < 60) n++;
  }
  return n;
}"""


@pytest.fixture(scope="module")
def stack(small_stack: StackConfig) -> StackConfig:
    return small_stack


KNOWN = {"objects": [{"type": "circle", "id": "ball", "x": 400, "y": 300, "r": 80, "color": "red"},
                     {"type": "rect", "id": "box", "x": 650, "y": 150, "w": 60, "h": 60, "color": "white"}],
         "bg": "black", "anims": [{"type": "rotate", "target": "box", "by": 360, "dur": 2, "repeat": -1}]}
"""The scene the panel edits: stored as a hand edit of a generated job, so the weak model's choices (a tiny
object, a pale colour) cannot make the pixel checks vacuous."""


@pytest.fixture(scope="module")
def edited(browser, stack: StackConfig, api: requests.Session) -> Iterator[Session]:  # type: ignore[no-untyped-def]
    accepted = api.post(f"{stack.gateway_url}/function/translate", json={"prompt": "a red circle"},
                        params={"wait": 60}, timeout=90).json()
    deadline = time.monotonic() + 240
    while accepted["status"] not in ("finished", "failed") and time.monotonic() < deadline:
        time.sleep(0.5)
        accepted = api.get(f"{stack.gateway_url}/function/status/{accepted['id']}", timeout=10).json()
    assert accepted["status"] == "finished", accepted
    known = api.post(f"{stack.gateway_url}/function/translate/edit", timeout=30,
                     json={"base": accepted["id"], "scene": KNOWN, "note": "a known scene"})
    assert known.status_code == 201, known.text
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    session = Session(page)  # as open_playground records, but opened on the stored version's link
    page.on("pageerror", lambda exc: session.errors.append(str(exc)))
    page.on("request", lambda r: session.requests.append(r.url))
    page.goto(f"{stack.gateway_url}/ui/#job={known.json()['id']}")
    wait_for(session.page, "document.body.dataset.ready === 'true' && document.body.dataset.state === 'playing'"
             " && document.querySelectorAll('#history li').length === 2", timeout=60)
    yield session
    context.close()


def scene_on_screen(page: Any) -> dict[str, Any]:
    return json.loads(page.inner_text("#scene"))  # type: ignore[no-any-return]


def contrast_colour(scene: dict[str, Any]) -> tuple[str, list[int]]:
    """A colour the known scene does not show yet."""
    return "#00ff00", [0, 255, 0]


def set_colour(page: Any, value: str) -> None:
    page.evaluate("""(v) => { const el = document.getElementById('p-color'); el.value = v;
                    el.dispatchEvent(new Event('change', { bubbles: true })); }""", value)


def test_property_panel_recolours_the_canvas_without_the_model(edited: Session) -> None:
    page = edited.page
    before = scene_on_screen(page)
    first = before["objects"][0]
    assert page.input_value("#p-object") == first["id"]
    hex_value, rgb = contrast_colour(before)
    assert page.evaluate(COUNT_NEAR, rgb) < 50  # not on the stage yet
    translate_calls = sum("/ui/api/translate" in u for u in edited.requests)
    set_colour(page, hex_value)
    wait_for(page, "document.querySelectorAll('#history li').length === 3", timeout=20)
    after = scene_on_screen(page)
    assert after["objects"][0]["color"] == hex_value
    assert {k: v for k, v in after["objects"][0].items() if k != "color"} == \
        {k: v for k, v in first.items() if k != "color"}
    assert page.evaluate(COUNT_NEAR, rgb) > 200  # the canvas shows the new colour
    assert sum("/ui/api/translate" in u for u in edited.requests) == translate_calls  # no model call
    assert any("/ui/api/render.js?scene=" in u for u in edited.requests)
    assert page.inner_text("#history li.current").startswith("(unsaved)")
    assert edited.errors == []


def test_an_invalid_edit_is_refused_in_words_and_the_stage_stays(edited: Session) -> None:
    page = edited.page
    scene = scene_on_screen(page)
    page.fill("#p-x", "99999")
    page.dispatch_event("#p-x", "change")
    wait_for(page, "!document.getElementById('error').hidden", timeout=20)
    assert "not valid" in page.inner_text("#error") or "outside" in page.inner_text("#error")
    assert scene_on_screen(page) == scene
    assert page.input_value("#p-x") == str(scene["objects"][0]["x"])


def test_undo_restores_the_previous_scene(edited: Session, api: requests.Session, stack: StackConfig) -> None:
    page = edited.page
    original = api.get(f"{stack.gateway_url}/function/status/{job_id(edited)}", timeout=10).json()["result"]["scene"]
    assert Scene.model_validate(original) == Scene.model_validate(KNOWN)  # stored without defaults
    _, rgb = contrast_colour(original)
    assert page.evaluate(COUNT_NEAR, rgb) > 200
    page.click("#undo")
    wait_for(page, "document.querySelectorAll('#history li').length === 2", timeout=20)
    assert scene_on_screen(page) == original
    wait_for(page, "globalThis.__TEXT2PIXI__ !== undefined", timeout=20)
    assert page.evaluate(COUNT_NEAR, rgb) < 50
    assert page.is_enabled("#undo")  # the generated job before the known scene


def test_refine_continues_from_the_edited_scene(edited: Session, api: requests.Session,
                                               stack: StackConfig) -> None:
    page = edited.page
    root = job_id(edited)
    hex_value, _ = contrast_colour(scene_on_screen(page))
    set_colour(page, hex_value)
    wait_for(page, "document.querySelectorAll('#history li').length === 3", timeout=20)
    page.fill("#instruction", "make it move to the right")
    page.click("#refine")
    wait_for(page, f"location.hash !== '#job={root}' && {DONE}", timeout=240)
    refined = job_id(edited)
    history = api.get(f"{stack.gateway_url}/function/status/{refined}/history", timeout=10).json()["versions"]
    assert [v["kind"] for v in history] == ["generate", "edit", "edit", "refine"]
    assert history[1]["id"] == root
    assert history[2]["scene"]["objects"][0]["color"] == hex_value  # the base was the edited scene
    if page.evaluate("document.body.dataset.state") == "playing":
        assert page.evaluate("document.querySelectorAll('#history li').length") == 4


def test_variants_play_side_by_side(browser, stack: StackConfig) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    session = open_playground(context, stack)
    page = session.page
    page.select_option("#variants", "2")
    assert submit(session, "a red circle") == "playing", page.inner_text("#error")
    wait_for(page, "document.querySelectorAll('#variants-grid canvas').length === 2", timeout=60)
    assert page.is_visible("#variants-view")
    assert page.evaluate("document.querySelectorAll('#stage canvas').length") == 1
    ids = page.evaluate("[...document.querySelectorAll('#variants-grid figure')].map(f => f.dataset.id)")
    page.click("#variants-grid figure:nth-child(2) button")
    wait_for(page, f"location.hash === '#job={ids[0]}' && document.querySelector('#history li.current') !== null")
    wait_for(page, "document.querySelector('#variants-grid figure:nth-child(2)').className === 'chosen'")
    assert session.errors == []
    context.close()
