"""Generated pages stay inert for hostile prompts and scenes, in a real headless Chromium.

A corpus of injection payloads (script and event-handler HTML, ``</script>`` breakouts, JS string
and template breakouts, line separators, ``javascript:`` URLs, CSS and meta-refresh tricks, each
one trying to set ``window.__pwned``, open a dialog or reach a local "attacker" server) is placed in
every place scene text can reach the page: the title (the prompt), text objects, and, bypassing the
schema's validation with ``model_copy``, object ids and colours. Each page is opened from disk and
must run no injected script, open no dialog, and send no request anywhere: neither Playwright nor the
listening server may see one. ``TEXT2PIXI_INJECTION_COUNT`` sets how many pages play (default 100;
``make chaos`` plays 250).
"""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.browser.test_page_browser import wait_for
from text2pixi.core.codegen import render_page
from text2pixi.core.scene import Scene

pytestmark = pytest.mark.browser

COUNT = int(os.environ.get("TEXT2PIXI_INJECTION_COUNT", "100"))


def payloads(port: int) -> list[str]:
    leak = f"http://127.0.0.1:{port}/leak"
    run = "window.__pwned=1;alert(1)"
    return [
        f"<script>{run}</script>",
        f"</script><script>{run}</script>",
        f"</title><script>{run}</script>",
        f"</style></title><img src=x onerror=\"{run}\">",
        f"<img src={leak}>",
        f"<svg onload=\"{run}\">",
        f"<iframe src=\"javascript:{run}\"></iframe>",
        f"<a href=\"javascript:{run}\">x</a>",
        f"<meta http-equiv=refresh content=\"0;url={leak}\">",
        f"<link rel=stylesheet href={leak}>",
        f"<body onload=\"{run}\">",
        f"<base href=\"{leak}/\">",
        f"<object data=\"{leak}\"></object>",
        f"<form action={leak}><input autofocus onfocus=\"{run}\"></form>",
        f"\";{run};//",
        f"';{run};//",
        f"`;{run};//",
        f"${{{run}}}",
        f"\\\";{run};//",
        f"\u2028{run}\u2029",
        f"</script ><script>{run}</script >",
        f"</SCRIPT><SCRIPT>{run}</SCRIPT>",
        f"<!--<script>{run}//-->",
        f"<![CDATA[<script>{run}</script>]]>",
        f"\"}});{run};({{\"",
        f"<style>@import '{leak}';</style>",
        f"<div style=\"background:url({leak})\">",
        f"<video><source onerror=\"{run}\"></video>",
        f"<math><mtext><table><mglyph><style><img src=x onerror=\"{run}\">",
        f"<script src={leak}></script>",
        f"<img srcset=\"{leak} 1x\">",
        f"<audio src={leak} autoplay>",
        f"&lt;script&gt;{run}&lt;/script&gt;",
        f"\\u003cscript\\u003e{run}\\u003c/script\\u003e",
        f"%3Cscript%3E{run}%3C/script%3E",
        f"<noscript><p title=\"</noscript><img src=x onerror={run}>\">",
        f"<template><script>{run}</script></template>",
        f"{{{{constructor.constructor('{run}')()}}}}",
        f"\x00<script>{run}</script>",
        f"<img src=\"x\" onerror=\"fetch('{leak}')\">",
    ]


def scenes(port: int) -> Iterator[tuple[str, Scene, str]]:
    """(description, scene, title) for every payload in every place text reaches the page."""
    base = Scene.model_validate({"bg": "black", "objects": [
        {"type": "text", "id": "t", "x": 400, "y": 300, "text": "hello", "color": "white"},
        {"type": "circle", "id": "c", "x": 200, "y": 200, "r": 40, "color": "red"}],
        "anims": [{"type": "move", "target": "c", "x": 600, "y": 200, "dur": 1}]})
    for payload in itertools.cycle(payloads(port)):
        text = payload[:200]
        yield "title", base, payload
        yield "text", base.model_copy(update={"objects": [
            base.objects[0].model_copy(update={"text": text}), base.objects[1]]}), "t"
        yield "id", base.model_copy(update={"objects": [
            base.objects[0].model_copy(update={"id": payload}), base.objects[1]]}), "t"
        yield "colour", base.model_copy(update={"objects": [
            base.objects[0], base.objects[1].model_copy(update={"color": payload})]}), "t"
        yield "bg", base.model_copy(update={"bg": payload}), "t"


@pytest.fixture()
def attacker() -> Iterator[tuple[int, list[str]]]:
    """A local server standing in for an attacker's: it records every request that reaches it."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            hits.append(self.path)
            self.send_response(204)
            self.end_headers()

        do_POST = do_GET  # noqa: N815

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port, hits
    server.shutdown()


def test_injection_corpus_runs_no_script_and_sends_no_request(browser, tmp_path: Path, pixi_js: str,  # type: ignore[no-untyped-def]
                                                              attacker: tuple[int, list[str]]) -> None:
    port, hits = attacker
    context = browser.new_context(viewport={"width": 400, "height": 300})
    findings: list[str] = []
    pages = refused = 0
    states: dict[str, int] = {}
    try:
        for n, (where, scene, title) in enumerate(scenes(port)):
            if pages >= COUNT:
                break
            try:
                html = render_page(scene, pixi_js, title=title)
            except ValueError:  # codegen refuses a colour that is not one (the schema would have, first)
                refused += 1
                continue
            path = tmp_path / f"page{n}.html"
            path.write_text(html, encoding="utf-8")
            page = context.new_page()
            requests: list[str] = []
            dialogs: list[str] = []
            page.on("request", lambda r, requests=requests: requests.append(r.url))
            page.on("dialog", lambda d, dialogs=dialogs: (dialogs.append(d.message), d.dismiss()))
            page.goto(path.as_uri())
            wait_for(page, "document.body.dataset.state !== 'loading'", timeout=30)
            state = page.evaluate("document.body.dataset.state")
            states[state] = states.get(state, 0) + 1
            pwned = page.evaluate("window.__pwned !== undefined")
            scripts = page.evaluate("document.querySelectorAll('script').length")
            outside = [u for u in requests if not u.startswith(("file://", "data:", "blob:"))]
            if pwned or dialogs or outside or scripts != 2:
                findings.append(f"{where} #{n}: pwned={pwned} dialogs={dialogs} requests={outside} scripts={scripts}")
            page.close()
            pages += 1
    finally:
        context.close()
    assert pages == COUNT
    print(f"{pages} hostile pages played, {refused} hostile scenes refused by codegen, states {states}")
    assert findings == [], findings[:5]
    assert hits == [], f"the attacker's server was reached: {hits[:5]}"
    # Hostile text plays as text; hostile ids/colours (which the schema rejects) at worst stop the page.
    assert states.get("playing", 0) >= pages * 2 // 5, states
