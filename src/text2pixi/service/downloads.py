"""``GET /status/ID/{lottie,gif,mp4,webm,png}``: a finished result as a file, made once and then served from S3.

The first request for an export of a result (one format, one set of options) renders it in the ``status``
function's process with :func:`text2pixi.service.export.render` (no model, no browser) and stores it next to
the result (:meth:`text2pixi.service.store.Store.put_export`); every later request for the same export is
served from S3. The object is named by a digest of the format and the *resolved* options (the stage size
when no ``size`` is given, the scene's own duration or one loop cycle when no ``duration`` is), so equal
requests share one object whatever they spelled out.

Options (query parameters), each refused with a precise 400 when malformed, out of range or meaningless
for the format: ``fps`` (animated formats and Lottie), ``size=WxH`` (raster formats), ``duration`` seconds
(animated formats and Lottie), ``t`` seconds (the PNG poster's time). The function has a 30 s exec timeout
on half a core (``stack.yml``), so the work one request may cause is bounded: frames × pixels stays within a
budget per format (measured in ``docs/export.md``; without ``size`` the stage is scaled down to fit, with one
the export is refused), and one process renders one export at a time (a second one waits a little for the
first, then gets 429 with ``Retry-After``).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, cast

from pydantic import ValidationError

from text2pixi.core.contracts import JobStatus, JobView
from text2pixi.core.errors import InvalidExport, NotFound, QueueFull, ServiceUnavailable
from text2pixi.core.lottie import frame_count, lottie_duration
from text2pixi.core.scene import Scene
from text2pixi.service.http import Event, Response, header
from text2pixi.service.store import Store, StoredExport

if TYPE_CHECKING:
    from text2pixi.service.export import ExportFormat

log = logging.getLogger(__name__)

EXPORT_FORMATS: Final = ("lottie", "gif", "mp4", "webm", "png")
"""The path suffixes of ``status`` that are exports (``/status/ID/<format>``)."""
EXTENSIONS: Final = {"lottie": "json", "gif": "gif", "mp4": "mp4", "webm": "webm", "png": "png"}
OPTIONS: Final = {"lottie": ("fps", "duration"), "gif": ("fps", "size", "duration"),
                  "mp4": ("fps", "size", "duration"), "webm": ("fps", "size", "duration"), "png": ("size", "t")}
"""The query parameters each format takes (the id is the path's: ``?id=`` is refused here)."""
EXPORT_VERSION: Final = "1"
"""Part of every object's digest: bump it when the renderer's output changes, so old objects are not served."""
DEFAULT_FPS: Final = 30
# The renderer's own limits (text2pixi.service.export, which checks them again), refused here before any work.
MIN_FPS, MAX_FPS, MAX_GIF_FPS = 1, 60, 50
MIN_SIDE, MAX_SIDE = 16, 1920
MAX_DURATION: Final = 60.0
"""Longest ``duration`` (and latest ``t``) any format takes; rasters hit the budget first."""
FRAME_BUDGET: Final = {"gif": 800 * 600 * 120, "mp4": 800 * 600 * 120, "webm": 800 * 600 * 60}
"""Pixels × frames one request may render per animated format: 4 s of 800×600 at 30 fps for GIF and MP4, 2 s
for WebM (VP9 encodes slower). A free core here takes 60-70 ms a frame at 800×600 for GIF and MP4 (more
under load, figures in docs/export.md), so the largest export takes about 8 s on a core and under 20 s on
the status function's half core, inside its 30 s exec timeout."""
CACHE_MAX_AGE: Final = 86400
"""A result never changes under its id, so neither does its export; private, since the key fetched it."""
RENDER_WAIT_S: Final = 10.0
"""How long a request waits for this process's one export slot before answering 429."""
RETRY_AFTER_S: Final = 5
EXPOSED: Final = "Content-Disposition, ETag, X-Export-Cache, X-Export-Frames, X-Export-Duration, X-Export-Size"
"""Headers a cross-origin page (an allowed CORS origin) may read: the file's name and what it holds."""
_slot = threading.BoundedSemaphore(1)


@dataclass(frozen=True)
class ExportOptions:
    """An export asked for: the format and the options as given (``None``: the default)."""

    fmt: ExportFormat
    fps: int | None = None
    size: tuple[int, int] | None = None
    duration: float | None = None
    at: float = 0.0


@dataclass(frozen=True)
class ResolvedExport:
    """An export with every option decided for one scene: what is rendered, and the object it is stored as."""

    fmt: ExportFormat
    fps: int
    size: tuple[int, int]
    duration: float
    at: float
    asked_duration: float | None = None
    """``duration`` as given: ``None`` lets the renderer state "one loop cycle" in the file's metadata."""

    @property
    def frames(self) -> int:
        return 1 if self.fmt == "png" else frame_count(self.duration, self.fps)

    @property
    def name(self) -> str:
        """The S3 object's name under the result: a digest of everything that changes the bytes."""
        key = json.dumps({"v": EXPORT_VERSION, "fmt": self.fmt, "fps": self.fps, "size": list(self.size),
                          "duration": round(self.duration, 3), "t": round(self.at, 3)}, sort_keys=True)
        return f"{hashlib.sha256(key.encode()).hexdigest()[:32]}.{EXTENSIONS[self.fmt]}"


def _number(name: str, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise InvalidExport(f"{name} must be a number, not {raw[:40]!r}") from None
    if not math.isfinite(value):
        raise InvalidExport(f"{name} must be a finite number")
    return value


def _fps(raw: str, fmt: str) -> int:
    top = MAX_GIF_FPS if fmt == "gif" else MAX_FPS  # GIF delays count in 10 ms: faster would play slow
    if not raw.isdigit() or not MIN_FPS <= int(raw) <= top:
        raise InvalidExport(f"fps must be a whole number from {MIN_FPS} to {top} for {fmt}, not {raw[:40]!r}")
    return int(raw)


def _size(raw: str) -> tuple[int, int]:
    w, x, h = raw.lower().partition("x")
    if not (x and w.isdigit() and h.isdigit()):
        raise InvalidExport(f"size must be WIDTHxHEIGHT in pixels, like 800x600, not {raw[:40]!r}")
    if not (MIN_SIDE <= int(w) <= MAX_SIDE and MIN_SIDE <= int(h) <= MAX_SIDE):
        raise InvalidExport(f"size {int(w)}x{int(h)}: each side must be {MIN_SIDE} to {MAX_SIDE} pixels")
    return int(w), int(h)


def requested(parts: list[str], query: Mapping[str, str]) -> ExportOptions | None:
    """The export ``/status/ID/<format>?...`` asks for, or ``None`` for any other status path; 400 on bad options."""
    if len(parts) != 2 or parts[1] not in EXPORT_FORMATS:
        return None
    fmt = cast("ExportFormat", parts[1])
    allowed = OPTIONS[fmt]
    for name in query:
        if name not in allowed:
            known = f"it takes {', '.join(allowed)}" if allowed else "it takes none"
            raise InvalidExport(f"{name[:40]!r} is not an option of the {fmt} export; {known}")
    fps = _fps(query["fps"], fmt) if "fps" in query else None
    size = _size(query["size"]) if "size" in query else None
    duration = _number("duration", query["duration"]) if "duration" in query else None
    if duration is not None and not 0 < duration <= MAX_DURATION:
        raise InvalidExport(f"duration must be more than 0 and at most {MAX_DURATION:g} seconds")
    at = _number("t", query["t"]) if "t" in query else 0.0
    if not 0 <= at <= MAX_DURATION:
        raise InvalidExport(f"t must be from 0 to {MAX_DURATION:g} seconds")
    return ExportOptions(fmt, fps, size, duration, at)


def resolve(options: ExportOptions, scene: Scene) -> ResolvedExport:
    """Decide the defaults for ``scene``, within its format's budget: without ``size`` the stage is scaled down
    (aspect kept) until the frames fit; an export that does not fit as asked is refused (400, with the numbers)."""
    fps = options.fps or DEFAULT_FPS
    duration = 0.0 if options.fmt == "png" else lottie_duration(scene, options.duration)
    size = options.size or (scene.w, scene.h)
    budget = FRAME_BUDGET.get(options.fmt)
    frames = ResolvedExport(options.fmt, fps, size, duration, options.at).frames
    if budget is not None and options.size is None and size[0] * size[1] * frames > budget:
        scale = math.sqrt(budget / (size[0] * size[1] * frames))
        size = (max(MIN_SIDE, int(size[0] * scale) // 2 * 2), max(MIN_SIDE, int(size[1] * scale) // 2 * 2))
    cost = size[0] * size[1] * frames
    if budget is not None and cost > budget:
        raise InvalidExport(
            f"a {options.fmt} of {size[0]}x{size[1]} at {fps} fps for {duration:g} s is {frames} frames, "
            f"{cost / 1e6:.1f} million pixels; the limit is {budget / 1e6:.1f} million: lower size, fps or duration")
    return ResolvedExport(options.fmt, fps, size, duration, options.at, options.duration)


@contextmanager
def _render_slot() -> Iterator[None]:
    """This process's one export slot: two renders at once would each take twice as long on the function's CPU."""
    if not _slot.acquire(timeout=RENDER_WAIT_S):
        raise QueueFull("another export is being made; try again shortly", retry_after=RETRY_AFTER_S)
    try:
        yield
    finally:
        _slot.release()


def _make(store: Store, job_id: str, scene: Scene, export: ResolvedExport) -> StoredExport:
    # Imported here: translate and warmup share the functions module and never load the renderer's libraries.
    from text2pixi.service.export import render

    started = time.perf_counter()
    made = render(scene, export.fmt, fps=export.fps, size=None if export.fmt == "lottie" else export.size,
                  duration=export.asked_duration, at=export.at)
    took = time.perf_counter() - started
    log.info("job %s: %s export %s, %d frames %dx%d, %d bytes in %.2f s", job_id, export.fmt, export.name,
             made.frames, made.width, made.height, len(made.data), took)
    return store.put_export(job_id, export.name, made.data, made.media_type, {
        "extension": made.extension, "frames": str(made.frames), "duration": f"{made.duration_s:g}",
        "width": str(made.width), "height": str(made.height), "render-seconds": f"{took:.3f}"})


def _etag_matches(event: Event, etag: str) -> bool:
    given = header(event, "If-None-Match")
    if not given:
        return False
    tags = {t.strip().removeprefix("W/") for t in given.split(",")}
    return "*" in tags or etag in tags


def serve(store: Store, view: JobView, options: ExportOptions, event: Event) -> Response:
    """The export of the finished result ``view``: from S3 if it was made before, else made and stored now."""
    job_id = view.id
    if view.status != JobStatus.FINISHED or not view.result:
        raise NotFound(f"job {job_id} has no scene to export (status {view.status.value})")
    try:
        scene = Scene.model_validate(view.result.get("scene"))
    except ValidationError as exc:
        raise ServiceUnavailable(f"the stored scene of job {job_id} is not valid") from exc
    export = resolve(options, scene)
    stored, cache = store.get_export(job_id, export.name), "hit"
    if stored is None:
        with _render_slot():
            stored = store.get_export(job_id, export.name)  # made by another request while this one waited
            if stored is None:
                stored, cache = _make(store, job_id, scene, export), "miss"
    meta = stored.metadata
    etag = f'"{stored.sha256[:40]}"'
    headers = {"ETag": etag, "Cache-Control": f"private, max-age={CACHE_MAX_AGE}", "X-Export-Cache": cache,
               "X-Content-Type-Options": "nosniff", "Access-Control-Expose-Headers": EXPOSED}
    if _etag_matches(event, etag):
        return {"statusCode": 304, "body": b"", "headers": headers}
    extension = meta.get("extension") or EXTENSIONS[export.fmt]
    return {"statusCode": 200, "body": stored.data, "headers": {
        **headers, "Content-Type": stored.content_type,
        "Content-Disposition": f'attachment; filename="text2pixi-{job_id}.{extension}"',
        "X-Export-Frames": meta.get("frames", ""), "X-Export-Duration": meta.get("duration", ""),
        "X-Export-Size": f"{meta.get('width', '')}x{meta.get('height', '')}"}}
