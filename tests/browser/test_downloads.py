"""The playground's download buttons in Chromium: a stored result on screen, a click, and a real file saved.

No model and no whole stack: the status and translate functions (the python3-llama template's apps) and the
gateway with the playground run on loopback ports in this process, on a real Redis and S3, and the result is
stored as a worker stores one. The button fetches ``/ui/api/status/<id>/<format>`` through the playground's
proxy (which adds the key), the status function renders with the real renderer, and the browser saves the
file (Playwright's ``expect_download``), which is then decoded.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.integration.test_export_api import KEY, Backends, playground_gateway, service, stored_result  # noqa: F401 - the fixtures
from tests.pixels import wait_for

pytestmark = pytest.mark.browser

SHOWN = "document.body.dataset.ready === 'true' && document.body.dataset.state === 'playing'"


@pytest.fixture(scope="module")
def gateway_url(service: Backends) -> Iterator[str]:  # noqa: F811 - the imported fixture
    """The gateway with the playground (local-only) in front of the functions, all on loopback ports."""
    from tests.backends import serve_wsgi

    with ExitStack() as stack:
        yield stack.enter_context(serve_wsgi(playground_gateway(service, stack)))


@pytest.fixture
def page(browser: Any, gateway_url: str, service: Backends) -> Iterator[tuple[Any, str, list[str]]]:  # noqa: F811
    """The playground showing a stored result (``#job=ID``), with its page errors collected."""
    result_id = stored_result(service)
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{gateway_url}/ui/#job={result_id}")
    wait_for(page, SHOWN, timeout=60)
    yield page, result_id, errors
    context.close()


def test_the_gif_button_saves_the_animation_as_a_gif(page: tuple[Any, str, list[str]], tmp_path: Path) -> None:
    p, result_id, errors = page
    labels = p.eval_on_selector_all("#downloads button", "bs => bs.map(b => [b.dataset.format, b.textContent, "
                                                         "b.disabled])")
    assert labels == [["lottie", "Lottie", False], ["gif", "GIF", False], ["mp4", "MP4", False],
                      ["webm", "WebM", False], ["png", "PNG", False]]
    with p.expect_download(timeout=60_000) as info:
        p.click("#downloads button[data-format=gif]")
    download = info.value
    assert download.suggested_filename == f"text2pixi-{result_id}.gif"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    with Image.open(saved) as gif:
        assert gif.format == "GIF" and gif.size == (160, 120)  # the stage's size, by default
        assert gif.n_frames > 10  # one second at 30 fps; equal neighbouring frames are merged
    wait_for(p, "document.getElementById('downloads-status').textContent.startsWith('Saved ')")
    assert f"text2pixi-{result_id}.gif" in p.inner_text("#downloads-status")
    assert not p.is_disabled("#downloads button[data-format=gif]")
    assert errors == []


def test_the_lottie_and_png_buttons_save_their_files(page: tuple[Any, str, list[str]], tmp_path: Path) -> None:
    p, result_id, _ = page
    with p.expect_download(timeout=60_000) as info:
        p.click("#downloads button[data-format=lottie]")
    assert info.value.suggested_filename == f"text2pixi-{result_id}.json"
    info.value.save_as(tmp_path / "scene.json")
    document = json.loads((tmp_path / "scene.json").read_text())
    assert (document["w"], document["h"]) == (160, 120) and document["layers"]
    with p.expect_download(timeout=60_000) as info:
        p.click("#downloads button[data-format=png]")
    info.value.save_as(tmp_path / "poster.png")
    with Image.open(io.BytesIO((tmp_path / "poster.png").read_bytes())) as png:
        assert png.format == "PNG" and png.size == (160, 120)


def test_an_unsaved_edit_has_no_download_until_it_is_stored(page: tuple[Any, str, list[str]]) -> None:
    """The buttons follow the stored version on screen, as Download HTML does."""
    p, _, _ = page
    p.select_option("#p-object", "ball")
    p.fill("#p-x", "100")
    p.dispatch_event("#p-x", "change")
    wait_for(p, "document.querySelector('#downloads button[data-format=gif]').disabled === true")
    assert p.get_attribute("#download", "aria-disabled") == "true"
