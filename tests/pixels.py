"""Reading what a Pixi stage shows, from Python: Playwright evaluates small functions in the page.

The pages' CSP forbids the eval behind ``page.wait_for_function``, so waiting polls with ``page.evaluate``.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

STAGE_STATS = """(bg) => {
  const app = globalThis.__PIXI_APP__;
  const w = app.screen.width, h = app.screen.height;
  const full = document.createElement('canvas');
  full.width = w; full.height = h;
  const ctx = full.getContext('2d');
  ctx.fillStyle = app.renderer.background.color.toHex();
  ctx.fillRect(0, 0, w, h);
  app.render();
  ctx.drawImage(app.canvas, 0, 0, w, h);
  const d = ctx.getImageData(0, 0, w, h).data;
  const back = bg || [d[0], d[1], d[2]];
  let red = 0, sx = 0, sy = 0, painted = 0;
  for (let i = 0; i < d.length; i += 4) {
    const x = (i / 4) % w, y = Math.floor(i / 4 / w);
    if (d[i] > 200 && d[i + 1] < 80 && d[i + 2] < 80) { red++; sx += x; sy += y; }
    if (Math.abs(d[i] - back[0]) + Math.abs(d[i + 1] - back[1]) + Math.abs(d[i + 2] - back[2]) > 40) painted++;
  }
  return { corner: [d[0], d[1], d[2]], red, cx: red ? sx / red : null, cy: red ? sy / red : null, painted,
           total: w * h };
}"""


def open_html(context: Any, path: Path, html: str) -> tuple[Any, list[str], list[str]]:
    """Write ``html`` to ``path``, open it, wait until it leaves 'loading'; returns (page, errors, requests).

    ``errors`` collects uncaught page errors and any dialog (an injected ``alert`` shows up there);
    ``requests`` every URL the page asked for.
    """
    path.write_text(html, encoding="utf-8")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda d: (errors.append("dialog: " + d.message), d.dismiss()))
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(path.as_uri())
    wait_for(page, "document.body.dataset.state !== 'loading'")
    return page, errors, requests


def wait_for(page: Any, expression: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(100)


def stage_stats(page: Any, bg: list[int] | None = None) -> dict[str, Any]:
    """Background colour at the top-left corner, the red blob's size and centre, pixels unlike the background."""
    return page.evaluate(STAGE_STATS, bg)  # type: ignore[no-any-return]
