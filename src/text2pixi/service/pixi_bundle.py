"""The local copy of pixi.js that standalone pages inline.

It comes from the npm package ``pixi.js`` (installed by ``make setup`` into the cache directory,
or pointed to by ``TEXT2PIXI_PIXI_JS``); nothing is fetched from a CDN.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from text2pixi.core.errors import PixiNotInstalled


@lru_cache(maxsize=4)
def _read(path: Path) -> str:
    addon = path.parent / "packages" / "unsafe-eval.min.js"
    parts = [path.read_text(encoding="utf-8")]
    if addon.is_file():  # lets the page run under a CSP without 'unsafe-eval'
        parts.append(addon.read_text(encoding="utf-8"))
    return ";\n".join(parts)


def load_pixi_js(path: Path) -> str:
    """The IIFE build of pixi.js (with its unsafe-eval add-on when present) as one script."""
    if not path.is_file():
        raise PixiNotInstalled(
            f"pixi.js not found at {path}; run `make setup` (npm install pixi.js@8) or set TEXT2PIXI_PIXI_JS"
        )
    return _read(path)
