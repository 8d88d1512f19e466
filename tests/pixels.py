"""Reading what a Pixi stage shows, from Python: Playwright evaluates small functions in the page.

The pages' CSP forbids the eval behind ``page.wait_for_function``, so waiting polls with ``page.evaluate``.
"""

from __future__ import annotations

import time
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


def wait_for(page: Any, expression: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        page.wait_for_timeout(100)


def stage_stats(page: Any, bg: list[int] | None = None) -> dict[str, Any]:
    """Background colour at the top-left corner, the red blob's size and centre, pixels unlike the background."""
    return page.evaluate(STAGE_STATS, bg)  # type: ignore[no-any-return]
