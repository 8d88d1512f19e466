"""``text2pixi view`` and the playground's mode switch: pages checked in Chromium, the CLI run as a process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.pixels import open_html, stage_stats, wait_for
from tests.unit.test_codegen import HOSTILE_TEXT
from text2pixi.core.scene import Scene
from text2pixi.ops.viewer import Viewable, render_viewer
from text2pixi.web import playground
from text2pixi.web.gateway import Gateway, GatewayConfig, create_app

MOVING = {
    "bg": "navy",
    "objects": [
        {"type": "circle", "id": "ball", "x": 100, "y": 100, "r": 30, "color": "red"},
        {"type": "text", "id": "title", "x": 400, "y": 500, "text": "Hello", "size": 40, "color": "white"},
        {"type": "rect", "id": "box", "x": 600, "y": 400, "w": 60, "h": 60, "color": "#44cc44"},
    ],
    "anims": [{"type": "move", "target": "ball", "x": 700, "y": 100, "dur": 2, "ease": "linear"}],
}


def run_view(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "text2pixi.ops.cli", "view", *args], capture_output=True, text=True,
                          timeout=60)


# --- the CLI ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", ["scene", "result", "status"])
def test_view_writes_a_page_from_any_json_shape(tmp_path: Path, shape: str) -> None:
    document: dict[str, object] = MOVING
    if shape in ("result", "status"):
        document = {"id": "0" * 32, "prompt": "a red ball rolls right", "scene": MOVING}
    if shape == "status":
        document = {"id": "0" * 32, "status": "finished", "result": document}
    source = tmp_path / "in.json"
    source.write_text(json.dumps(document))
    out = tmp_path / "page.html"
    result = run_view(str(source), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(out)
    page = out.read_text()
    assert "__PIXI_APP__" in page and "__TEXT2PIXI__" in page and "<script src" not in page
    title = "a red ball rolls right" if shape != "scene" else "text2pixi scene"
    assert f"<title>{title}</title>" in page


def test_view_errors_are_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"objects": []}')
    broken = tmp_path / "broken.json"
    broken.write_text("{nope")
    for source, words in [(str(bad), "not a valid scene: objects"), (str(broken), "cannot read"),
                          ("no-such-thing", "neither a JSON file nor a job id")]:
        result = run_view(source, "--no-open")
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("error: ") and words in result.stderr
        assert "Traceback" not in result.stderr


# --- the page in Chromium --------------------------------------------------------------------------------------


@pytest.fixture()
def context(browser):  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": 900, "height": 800})
    yield ctx
    ctx.close()


def open_viewer(context, tmp_path: Path, item: Viewable, pixi_js: str):  # type: ignore[no-untyped-def]
    page, errors, requests = open_html(context, tmp_path / "view.html", render_viewer(item, pixi_js))
    assert page.evaluate("document.body.dataset.state") == "playing", page.inner_text("#error")
    return page, errors, requests


@pytest.mark.browser
def test_viewer_pixels_move_in_real_time(context, tmp_path: Path, pixi_js: str) -> None:  # type: ignore[no-untyped-def]
    page, errors, requests = open_viewer(context, tmp_path, Viewable(Scene.model_validate(MOVING), "ball"), pixi_js)
    page.evaluate("__TEXT2PIXI__.pause()")
    t0 = page.evaluate("__TEXT2PIXI__.time")
    early = stage_stats(page)
    assert early["corner"] == [0, 0, 128]  # navy background in the corner
    assert t0 < 1.0
    assert early["red"] > 2000  # a 30 px disc is ~2800 px
    assert abs(early["cx"] - (100 + 300 * t0)) < 6 and abs(early["cy"] - 100) < 4
    page.evaluate("__TEXT2PIXI__.play()")
    wait_for(page, "__TEXT2PIXI__.time > 1.2", timeout=20)  # the ticker, not seek(), moves it
    page.evaluate("__TEXT2PIXI__.pause()")
    t1 = page.evaluate("__TEXT2PIXI__.time")
    late = stage_stats(page)
    assert abs(late["cx"] - min(700, 100 + 300 * t1)) < 6 and late["cx"] > early["cx"] + 200
    assert abs(late["cy"] - 100) < 4
    # the stage, through the devtools hook
    assert page.evaluate("__PIXI_APP__.stage.children.length") == 3
    assert page.evaluate("__PIXI_APP__.stage.children.map(c => c.label)") == ["ball", "title", "box"]
    assert page.evaluate("__PIXI_APP__.stage.children[1].text") == "Hello"
    assert json.loads(page.text_content("#scene") or "") == Scene.model_validate(MOVING).model_dump(mode="json",
                                                                                            exclude_defaults=True)
    # the controls
    page.click("#controls button:text('Replay')")
    assert page.evaluate("__TEXT2PIXI__.time") < 0.5 and page.evaluate("__TEXT2PIXI__.playing")
    page.click("#controls button:text('Pause')")
    assert page.evaluate("__TEXT2PIXI__.playing") is False
    assert page.inner_text("#controls").startswith("Replay")
    assert errors == []
    assert all(u.startswith("file://") for u in requests)  # pixi.js inlined: no CDN, no network
    page.close()


@pytest.mark.browser
def test_viewer_from_a_hostile_prompt_runs_no_script(context, tmp_path: Path, pixi_js: str) -> None:  # type: ignore[no-untyped-def]
    scene = Scene.model_validate({"bg": "black", "objects": [
        {"type": "text", "id": "t", "x": 400, "y": 300, "text": HOSTILE_TEXT, "color": "white"}]})
    page, errors, requests = open_viewer(context, tmp_path, Viewable(scene, HOSTILE_TEXT), pixi_js)
    assert page.evaluate("window.__pwned === undefined")
    assert page.title() == HOSTILE_TEXT
    assert page.evaluate("__PIXI_APP__.stage.children[0].text") == HOSTILE_TEXT
    assert page.evaluate("document.querySelectorAll('img, script').length") == 2
    assert json.loads(page.text_content("#scene") or "")["objects"][0]["text"] == HOSTILE_TEXT
    assert errors == [] and all(u.startswith("file://") for u in requests)
    page.close()


# --- when the gateway installs the playground ----------------------------------------------------------------------


@pytest.mark.parametrize(("host", "mode", "expected"), [
    ("127.0.0.1", None, True), ("::1", "auto", True), ("localhost", "", True), ("0.0.0.0", None, False),
    ("10.1.2.3", "auto", False), ("0.0.0.0", "on", True), ("127.0.0.1", "off", False),
])
def test_playground_only_on_loopback_unless_asked(host: str, mode: str | None, expected: bool) -> None:
    assert playground.mode_enabled(host, mode) is expected


def test_a_public_gateway_has_no_playground_and_a_bad_mode_is_refused() -> None:
    gateway = Gateway(GatewayConfig(functions={"translate": "http://127.0.0.1:9", "status": "http://127.0.0.1:9"}))
    try:
        app = create_app(gateway)
        assert playground.install(app, gateway, bind_host="0.0.0.0", mode="auto") is False
        client = app.test_client()
        assert client.get("/ui/").status_code == 404
        assert client.post("/ui/api/translate", json={"prompt": "x"}).status_code == 404
        with pytest.raises(playground.PlaygroundModeInvalid):
            playground.install(create_app(gateway), gateway, bind_host="127.0.0.1",
                               mode="yes please")
    finally:
        gateway.close()


def test_loopback_playground_refuses_foreign_hosts_and_cross_site_calls() -> None:
    gateway = Gateway(GatewayConfig(functions={"translate": "http://127.0.0.1:9", "status": "http://127.0.0.1:9"}))
    try:
        app = create_app(gateway)
        assert playground.install(app, gateway, bind_host="127.0.0.1", mode="auto") is True
        client = app.test_client()
        page = client.get("/ui/", headers={"Host": "127.0.0.1:8080"})
        assert page.status_code == 200
        assert "script-src 'self'" in page.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
        assert "https://" not in page.get_data(as_text=True)
        assert client.get("/", headers={"Host": "localhost:8080"}).headers["Location"] == "/ui/"
        rebound = client.get("/ui/", headers={"Host": "attacker.example:8080"})  # DNS rebinding
        assert (rebound.status_code, rebound.json["error"]) == (403, "host_not_allowed")  # type: ignore[index]
        cross = client.post("/ui/api/translate", json={"prompt": "x"},
                            headers={"Host": "127.0.0.1:8080", "Origin": "https://attacker.example"})
        assert (cross.status_code, cross.json["error"]) == (403, "origin_not_allowed")  # type: ignore[index]
        fetched = client.get("/ui/api/status/" + "0" * 32,
                             headers={"Host": "127.0.0.1:8080", "Sec-Fetch-Site": "cross-site"})
        assert fetched.status_code == 403
        form = client.post("/ui/api/translate", data={"prompt": "x"}, headers={"Host": "127.0.0.1:8080"})
        assert (form.status_code, form.json["error"]) == (415, "unsupported_media_type")  # type: ignore[index]
        bad_id = client.get("/ui/api/status/..%2Ftranslate", headers={"Host": "127.0.0.1:8080"})
        assert bad_id.status_code == 404
        # same-origin, but the function is down: a JSON 503 in words, not a stack trace
        down = client.post("/ui/api/translate", json={"prompt": "x"},
                           headers={"Host": "127.0.0.1:8080", "Origin": "http://127.0.0.1:8080"})
        assert down.status_code == 503 and down.json["error"] == "service_unavailable"  # type: ignore[index]
    finally:
        gateway.close()
