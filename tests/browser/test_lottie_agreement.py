"""The Lottie export plays like the Pixi.js page: lottie-web and rlottie frames against ``seek(t)``.

For scenes that cover every shape, every animation kind, delay, repeat (finite and forever), yoyo, chained
animations on one property and every easing, and the compiled scene's extensions (pivots, x/y scaling, looped
sequences, objects off the stage), five frames each are rendered by (a) the Pixi.js page paused at
``seek(frame / fps)``, (b) lottie-web's canvas renderer at ``goToAndStop(frame, true)`` and (c) rlottie
(``rlottie-python``). Each object is found by the colour it should show at that time; its centroid must agree
within 2 px, its mean colour within a few levels, and its pixels must mostly overlap (which catches a wrong
rotation or scale that a centroid would miss). An object entirely off the stage must be absent from every frame.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.frames import (
    compare_frames,
    expected_colors,
    lottie_web_frame,
    lottie_web_js,
    open_lottie_web,
    painted_difference,
    pixi_bounds,
    pixi_frame,
    rlottie_frame,
)
from tests.pixels import open_html
from tests.unit.test_compiled_scene import EXTENDED
from tests.unit.test_lottie import SCENES
from text2pixi.core.codegen import render_page
from text2pixi.core.lottie import to_lottie
from text2pixi.core.timeline import rgb
from text2pixi.service.fonts import default_glyphs

pytestmark = pytest.mark.browser

FPS = 30
MAX_POSITION_PX = 2.0
MAX_COLOR = 8.0
MIN_IOU = 0.85
MIN_TEXT_IOU = 0.7
"""Canvas text is hinted (crisper, thinner stems) where outlines are not: same place, less overlap."""



def sample_frames(frames: int) -> list[int]:
    """Five frames spread over the export, none on the same frame."""
    picks = sorted({round(frames * f) for f in (0.0, 0.21, 0.43, 0.67, 0.93)})
    return [min(p, frames - 1) for p in picks]


@pytest.fixture(scope="module")
def context(browser):  # type: ignore[no-untyped-def]
    ctx = browser.new_context(viewport={"width": 600, "height": 500}, device_scale_factor=1)
    yield ctx
    ctx.close()


@pytest.fixture(scope="module")
def glyphs():  # type: ignore[no-untyped-def]
    source = default_glyphs()
    if source is None:
        pytest.fail("no sans-serif TTF for Lottie text (apt-get install fonts-dejavu-core)")
    return source


ALL = {**SCENES, **{f"compiled-{name}": scene for name, scene in EXTENDED.items()}}


def off_stage(box: tuple[float, float, float, float], w: int, h: int) -> bool:
    return box[2] <= 0 or box[3] <= 0 or box[0] >= w or box[1] >= h


@pytest.mark.parametrize("name", list(ALL))
def test_lottie_frames_match_the_pixi_page(name: str, context: Any, glyphs: Any, pixi_js: str,
                                          tmp_path: Path) -> None:
    from rlottie_python import LottieAnimation

    scene = ALL[name]
    document = to_lottie(scene, fps=FPS, glyphs=glyphs)
    frames = document["op"]
    texts = {o.id for o in scene.objects if o.type == "text"}
    pixi_page, errors, _ = open_html(context, tmp_path / "scene.html", render_page(scene, pixi_js))
    web_page = open_lottie_web(context, tmp_path / "lottie.html", document, lottie_web_js())
    rlottie = LottieAnimation.from_data(json.dumps(document))
    worst: dict[str, list[float]] = {"lottie-web": [0.0, 0.0, 1.0, 0.0], "rlottie": [0.0, 0.0, 1.0, 0.0]}
    try:
        assert pixi_page.evaluate("document.body.dataset.state") == "playing", errors
        for frame in sample_frames(frames):
            t = frame / FPS
            reference = pixi_frame(pixi_page, t)
            colours = expected_colors(scene, t)
            background = rgb(scene.bg)
            boxes = pixi_bounds(pixi_page)
            for player, image in (("lottie-web", lottie_web_frame(web_page, frame)),
                                  ("rlottie", rlottie_frame(rlottie, frame))):
                agreement = compare_frames(reference, image, colours, background, boxes)
                stats = worst[player]
                stats[0] = max(stats[0], agreement.max_position_px)
                stats[1] = max(stats[1], agreement.max_color)
                stats[2] = min([stats[2]] + [m.iou for oid, m in agreement.matches.items()
                                             if oid not in texts and not off_stage(boxes[oid], scene.w, scene.h)])
                stats[3] = max(stats[3], painted_difference(reference, image))
                where = f"{name} frame {frame} (t={t:.3f}) in {player}"
                for oid, match in agreement.matches.items():
                    if off_stage(boxes[oid], scene.w, scene.h):
                        assert match.reference.count == match.other.count == 0, f"{oid} is off-stage, {where}"
                        continue
                    assert match.reference.count > 20, f"{oid} not found in the Pixi page, {where}"
                    assert match.distance <= MAX_POSITION_PX, f"{oid} is {match.distance:.2f} px off, {where}"
                    assert match.color <= MAX_COLOR, f"{oid} colour differs by {match.color:.1f}, {where}"
                    least = MIN_TEXT_IOU if oid in texts else MIN_IOU
                    assert match.iou >= least, f"{oid} overlaps only {match.iou:.2f}, {where}"
    finally:
        pixi_page.close()
        web_page.close()
    for player, (pos, col, iou, diff) in worst.items():
        print(f"\n{name} / {player}: max centroid error {pos:.2f} px, max colour difference {col:.1f}, "
              f"min overlap of shapes {iou:.3f}, max share of differing pixels {diff:.4f}")
