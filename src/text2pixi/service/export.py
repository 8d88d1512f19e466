"""Export a scene as Lottie JSON, or as GIF, MP4, WebM and a PNG poster rendered without a browser.

Every raster format is drawn from the scene's Lottie document (:func:`text2pixi.core.lottie.to_lottie`), the
same timeline the page's ``seek(t)`` plays, by rlottie (``rlottie-python``) into RGB frames: no Chromium, so a
worker can export. GIF and PNG are written by Pillow; MP4 (H.264, yuv420p, faststart) and WebM (VP9) by the
ffmpeg binary that ``imageio-ffmpeg`` ships, fed raw frames one at a time through a pipe, so a video never
sits in memory as frames. A scene that loops forever exports one cycle (or the duration asked for), as
:func:`text2pixi.core.lottie.lottie_duration` decides, and the file says so in its metadata (GIF and PNG
comment, MP4/WebM ``comment`` tag): ``{"generator": "text2pixi", "duration": s, "loops": bool, ...}``.

Frames sit at ``i / fps`` for ``i`` in ``0 .. n-1`` with ``n = round(duration * fps)``: a looping cycle
ends one frame before it starts again, and the file's length is ``n / fps``.
"""

from __future__ import annotations

import io
import json
import math
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args

import numpy as np
from PIL import Image, PngImagePlugin

from text2pixi.core.colors import color_to_hex
from text2pixi.core.errors import ExportFailed, InvalidExport, ServiceUnavailable
from text2pixi.core.scene import Scene, Tint

ExportFormat = Literal["lottie", "gif", "mp4", "webm", "png"]
FORMATS: tuple[ExportFormat, ...] = get_args(ExportFormat)
RASTER_FORMATS: tuple[ExportFormat, ...] = ("gif", "mp4", "webm", "png")
MEDIA: dict[str, tuple[str, str]] = {
    "lottie": ("application/json", "json"),
    "gif": ("image/gif", "gif"),
    "mp4": ("video/mp4", "mp4"),
    "webm": ("video/webm", "webm"),
    "png": ("image/png", "png"),
}
"""Each format's media type and file extension."""

MIN_FPS, MAX_FPS = 1, 60
MAX_GIF_FPS = 50
"""GIF delays count in 10 ms; browsers play a 10 ms delay as 100 ms, so faster GIFs would run slow."""
MIN_SIDE, MAX_SIDE = 16, 1920
MAX_SECONDS = 60.0
MAX_GIF_PIXELS = 400_000_000
"""Pillow holds every GIF frame (one byte a pixel) until it writes the file: frames x width x height."""
POSTER_FPS = 60
"""The PNG poster is the frame nearest ``at`` on a 60 fps timeline (within 1/120 s of it)."""
GIF_PALETTE_SAMPLES = 6
"""Frames spread over the export whose colours (with the scene's own) make the one GIF palette."""
FFMPEG_TIMEOUT_S = 120.0
"""How long ffmpeg may take to finish the file once the last frame is written."""
VIDEO_ARGS: dict[str, list[str]] = {
    # H.264 that every player takes: yuv420p, moov atom first (faststart) so it plays while it downloads.
    "mp4": ["-c:v", "libx264", "-pix_fmt", "yuv420p", "-preset", "fast", "-crf", "23", "-tune", "animation",
            "-movflags", "+faststart", "-f", "mp4"],
    # VP9 in constant-quality mode (-b:v 0), the speed setting libvpx documents for offline encodes.
    "webm": ["-c:v", "libvpx-vp9", "-pix_fmt", "yuv420p", "-crf", "34", "-b:v", "0", "-deadline", "good",
             "-cpu-used", "4", "-row-mt", "1", "-f", "webm"],
}


@dataclass(frozen=True)
class Exported:
    """One exported file and what it holds."""

    data: bytes
    media_type: str
    extension: str
    frames: int
    duration_s: float
    width: int
    height: int


def export_size(scene: Scene, width: int | None = None, height: int | None = None) -> tuple[int, int]:
    """The output size: both sides as given, one side with the stage's aspect ratio, or the stage's own."""
    if width is None and height is None:
        return scene.w, scene.h
    if width is None:
        assert height is not None
        return max(1, round(height * scene.w / scene.h)), height
    if height is None:
        return width, max(1, round(width * scene.h / scene.w))
    return width, height


def check_options(fmt: str, *, fps: int, size: tuple[int, int] | None, duration: float | None,
                  at: float) -> None:
    """Refuse what cannot be exported, with a message that names the option and its range."""
    if fmt not in FORMATS:
        raise InvalidExport(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    top = MAX_GIF_FPS if fmt == "gif" else MAX_FPS
    if isinstance(fps, bool) or not isinstance(fps, int) or not MIN_FPS <= fps <= top:
        raise InvalidExport(f"fps must be a whole number from {MIN_FPS} to {top} for {fmt}, not {fps!r}")
    if size is not None:
        if len(size) != 2 or not all(isinstance(s, int) and not isinstance(s, bool) for s in size):
            raise InvalidExport(f"size must be two whole numbers (width, height), not {size!r}")
        if not all(MIN_SIDE <= s <= MAX_SIDE for s in size):
            raise InvalidExport(f"each side of size must be {MIN_SIDE} to {MAX_SIDE} pixels, not {size[0]}x{size[1]}")
    if duration is not None and not (isinstance(duration, int | float) and 0 < duration <= MAX_SECONDS):
        raise InvalidExport(f"duration must be more than 0 and at most {MAX_SECONDS:g} seconds, not {duration!r}")
    if not (isinstance(at, int | float) and 0 <= at <= MAX_SECONDS):
        raise InvalidExport(f"at must be from 0 to {MAX_SECONDS:g} seconds, not {at!r}")


def render(scene: Scene, fmt: ExportFormat, *, fps: int = 30, size: tuple[int, int] | None = None,
           duration: float | None = None, at: float = 0.0) -> Exported:
    """``scene`` as ``fmt``: the Lottie document, a PNG poster at ``at`` s, or an animation of ``duration`` s.

    ``size`` (raster formats only; default the stage's) is ``(width, height)``; a stage of another aspect
    ratio is fitted and centred on the background colour. MP4 and WebM round odd sides down to even ones.
    ``duration`` defaults to the scene's own, or one cycle for a scene that loops forever.
    """
    check_options(fmt, fps=fps, size=size, duration=duration, at=at)
    size = size or (scene.w, scene.h)
    background = color_to_hex(scene.bg)
    if fmt == "png":
        document = lottie_document(scene, fps=POSTER_FPS, duration=min(MAX_SECONDS, at + 1 / POSTER_FPS))
        return render_document(document, "png", fps=POSTER_FPS, size=size, background=background, at=at)
    document = lottie_document(scene, fps=fps, duration=duration)
    return render_document(document, fmt, fps=fps, size=size, background=background, colors=scene_colors(scene))


def lottie_document(scene: Scene, *, fps: int, duration: float | None) -> dict[str, Any]:
    """The scene's Lottie document, text drawn as outlines of the font the page uses."""
    from text2pixi.core.lottie import to_lottie
    from text2pixi.service.fonts import default_glyphs

    return to_lottie(scene, fps=fps, duration=duration, glyphs=default_glyphs())


def scene_colors(scene: Scene) -> list[str]:
    """The flat colours a frame of the scene can show exactly: background, objects, colour-change targets."""
    colors = [scene.bg, *(o.color for o in scene.objects), *(a.to for a in scene.anims if isinstance(a, Tint))]
    return list(dict.fromkeys(color_to_hex(c) for c in colors))


def render_document(document: dict[str, Any], fmt: ExportFormat, *, fps: int, size: tuple[int, int],
                    background: str = "#000000", at: float = 0.0, colors: list[str] | None = None) -> Exported:
    """A Lottie document as ``fmt``, all of it (the part of :func:`render` after the scene became Lottie).

    Whether it loops forever comes from the ``text2pixi`` metadata :func:`~text2pixi.core.lottie.to_lottie`
    writes (a GIF of it then loops; otherwise it plays once, as the page does).
    """
    media_type, extension = MEDIA[fmt]
    seconds = (document["op"] - document["ip"]) / float(document["fr"])
    facts = document.get("text2pixi") or {}
    loops = bool(facts.get("loops"))
    meta: dict[str, Any] = {"generator": "text2pixi", "duration": round(seconds, 6), "loops": loops,
                            **({"cycle": facts["cycle"]} if facts.get("cycle") else {})}
    if fmt == "lottie":
        data = json.dumps(document, separators=(",", ":")).encode()
        return Exported(data, media_type, extension, int(document["op"] - document["ip"]), seconds,
                        int(document["w"]), int(document["h"]))
    width, height = size
    if fmt in VIDEO_ARGS:
        width, height = width - width % 2, height - height % 2
    frames = max(1, round(seconds * fps))
    if fmt == "gif" and frames * width * height > MAX_GIF_PIXELS:
        raise InvalidExport(f"a {width}x{height} GIF of {frames} frames is too large; lower the size, fps or "
                            "duration, or export MP4 or WebM")
    times = [i / fps for i in range(frames)]
    with LottieFrames(document, (width, height), background) as source:
        if fmt == "png":
            poster = {"generator": "text2pixi", "t": at, "loops": loops}
            return Exported(_png(source.rgb(at), poster), media_type, extension, 1, 0.0, width, height)
        meta |= {"fps": fps, "frames": frames}
        if fmt == "gif":
            data = _gif(source, times, fps, colors or [background], loops=loops, comment=json.dumps(meta))
        else:
            data = _video(source, times, fps, fmt, comment=json.dumps(meta))
    return Exported(data, media_type, extension, frames, frames / fps, width, height)


class LottieFrames:
    """rlottie playing one Lottie document: RGB frames at any time, composited over the background colour."""

    def __init__(self, document: dict[str, Any], size: tuple[int, int], background: str) -> None:
        try:
            from rlottie_python.rlottie_wrapper import LottieAnimation
        except ImportError as exc:  # the [service] extra brings it
            raise ServiceUnavailable(f"raster export needs rlottie-python: {exc}") from exc
        self.width, self.height = size
        self.frame_rate = float(document["fr"])
        self.last = int(document["op"] - document["ip"])
        self.background = np.array([int(background[i:i + 2], 16) for i in (1, 3, 5)], dtype=np.float32)
        self.animation = LottieAnimation.from_data(json.dumps(document))
        if not self.animation.animation_p:
            raise ExportFailed("rlottie could not load the Lottie document")

    def __enter__(self) -> LottieFrames:
        return self

    def __exit__(self, *exc: object) -> None:
        self.animation.lottie_animation_destroy()

    def rgb(self, t: float) -> np.ndarray[Any, np.dtype[np.uint8]]:
        """The frame nearest ``t`` seconds as a ``(height, width, 3)`` array.

        rlottie draws premultiplied BGRA; what it leaves transparent (around a stage fitted into another
        aspect ratio) shows the background, as the page's canvas does.
        """
        number = min(self.last, max(0, math.floor(t * self.frame_rate + 0.5)))
        raw = self.animation.lottie_animation_render(frame_num=number, width=self.width, height=self.height)
        bgra = np.frombuffer(raw, dtype=np.uint8).reshape(self.height, self.width, 4)
        rgb = np.ascontiguousarray(bgra[:, :, 2::-1])
        see_through = np.nonzero(bgra[:, :, 3] < 255)  # a few edge pixels, or the margins of a fitted stage
        if see_through[0].size:
            under = (255 - bgra[:, :, 3][see_through].astype(np.float32))[:, None] / 255 * self.background
            rgb[see_through] = np.clip(rgb[see_through] + under + 0.5, 0, 255).astype(np.uint8)
        return rgb


def _png(rgb: np.ndarray[Any, np.dtype[np.uint8]], meta: dict[str, Any]) -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", json.dumps(meta))
    out = io.BytesIO()
    Image.fromarray(rgb, "RGB").save(out, format="PNG", pnginfo=info, optimize=True)
    return out.getvalue()


def gif_delays(frames: int, fps: int) -> list[int]:
    """Frame delays in ms, each a multiple of GIF's 10 ms unit, whose running sums stay on ``i / fps``."""
    ends = [round(i * 100 / fps) * 10 for i in range(frames + 1)]
    return [b - a for a, b in zip(ends, ends[1:], strict=False)]


def _palette(source: LottieFrames, times: list[float], colors: list[str]) -> tuple[list[int], np.ndarray[Any, Any]]:
    """One palette for the whole GIF: the scene's flat colours first, exactly, then what sample frames show.

    Returns the flat palette (768 values) and the packed 24-bit keys of the exact colours (indices 0..k-1).
    """
    exact = [tuple(int(c[i:i + 2], 16) for i in (1, 3, 5)) for c in colors][:64]
    picks = sorted({times[round(k * (len(times) - 1) / max(1, GIF_PALETTE_SAMPLES - 1))]
                    for k in range(GIF_PALETTE_SAMPLES)})
    strip = np.concatenate([source.rgb(t) for t in picks], axis=0)
    sampled = Image.fromarray(strip, "RGB").quantize(colors=256 - len(exact), method=Image.Quantize.MEDIANCUT)
    rest = sampled.getpalette() or []
    flat = [v for rgb in exact for v in rgb] + rest[: 3 * (256 - len(exact))]
    keys = np.array([(r << 16) | (g << 8) | b for r, g, b in exact], dtype=np.uint32)
    return flat + [0] * (768 - len(flat)), keys


def _gif(source: LottieFrames, times: list[float], fps: int, colors: list[str], *, loops: bool,
         comment: str) -> bytes:
    palette, keys = _palette(source, times, colors)
    reference = Image.new("P", (1, 1))
    reference.putpalette(palette)

    def frames() -> Iterator[Image.Image]:
        for t in times:
            rgb = source.rgb(t)
            indexed = np.array(Image.fromarray(rgb, "RGB").quantize(palette=reference, dither=Image.Dither.NONE))
            # Pillow's palette lookup is approximate (a coarse colour cube): put the flat colours back exactly.
            packed = (rgb[:, :, 0].astype(np.uint32) << 16) | (rgb[:, :, 1].astype(np.uint32) << 8) | rgb[:, :, 2]
            for index, key in enumerate(keys):
                indexed[packed == key] = index
            frame = Image.fromarray(indexed, "P")
            frame.putpalette(palette)
            yield frame

    sequence = frames()
    first = next(sequence)
    out = io.BytesIO()
    options: dict[str, Any] = {"loop": 0} if loops else {}
    # Identical neighbours are merged by Pillow (their delays add up), so the file may hold fewer images.
    first.save(out, format="GIF", save_all=True, append_images=sequence, duration=gif_delays(len(times), fps),
               comment=comment.encode(), optimize=False, disposal=1, **options)
    return out.getvalue()


def _video(source: LottieFrames, times: list[float], fps: int, fmt: str, *, comment: str) -> bytes:
    """Stream raw RGB frames into ffmpeg and return the finished file."""
    try:
        import imageio_ffmpeg
    except ImportError as exc:  # the [service] extra brings it
        raise ServiceUnavailable(f"video export needs imageio-ffmpeg: {exc}") from exc
    with tempfile.TemporaryDirectory(prefix="text2pixi-export-") as tmp:
        path, log = Path(tmp) / f"out.{fmt}", Path(tmp) / "ffmpeg.log"
        command = [imageio_ffmpeg.get_ffmpeg_exe(), "-nostdin", "-v", "error", "-y",
                   "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{source.width}x{source.height}", "-r", str(fps),
                   "-i", "-", *VIDEO_ARGS[fmt], "-metadata", f"comment={comment}", str(path)]
        with log.open("wb") as errors:
            process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=errors)
            assert process.stdin is not None
            try:
                for t in times:
                    process.stdin.write(source.rgb(t).tobytes())
            except BrokenPipeError:
                pass  # ffmpeg stopped early; its exit code and log say why
            finally:
                try:
                    process.stdin.close()
                except BrokenPipeError:
                    pass
                try:
                    code = process.wait(timeout=FFMPEG_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
                    code = -1
        if code != 0:
            detail = " ".join(log.read_text(errors="replace").split())[-300:]
            raise ExportFailed(f"ffmpeg could not encode the {fmt} (exit {code}): {detail or 'no message'}")
        return path.read_bytes()
