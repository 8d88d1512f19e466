"""Frames of one scene from three players, and how to compare them: the Pixi.js page, lottie-web, rlottie.

Every reader returns an RGB ``numpy`` array of the stage (height x width x 3, uint8). :func:`compare_frames`
finds each object by the colour it should show at that time (its tint over the background at its alpha, from
``core.timeline``, the runtime's own arithmetic; :func:`expected_colors`), weighting anti-aliased edges by
:func:`coverage` and searching near the object's Pixi bounds, and reports per-object centroid distance, colour
difference and overlap. Scenes compared this way give every object its own colour and keep objects apart.

:func:`seek` and :func:`pixi_frame` (with :func:`pixels_at`, :func:`count_colour`) are the one way the browser
tests pause a Pixi page at a time and read what it draws.
"""

from __future__ import annotations

import base64
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from tests.pixels import open_html
from text2pixi.core import scene as s
from text2pixi.core.timeline import initial_value, rgb, tracks

NPM_DIR = Path.home() / ".cache" / "text2pixi" / "npm" / "node_modules"

_SEEK = """(t) => {
  globalThis.__TEXT2PIXI__.pause();
  globalThis.__TEXT2PIXI__.seek(t);
}"""

_PIXI_FRAME = """() => {
  const app = globalThis.__PIXI_APP__;
  const full = document.createElement('canvas');
  full.width = app.screen.width; full.height = app.screen.height;
  const ctx = full.getContext('2d');
  ctx.fillStyle = app.renderer.background.color.toHex();
  ctx.fillRect(0, 0, full.width, full.height);
  app.render();
  ctx.drawImage(app.canvas, 0, 0, full.width, full.height);
  return full.toDataURL('image/png');
}"""

_LOTTIE_FRAME = """(frame) => {
  globalThis.__ANIM__.goToAndStop(frame, true);
  return document.querySelector('#box canvas').toDataURL('image/png');
}"""


_PIXI_BOUNDS = """() => Object.fromEntries(globalThis.__PIXI_APP__.stage.children.map((c) => {
  const b = c.getBounds();
  return [c.label, [b.minX, b.minY, b.maxX, b.maxY]];
}))"""

Box = tuple[float, float, float, float]


def pixi_bounds(page: Any) -> dict[str, Box]:
    """Each object's bounding box on the stage (by its label, the object id) at the page's current time."""
    return {k: (v[0], v[1], v[2], v[3]) for k, v in page.evaluate(_PIXI_BOUNDS).items()}


def _decode(data_url: str) -> np.ndarray:
    raw = base64.b64decode(data_url.split(",", 1)[1])
    return np.asarray(Image.open(io.BytesIO(raw)).convert("RGB"))


def lottie_web_js() -> str:
    path = NPM_DIR / "lottie-web" / "build" / "player" / "lottie_canvas.min.js"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: make setup-test installs lottie-web (npm)")
    return path.read_text(encoding="utf-8")


def seek(page: Any, t: float) -> None:
    """Pause the page's player (``globalThis.__TEXT2PIXI__``) and show time ``t`` of the scene."""
    page.evaluate(_SEEK, t)


def pixi_frame(page: Any, t: float | None = None) -> np.ndarray:
    """The Pixi.js stage as drawn over its background (a page opened with ``tests.pixels.open_html``): paused at
    ``seek(t)``, or as it is now when ``t`` is None. Index it ``[y, x]``."""
    if t is not None:
        seek(page, t)
    return _decode(page.evaluate(_PIXI_FRAME))


def pixels_at(page: Any, points: Sequence[Sequence[int]], t: float | None = None) -> list[list[int]]:
    """The RGB of the stage at each ``(x, y)`` of ``points`` (see :func:`pixi_frame`)."""
    frame = pixi_frame(page, t)
    return [[int(v) for v in frame[y, x]] for x, y in points]


def count_colour(frame: np.ndarray, colour: list[int] | tuple[int, int, int], tolerance: int = 30) -> int:
    """Pixels of ``frame`` within ``tolerance`` of ``colour`` (the sum of the channels' differences)."""
    return int((np.abs(frame.astype(np.int16) - np.array(colour)).sum(axis=2) < tolerance).sum())


def open_lottie_web(context: Any, path: Path, document: dict[str, Any], lottie_js: str) -> Any:
    """A page playing ``document`` in lottie-web's canvas renderer, stopped, at the document's own size."""
    w, h = document["w"], document["h"]
    boot = (
        "globalThis.__ANIM__ = lottie.loadAnimation({container: document.getElementById('box'), "
        "renderer: 'canvas', loop: false, autoplay: false, "
        f"animationData: {json.dumps(document)}}});"
        "globalThis.__ANIM__.addEventListener('DOMLoaded', () => { document.body.dataset.state = 'ready'; });"
    )
    html = (
        "<!doctype html><html><head><meta charset='utf-8'><style>body{margin:0}</style></head>"
        f"<body data-state='loading'><div id='box' style='width:{w}px;height:{h}px'></div>"
        f"<script>{lottie_js}</script><script>{boot}</script></body></html>"
    )
    page, errors, _ = open_html(context, path, html)
    if errors:
        raise AssertionError(f"lottie-web page errors: {errors}")
    return page


def lottie_web_frame(page: Any, frame: int) -> np.ndarray:
    return _decode(page.evaluate(_LOTTIE_FRAME, frame))


def rlottie_frame(animation: Any, frame: int) -> np.ndarray:
    """Frame ``frame`` of an ``rlottie_python.LottieAnimation``, composited (its background layer is opaque)."""
    image = animation.render_pillow_frame(frame_num=frame)
    return np.asarray(image.convert("RGB"))


@dataclass(frozen=True)
class Blob:
    """The pixels of one colour in a frame: how many, where their centroid is, their mean colour."""

    count: int
    cx: float
    cy: float
    mean: tuple[float, float, float]


def expected_colors(scene: s.Scene, t: float) -> dict[str, tuple[float, float, float] | None]:
    """Each object's colour on screen at ``t`` (tint over the background by alpha); None when invisible."""
    state = tracks(scene)
    bg = np.array(rgb(scene.bg))
    colours: dict[str, tuple[float, float, float] | None] = {}
    for obj in scene.objects:
        def value(prop: str, obj: Any = obj) -> tuple[float, ...]:
            track = state.get((obj.id, prop))
            return track.value(t) if track else initial_value(obj, prop)

        alpha, scale = value("alpha")[0], min(value("sx")[0], value("sy")[0])
        tint = np.array([max(0, min(255, round(v))) for v in value("tint")])
        colour = alpha * tint + (1 - alpha) * bg
        colours[obj.id] = None if alpha < 0.15 or scale < 0.05 else (colour[0], colour[1], colour[2])
    return colours


def coverage(frame: np.ndarray, colour: tuple[float, float, float], background: tuple[float, ...],
             tolerance: float = 24) -> np.ndarray:
    """How much of each pixel ``colour`` covers (0 to 1), for pixels between the background and that colour.

    An anti-aliased edge pixel of the object is a mix of the two, so weighting by coverage finds the same
    centroid whether a renderer's edges are crisp (hinted text) or soft; pixels off that line (other objects)
    weigh nothing.
    """
    v = frame.astype(np.float64) - np.array(background)
    d = np.array(colour) - np.array(background)
    norm = float(d @ d)
    if norm < 1:
        return np.zeros(frame.shape[:2])
    a = np.clip(v @ d / norm, 0.0, 1.0)
    residual = np.abs(v - a[..., None] * d).max(axis=2)
    weight = np.where((residual <= tolerance) & (a >= 0.1), a, 0.0)
    # Faint pixels count only next to the object's body: other objects' edges are faint mixes too.
    return np.where(_dilate(weight >= 0.5, 2), weight, 0.0)


def _dilate(where: np.ndarray, radius: int) -> np.ndarray:
    grown = where.copy()
    padded = np.pad(where, radius)
    h, w = where.shape
    for dy in range(2 * radius + 1):
        for dx in range(2 * radius + 1):
            grown |= padded[dy:dy + h, dx:dx + w]
    return grown


def blob(frame: np.ndarray, weight: np.ndarray) -> Blob:
    """Coverage-weighted pixel count, centroid, and mean colour of the fully covered pixels."""
    count = float(weight.sum())
    if count < 1:
        return Blob(0, float("nan"), float("nan"), (float("nan"),) * 3)
    ys, xs = np.indices(weight.shape)
    solid = weight >= 0.9
    mean = frame[solid].mean(axis=0) if solid.any() else frame[weight > 0].mean(axis=0)
    return Blob(round(count), float((xs * weight).sum() / count), float((ys * weight).sum() / count),
                (float(mean[0]), float(mean[1]), float(mean[2])))


@dataclass(frozen=True)
class Match:
    """One object in two frames: its blobs, centroid distance, mean colour difference and mask overlap (IoU)."""

    reference: Blob
    other: Blob
    distance: float
    color: float
    iou: float


@dataclass(frozen=True)
class Agreement:
    """Every visible object's :class:`Match`, and the worst position and colour differences."""

    matches: dict[str, Match]
    max_position_px: float
    max_color: float
    min_iou: float


def _inside(weight: np.ndarray, box: Box | None, margin: int) -> np.ndarray:
    if box is None:
        return weight
    h, w = weight.shape
    x0, y0 = max(0, int(box[0]) - margin), max(0, int(box[1]) - margin)
    x1, y1 = min(w, int(np.ceil(box[2])) + margin), min(h, int(np.ceil(box[3])) + margin)
    kept = np.zeros_like(weight)
    kept[y0:y1, x0:x1] = weight[y0:y1, x0:x1]
    return kept


def compare_frames(reference: np.ndarray, other: np.ndarray,
                   colours: dict[str, tuple[float, float, float] | None], background: tuple[float, ...],
                   boxes: dict[str, Box] | None = None, tolerance: float = 24, margin: int = 6) -> Agreement:
    """Find every visible object by its colour in both frames: centroid distance, colour difference, overlap.

    ``boxes`` (the reference's object bounds, :func:`pixi_bounds`) keep each object's search within ``margin``
    px of where the reference draws it, so another object's anti-aliased edge of a similar hue cannot count.
    The overlap is the weighted IoU of the two coverage maps (sum of minima over sum of maxima).
    """
    matches: dict[str, Match] = {}
    for oid, colour in colours.items():
        if colour is None:
            continue
        box = (boxes or {}).get(oid)
        wa = _inside(coverage(reference, colour, background, tolerance), box, margin)
        wb = _inside(coverage(other, colour, background, tolerance), box, margin)
        a, b = blob(reference, wa), blob(other, wb)
        union = float(np.maximum(wa, wb).sum())
        iou = float(np.minimum(wa, wb).sum()) / union if union else 1.0
        if a.count and b.count:
            distance = float(np.hypot(a.cx - b.cx, a.cy - b.cy))
            colour_diff = float(np.abs(np.array(a.mean) - np.array(b.mean)).max())
        else:
            distance, colour_diff = (0.0, 0.0) if a.count == b.count else (float("inf"), float("inf"))
        matches[oid] = Match(a, b, distance, colour_diff, iou)
    return Agreement(
        matches,
        max((m.distance for m in matches.values()), default=0.0),
        max((m.color for m in matches.values()), default=0.0),
        min((m.iou for m in matches.values()), default=1.0),
    )


def painted_difference(reference: np.ndarray, other: np.ndarray, threshold: int = 60) -> float:
    """Share of the stage where the two frames differ by more than ``threshold`` in some channel (edges, mostly)."""
    diff = np.abs(reference.astype(np.int16) - other.astype(np.int16)).max(axis=2)
    return float((diff > threshold).mean())
