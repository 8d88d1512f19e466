"""The playground: a page on the local gateway where a person types a prompt and watches the animation.

``GET /ui/`` serves the page (``/`` redirects there), ``/ui/pixi.js`` the locally installed pixi.js (never a
CDN), and ``/ui/api/*`` is a same-origin proxy to the ``translate`` and ``status`` functions that adds
``X-API-Key`` on the server, so the page never holds the key: the pattern of the Next.js route handlers in
``examples/vercel-nextjs``. Whoever reaches that proxy spends the key, so it exists only in *local-only mode*:
the gateway listens on a loopback address (``TEXT2PIXI_PLAYGROUND=auto``, the default), or an operator opts in
with ``TEXT2PIXI_PLAYGROUND=on``. In auto mode every ``/ui`` request must name a loopback ``Host`` (a DNS
rebinding page cannot use it), and the proxy answers same-origin requests only (no cross-site form posts).

A finished job plays through ``/ui/api/status/<id>/scene.js``: the stored scene is validated again and turned
into a classic script by :func:`text2pixi.core.codegen.render_script`, the runtime of the module and the page.

Direct editing re-renders without the model: the page sends the edited scene to ``/ui/api/render.js?scene=``,
which validates it like a model's scene and answers the same kind of script (a 400 ``invalid_scene`` names
the problem). A v2 result is edited in its source: ``/ui/api/compile?source=`` validates and compiles the
edited v2 scene and answers the compiled scene (or the compiler's 400), which then plays the same way. The
page cannot run a script it builds itself (CSP ``script-src 'self'``, no ``eval``), and no scene reaches the
page's runtime without passing the schema. An edited scene becomes a version of its own
(a base to refine) through ``/ui/api/edit``, the ``translate`` function's ``POST /edit``; the chain of
versions comes from ``/ui/api/status/<id>/history``; its files (Lottie, GIF, MP4, WebM, PNG) from
``/ui/api/status/<id>/<format>``, the ``status`` function's exports with the page's options passed on.

While a job runs the page reads ``/ui/api/status/<id>/events``, the job's Server-Sent Events relayed unbuffered
(an ``EventSource`` cannot send the key), to show tokens and draw objects as they arrive; polling ``status``
stays the way it learns how the job ended, and the fallback when there is no stream.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time
import uuid
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import requests
from flask import Flask, Response, redirect, request
from pydantic import ValidationError

from text2pixi.core.codegen import render_script
from text2pixi.core.contracts import JOB_ID
from text2pixi.core.errors import (
    HostNotAllowed,
    InvalidScene,
    NotFound,
    OriginNotAllowed,
    PlaygroundModeInvalid,
    ServiceUnavailable,
    UnsupportedMediaType,
    validation_message,
)
from text2pixi.core.scene import Scene
from text2pixi.core.v2 import V2Scene, compile_scene
from text2pixi.service.downloads import EXPORT_FORMATS
from text2pixi.service.pixi_bundle import load_pixi_js
from text2pixi.settings import Settings, get_settings
from text2pixi.web.gateway import Call, Gateway

logger = logging.getLogger(__name__)

MODE_ENV = "TEXT2PIXI_PLAYGROUND"
PAGE_MODULES = ("main.js", "state.js", "api.js", "display.js", "player.js", "jobs.js", "versions.js", "variants.js",
                "panel.js", "progress.js", "downloads.js")
"""The page's ES modules (``static/``); ``main.js`` is the entry point, the others are its imports."""
STATIC = {"playground.css": "text/css", **{name: "text/javascript" for name in PAGE_MODULES}}
PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; "
    "img-src 'self' data: blob:; worker-src blob:; font-src data:; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)
"""Scripts only from this origin (pixi.js, the page's code, the scene scripts): nothing inline, no CDN."""
DOWNLOAD_CSP = (
    "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; worker-src blob:; connect-src 'none'"
)
"""If the downloaded page is ever opened from the gateway instead of disk, it runs in an opaque origin."""
SAFE_FETCH_SITES = frozenset({"same-origin", "none"})
MAX_RENDER_CHARS = 16 * 1024
"""Longest scene ``render.js`` takes (the functions' body limit): a scene of 16 objects and 24 animations fits."""
EVENT_CHUNK = 16 * 1024
"""Most bytes of the event stream read at once; a chunk the function flushed is passed on without waiting for more."""


def is_loopback(host: str) -> bool:
    """``127.0.0.0/8``, ``::1`` or ``localhost`` (what only this machine can reach)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def mode_enabled(bind_host: str, mode: str | None) -> bool:
    """Whether to install the playground: ``auto`` means only when the gateway listens on loopback."""
    value = (mode or "auto").strip().lower()
    if value in {"on", "1", "true", "yes"}:
        return True
    if value in {"off", "0", "false", "no"}:
        return False
    if value == "auto":
        return is_loopback(bind_host)
    raise PlaygroundModeInvalid(f"{MODE_ENV} must be auto, on or off, not {mode!r}")


@dataclass(frozen=True)
class Playground:
    """The proxy's state: the gateway it calls through, and whether requests must name a loopback host."""

    gateway: Gateway
    local_only: bool
    settings: Settings

    def check_request(self) -> None:
        """Refuse foreign hosts (auto mode) and, for the API, cross-site requests."""
        hostname = urlsplit("//" + request.host).hostname or ""
        if self.local_only and not is_loopback(hostname):
            raise HostNotAllowed(f"the playground answers only on loopback hosts, not {hostname!r}")
        if not request.path.startswith("/ui/api/"):
            return
        site = request.headers.get("Sec-Fetch-Site")
        if site is not None and site not in SAFE_FETCH_SITES:
            raise OriginNotAllowed("the playground API takes requests from its own page only")
        origin = request.headers.get("Origin")
        if origin is not None and origin != f"{request.scheme}://{request.host}":
            raise OriginNotAllowed("the playground API takes requests from its own page only")

    def call(self, function: str, method: str, rest: str = "", body: bytes = b"", *, stream: bool = False,
             extra: dict[str, str] | None = None) -> requests.Response:
        """Call a function through the gateway's pool with the API key added here, server-side."""
        base = self.gateway.config.functions.get(function)
        if base is None:
            raise ServiceUnavailable(f"the gateway serves no {function!r} function")
        key = self.settings.resolved_api_key
        if not key:
            raise ServiceUnavailable("the gateway has no API key to add (TEXT2PIXI_API_KEY or the secret file)")
        call_id = str(uuid.uuid4())
        headers = {"X-API-Key": key, "X-Call-Id": call_id, "Accept": "application/json",
                   "X-Forwarded-For": request.remote_addr or ""}
        if body:
            headers["Content-Type"] = "application/json"
        headers |= extra or {}
        url = f"{base}/{rest}" if rest else f"{base}/"
        try:
            return self.gateway.send(Call(function, method, url, headers, body, call_id, time.time_ns()),
                                     stream=stream)
        except requests.RequestException as exc:
            logger.warning("playground call %s to %s failed: %s", call_id, function, exc)
            raise ServiceUnavailable(f"the {function} function is not reachable") from exc

    def status(self, job_id: str, suffix: str = "") -> requests.Response:
        if not JOB_ID.match(job_id):
            raise NotFound(f"no job with id {job_id[:64]!r}")
        return self.call("status", "GET", f"{job_id}{suffix}")

    def events(self, job_id: str, last_event_id: str | None) -> Response:
        """The job's Server-Sent Events, relayed chunk by chunk as they come (an EventSource cannot add the key).

        ``Last-Event-ID`` (the browser's reconnect header) travels on so a reconnect resumes; the function's
        heartbeat keeps the read timeout from firing, and a closed page ends the upstream call at the next write.
        """
        if not JOB_ID.match(job_id):
            raise NotFound(f"no job with id {job_id[:64]!r}")
        extra = {"Accept": "text/event-stream"}
        if last_event_id:
            extra["Last-Event-ID"] = last_event_id[:200]
        upstream = self.call("status", "GET", f"{job_id}/events", stream=True, extra=extra)
        if upstream.status_code != 200 or not upstream.headers.get("Content-Type", "").startswith("text/event-stream"):
            with upstream:
                return _relay(upstream)
        response = Response(upstream.raw.stream(EVENT_CHUNK, decode_content=False), 200,
                            {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
                            content_type="text/event-stream; charset=utf-8", direct_passthrough=True)
        response.call_on_close(upstream.close)
        return response

    def scene_script(self, job_id: str) -> str:
        """The finished job's scene, validated again, as the script the page mounts."""
        upstream = self.status(job_id)
        view = _json(upstream)
        if upstream.status_code != 200 or view.get("status") != "finished":
            raise NotFound(f"job {job_id} has no scene (status {view.get('status', upstream.status_code)})")
        try:
            scene = Scene.model_validate((view.get("result") or {}).get("scene"))
        except ValidationError as exc:
            raise ServiceUnavailable(f"the stored scene of job {job_id} is not valid") from exc
        return render_script(scene)


def render_edited(raw: str | None) -> str:
    """The script for a scene edited in the page, after the same validation as a model's scene."""
    if not raw:
        raise InvalidScene("give the scene as ?scene=<JSON>")
    if len(raw) > MAX_RENDER_CHARS:
        raise InvalidScene(f"the scene has {len(raw)} characters; the limit is {MAX_RENDER_CHARS}")
    try:
        scene = Scene.model_validate_json(raw)
    except ValidationError as exc:
        raise InvalidScene.from_validation(exc) from None
    return render_script(scene)


def compile_edited(raw: str | None) -> dict[str, Any]:
    """A v2 scene edited in the page, validated and compiled: ``{"scene": compiled, "source": normalised}``."""
    if not raw:
        raise InvalidScene("give the v2 scene as ?source=<JSON>")
    if len(raw) > MAX_RENDER_CHARS:
        raise InvalidScene(f"the v2 scene has {len(raw)} characters; the limit is {MAX_RENDER_CHARS}")
    try:
        source = V2Scene.model_validate_json(raw)
    except ValidationError as exc:
        raise InvalidScene(f"the v2 source is not valid: {validation_message(exc, root='source')}") from None
    scene = compile_scene(source)  # a SceneCompileError is a 400 invalid_scene naming the item and step
    return {"scene": scene.model_dump(mode="json", exclude_defaults=True),
            "source": source.model_dump(mode="json", exclude_defaults=True, by_alias=True)}


def _json(upstream: requests.Response) -> dict[str, Any]:
    try:
        body = upstream.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _relay(upstream: requests.Response) -> Response:
    """The function's answer as it is (status, JSON body, Retry-After), minus headers naming key-only URLs."""
    headers = {k: v for k, v in upstream.headers.items() if k.lower() == "retry-after"}
    return Response(upstream.content, upstream.status_code, headers,
                    content_type=upstream.headers.get("Content-Type", "application/json"))


def _static(name: str) -> str:
    return resources.files("text2pixi.web").joinpath("static", name).read_text(encoding="utf-8")


def install(app: Flask, gateway: Gateway, *, bind_host: str, mode: str | None = None,
            settings: Settings | None = None) -> bool:
    """Add the playground's routes to the gateway app when the mode allows it; returns whether it did.

    ``mode`` defaults to the gateway's ``TEXT2PIXI_PLAYGROUND`` setting. Errors raised here become the
    gateway app's JSON answers (:mod:`text2pixi.web.errors`, installed by :func:`text2pixi.web.gateway.create_app`).
    """
    chosen = mode if mode is not None else gateway.config.playground
    if not mode_enabled(bind_host, chosen):
        return False
    local_only = (chosen or "auto").strip().lower() == "auto"
    playground = Playground(gateway, local_only, settings or get_settings())
    app.extensions["text2pixi.web.playground"] = playground

    @app.before_request
    def guard() -> None:
        if request.path == "/" or request.path.startswith("/ui"):
            playground.check_request()

    @app.after_request
    def harden(response: Response) -> Response:
        if request.path.startswith("/ui"):
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
            response.headers.setdefault("Referrer-Policy", "no-referrer")
            if request.path.startswith("/ui/api/"):
                response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.get("/")
    def root() -> Response:
        return redirect("/ui/", 302)  # type: ignore[return-value]

    @app.get("/ui")
    def ui_no_slash() -> Response:
        return redirect("/ui/", 308)  # type: ignore[return-value]

    @app.get("/ui/")
    def page() -> Response:
        return Response(_static("playground.html"), 200, {
            "Content-Security-Policy": PAGE_CSP, "X-Frame-Options": "DENY", "Cache-Control": "no-cache"},
            content_type="text/html; charset=utf-8")

    @app.get(f"/ui/<any({', '.join(STATIC)}):name>")
    def asset(name: str) -> Response:
        return Response(_static(name), 200, {"Cache-Control": "no-cache"},
                        content_type=f"{STATIC[name]}; charset=utf-8")

    @app.get("/ui/pixi.js")
    def pixi() -> Response:
        code = load_pixi_js(playground.settings.pixi_js_path)
        return Response(code, 200, {"Cache-Control": "public, max-age=86400"},
                        content_type="text/javascript; charset=utf-8")

    @app.post("/ui/api/translate")
    def translate() -> Response:
        if request.mimetype != "application/json":
            raise UnsupportedMediaType('send JSON: {"prompt": "..."} with Content-Type: application/json')
        return _relay(playground.call("translate", "POST", body=request.get_data()))

    @app.get("/ui/api/status/<job_id>")
    def status(job_id: str) -> Response:
        return _relay(playground.status(job_id))

    @app.get("/ui/api/status/<job_id>/events")
    def events(job_id: str) -> Response:
        return playground.events(job_id, request.headers.get("Last-Event-ID") or request.args.get("last_event_id"))

    @app.get("/ui/api/status/<job_id>/scene.js")
    def scene_js(job_id: str) -> Response:
        return Response(playground.scene_script(job_id), 200, content_type="text/javascript; charset=utf-8")

    @app.get("/ui/api/render.js")
    def render_js() -> Response:
        return Response(render_edited(request.args.get("scene")), 200,
                        content_type="text/javascript; charset=utf-8")

    @app.get("/ui/api/compile")
    def compile_source() -> Response:
        return Response(json.dumps(compile_edited(request.args.get("source")), separators=(",", ":")), 200,
                        content_type="application/json")

    @app.post("/ui/api/edit")
    def edit() -> Response:
        if request.mimetype != "application/json":
            raise UnsupportedMediaType('send JSON: {"base": "...", "scene": {...}} or {"base": "...", "source": {...}} '
                                       'with Content-Type: application/json')
        return _relay(playground.call("translate", "POST", "edit", body=request.get_data()))

    @app.get("/ui/api/status/<job_id>/history")
    def history(job_id: str) -> Response:
        return _relay(playground.status(job_id, "/history"))

    @app.get("/ui/api/status/<job_id>/page.html")
    def download(job_id: str) -> Response:
        upstream = playground.status(job_id, "/html")
        if upstream.status_code != 200:
            return _relay(upstream)
        return Response(upstream.content, 200, {
            "Content-Disposition": f'attachment; filename="text2pixi-{job_id}.html"',
            "Content-Security-Policy": DOWNLOAD_CSP}, content_type="text/html; charset=utf-8")

    @app.get(f"/ui/api/status/<job_id>/<any({', '.join(EXPORT_FORMATS)}):fmt>")
    def export(job_id: str, fmt: str) -> Response:
        """An export (Lottie, GIF, MP4, WebM, PNG) of the job, its options passed on for the function to check."""
        query = request.query_string.decode("latin-1")
        upstream = playground.status(job_id, f"/{fmt}" + (f"?{query}" if query else ""))
        if upstream.status_code != 200:
            return _relay(upstream)
        kept = {k: v for k, v in upstream.headers.items()
                if k.lower() in ("content-disposition", "etag") or k.lower().startswith("x-export-")}
        return Response(upstream.content, 200, kept | {"Content-Security-Policy": "sandbox; default-src 'none'"},
                        content_type=upstream.headers.get("Content-Type", "application/octet-stream"))

    logger.info("playground at /ui/ (%s); its /ui/api proxy adds the API key",
                "loopback hosts only" if local_only else f"{MODE_ENV}=on")
    return True

