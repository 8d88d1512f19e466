from __future__ import annotations

import html
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from text2pixi.core.codegen import js_literal, render_module, render_page
from text2pixi.core.scene import Scene

GOLDEN = Path(__file__).parents[1] / "golden"

DEMO = Scene.model_validate({
    "bg": "navy",
    "objects": [
        {"type": "rect", "id": "sq1", "x": 200, "y": 300, "w": 80, "h": 80, "color": "#4488ff"},
        {"type": "circle", "id": "ball", "x": 100, "y": 100, "r": 30, "color": "red"},
        {"type": "text", "id": "title", "x": 400, "y": 50, "text": "Hi \"there\"", "size": 30, "color": "white"},
        {"type": "line", "id": "ln", "x": 100, "y": 550, "x2": 700, "y2": 550, "color": "yellow", "width": 5},
        {"type": "star", "id": "star", "x": 600, "y": 300, "r": 50, "color": "gold"},
    ],
    "anims": [
        {"type": "rotate", "target": "sq1", "by": 360, "dur": 2, "repeat": -1},
        {"type": "move", "target": "ball", "x": 700, "y": 100, "dur": 2, "ease": "easeInOut"},
        {"type": "color", "target": "ball", "to": "lime", "dur": 1, "delay": 2},
        {"type": "fade", "target": "title", "to": 0.2, "dur": 1, "yoyo": True, "repeat": 1},
        {"type": "scale", "target": "star", "to": 1.5, "dur": 0.5, "delay": 0.5},
    ],
})

HOSTILE_TEXT = '</script><script>window.__pwned=1</script><!-- \u2028 & <img src=x onerror=alert(1)>'


def hostile_scene() -> Scene:
    return Scene.model_validate({
        "bg": "black",
        "objects": [{"type": "text", "id": "t", "x": 400, "y": 300, "text": HOSTILE_TEXT, "color": "white"}],
    })


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; rerun with UPDATE_GOLDEN=1 if intended"


def test_module_matches_golden_and_is_deterministic() -> None:
    first = render_module(DEMO)
    assert first == render_module(Scene.model_validate_json(DEMO.model_dump_json()))
    check_golden("demo.js", first)


def test_module_uses_the_pixi_v8_api() -> None:
    code = render_module(DEMO)
    assert 'import { Application, Graphics, Text } from "pixi.js";' in code
    assert "await app.init({ width: 800, height: 600, background: \"#000080\"" in code
    assert "new Graphics().circle(0, 0, 30).fill(0xffffff)" in code
    assert "new Graphics().rect(-40, -40, 80, 80).fill(0xffffff)" in code
    assert "app.ticker.add(" in code
    assert "globalThis.__PIXI_APP__ = app;" in code


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_module_is_valid_javascript(tmp_path: Path) -> None:
    for name, scene in (("demo.mjs", DEMO), ("hostile.mjs", hostile_scene())):
        path = tmp_path / name
        path.write_text(render_module(scene), encoding="utf-8")
        result = subprocess.run(["node", "--check", str(path)], capture_output=True, text=True)
        assert result.returncode == 0, result.stderr


def test_js_literal_cannot_close_a_script_element() -> None:
    lit = js_literal(HOSTILE_TEXT)
    for bad in ("</script", "<script", "<!--", "<img", "&", "\u2028"):
        assert bad not in lit
    assert "\\u003c/script\\u003e" in lit


def test_hostile_text_stays_inert_in_module_and_page() -> None:
    page = render_page(hostile_scene(), "/* pixi */")
    # exactly the two script elements the page itself opens
    assert page.count("<script>") == 2 and page.count("</script>") == 2
    assert "__pwned" in page and "<script>window.__pwned" not in page
    assert "onerror=alert" not in page.replace("\\u003cimg src=x onerror=alert(1)\\u003e", "")
    assert "Content-Security-Policy" in page and "connect-src 'none'" in html.unescape(page)


def test_page_title_is_html_escaped() -> None:
    page = render_page(DEMO, "/* pixi */", title="<b>x</b>")
    assert "<title>&lt;b&gt;x&lt;/b&gt;</title>" in page


def test_page_refuses_a_library_that_would_close_its_script() -> None:
    with pytest.raises(ValueError):
        render_page(DEMO, "var a='</script>';")
