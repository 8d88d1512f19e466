"""The generated standalone page, played in a real headless Chromium."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.frames import pixels_at, seek
from tests.pixels import open_html, wait_for
from tests.unit.test_codegen import DEMO, HOSTILE_TEXT, hostile_scene
from text2pixi.core.codegen import render_page
from text2pixi.core.scene import Scene

pytestmark = pytest.mark.browser


@pytest.fixture()
def context(browser):  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": 900, "height": 700})
    yield ctx
    ctx.close()


def open_page(context, tmp_path: Path, scene: Scene, pixi_js: str):  # type: ignore[no-untyped-def]
    return open_html(context, tmp_path / "scene.html", render_page(scene, pixi_js))


def pixel(page, x: int, y: int) -> list[int]:  # type: ignore[no-untyped-def]
    """RGB of the rendered stage at (x, y)."""
    return pixels_at(page, [(x, y)])[0]


def test_demo_scene_plays_and_moves(context, tmp_path: Path, pixi_js: str) -> None:  # type: ignore[no-untyped-def]
    page, errors, requests = open_page(context, tmp_path, DEMO, pixi_js)
    assert page.evaluate("document.body.dataset.state") == "playing", page.inner_text("#error")
    labels = page.evaluate("__PIXI_APP__.stage.children.map(c => c.label)")
    assert labels == ["sq1", "ball", "title", "ln", "star"]
    assert page.evaluate("__PIXI_APP__.stage.children[2].text") == 'Hi "there"'
    seek(page, 0)
    assert page.evaluate("[__PIXI_APP__.stage.children[1].x, __PIXI_APP__.stage.children[1].y]") == [100, 100]
    # background navy in a corner, the red ball at its start
    assert pixel(page, 5, 5) == [0, 0, 128]
    r, g, b = pixel(page, 100, 100)
    assert r > 200 and g < 60 and b < 60
    seek(page, 2)  # the move has ended: ball at x=700, and still red
    assert page.evaluate("__PIXI_APP__.stage.children[1].x") == 700
    r, g, b = pixel(page, 700, 100)
    assert r > 200 and g < 60
    assert pixel(page, 100, 100) == [0, 0, 128]  # the old place is background again
    seek(page, 3.5)  # after the colour change: lime
    r, g, b = pixel(page, 700, 100)
    assert g > 200 and r < 60
    # yoyo fade: down to 0.2 at t=1, back to 1 at t=2 (repeat 1)
    seek(page, 1)
    assert abs(page.evaluate("__PIXI_APP__.stage.children[2].alpha") - 0.2) < 1e-6
    seek(page, 2)
    assert abs(page.evaluate("__PIXI_APP__.stage.children[2].alpha") - 1.0) < 1e-6
    # the endless rotation keeps going: 1 s into a 2 s turn is 180 degrees
    seek(page, 5)
    assert abs(page.evaluate("__PIXI_APP__.stage.children[0].angle") - 180) < 1e-6
    assert errors == []
    assert all(u.startswith("file://") for u in requests)


def test_the_ticker_drives_the_animation(context, tmp_path: Path, pixi_js: str) -> None:  # type: ignore[no-untyped-def]
    page, errors, _ = open_page(context, tmp_path, DEMO, pixi_js)
    wait_for(page, "__TEXT2PIXI__.time > 0.5", timeout=10)
    assert page.evaluate("__PIXI_APP__.stage.children[1].x") > 100
    assert errors == []


def test_hostile_prompt_text_runs_no_script(context, tmp_path: Path, pixi_js: str) -> None:  # type: ignore[no-untyped-def]
    page, errors, requests = open_page(context, tmp_path, hostile_scene(), pixi_js)
    assert page.evaluate("document.body.dataset.state") == "playing"
    assert page.evaluate("window.__pwned === undefined")
    assert page.evaluate("__PIXI_APP__.stage.children[0].text") == HOSTILE_TEXT
    assert page.evaluate("document.querySelectorAll('img, script').length") == 2  # only the page's own scripts
    assert errors == []
    assert all(u.startswith("file://") for u in requests)
