"""Storage pieces that need no server: the page compressor."""

from __future__ import annotations

import gzip

from text2pixi.core.codegen import render_page
from text2pixi.core.scene import Scene
from text2pixi.service.store import PageCompressor

SCENE = Scene.model_validate({"objects": [{"type": "circle", "id": "c", "x": 10, "y": 10, "r": 5, "color": "red"}]})


def test_multi_member_gzip_round_trips_and_is_small(pixi_js: str) -> None:
    compressor = PageCompressor(pixi_js)
    for title in ("a", "ünïcode ✓ </script>"):
        page = render_page(SCENE, pixi_js, title=title)
        packed = compressor.compress(page)
        assert gzip.decompress(packed).decode("utf-8") == page
        assert len(packed) < len(page.encode()) / 2


def test_pages_without_the_library_still_compress() -> None:
    page = render_page(SCENE, "/* no pixi here */")
    assert gzip.decompress(PageCompressor("something else").compress(page)).decode() == page
