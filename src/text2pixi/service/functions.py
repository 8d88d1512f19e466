"""The three functions' logic: ``translate``, ``status`` and ``warmup``, as pure event handlers.

``functions/<name>/handler.py`` calls these with the template's ``event`` (body, headers, method,
query, path) and returns what they return (``statusCode``, ``body``, ``headers``). Everything
HTTP-specific lives here, in one place: authentication, CORS, request parsing, and the mapping
from our named exceptions to status codes and JSON error bodies. Nothing here raises to the
template: an unexpected exception becomes a logged 500 without a stack trace in the body.
"""

from __future__ import annotations

import gzip
import hmac
import json
import logging
import re
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from text2pixi.core.codegen import render_module, render_page
from text2pixi.core.errors import (
    BadJson,
    BaseFailed,
    BaseNotFinished,
    BaseNotFound,
    BodyTooLarge,
    InvalidRequest,
    InvalidScene,
    MethodNotAllowed,
    NotFound,
    OriginNotAllowed,
    QueueFull,
    ServiceUnavailable,
    Text2PixiError,
    Unauthorized,
    UnknownOption,
)
from text2pixi.core.prompt import check_prompt
from text2pixi.core.refinement import changed_paths
from text2pixi.core.scene import Scene
from text2pixi.service import metrics
from text2pixi.service.callbacks import check_callback_url
from text2pixi.service.jobs import EditRequest, Jobs, JobStatus, JobView, TranslateRequest
from text2pixi.service.pixi_bundle import PixiNotInstalled, load_pixi_js
from text2pixi.service.store import Store, sha256_text
from text2pixi.settings import Settings, get_settings

log = logging.getLogger(__name__)

RequestT = TypeVar("RequestT", bound=BaseModel)

Response = dict[str, Any]
JOB_ID = re.compile(r"^[0-9a-f]{32}$")
ALLOWED_HEADERS = "Content-Type, X-API-Key, Idempotency-Key, X-Callback-Url"
MAX_IDEMPOTENCY_KEY = 200
# The stored page inlines its scripts and allows them by hash; this keeps it inert when served.
PAGE_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; " \
           "worker-src blob:; connect-src 'none'; frame-ancestors 'none'"


class Event(Protocol):
    body: bytes
    headers: Mapping[str, str]
    method: str
    query: Mapping[str, str]
    path: str


def _header(event: Event, name: str) -> str | None:
    name = name.lower()
    for key, value in event.headers.items():
        if key.lower() == name:
            return value
    return None


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return {"statusCode": status, "body": body, "headers": {"Content-Type": "application/json", **(headers or {})}}


def error_response(exc: Text2PixiError) -> Response:
    """The one place where an error becomes an HTTP answer."""
    headers: dict[str, str] = {}
    if isinstance(exc, QueueFull):
        headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, MethodNotAllowed):
        headers["Allow"] = ", ".join(exc.allowed)
    return json_response(exc.http_status, exc.to_dict(), headers)


class Service:
    """Holds the settings and the lazily opened Redis/S3 clients of one function process."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self._jobs: Jobs | None = None
        self._store: Store | None = None
        self._origins = [o.strip() for o in self.settings.cors_origins.split(",") if o.strip()]

    @property
    def jobs(self) -> Jobs:
        if self._jobs is None:
            self._jobs = Jobs(self.settings)
        return self._jobs

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.settings)
        return self._store

    # --- cross-cutting -----------------------------------------------------------------

    def allowed_origin(self, origin: str | None) -> str | None:
        """The origin to echo in CORS headers, or ``None``; '*' in a pattern matches one DNS label."""
        if not origin:
            return None
        for pattern in self._origins:
            regex = re.escape(pattern).replace(r"\*", r"[A-Za-z0-9-]+")
            if pattern == "*" or re.fullmatch(regex, origin):
                return origin
        return None

    def authenticate(self, event: Event) -> None:
        expected = self.settings.resolved_api_key
        if not expected:
            raise ServiceUnavailable("the service has no API key configured (secret text2pixi-api-key)")
        given = _header(event, "X-API-Key") or ""
        if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
            raise Unauthorized("missing or wrong X-API-Key")

    def run(self, function: str, event: Event, handler: Callable[[Event], Response],
            methods: tuple[str, ...]) -> Response:
        """Auth, CORS, method checks, error mapping and metrics around one function's handler."""
        origin = self.allowed_origin(_header(event, "Origin"))
        method = (event.method or "GET").upper()
        try:
            if method == "OPTIONS":
                response = self._preflight(event, origin, methods)
            elif event.path.rstrip("/") == "/healthz" and method == "GET":
                response = json_response(200, {"status": "ok", "function": function})
            elif event.path.rstrip("/") == "/metrics" and method == "GET":
                self.authenticate(event)
                response = metrics_response()
            else:
                if method not in methods:
                    raise MethodNotAllowed(method, methods + ("OPTIONS",))
                self.authenticate(event)
                if len(event.body or b"") > self.settings.max_body_bytes:
                    raise BodyTooLarge(f"the body has {len(event.body)} bytes; the limit is "
                                       f"{self.settings.max_body_bytes}")
                response = handler(event)
        except Text2PixiError as exc:
            response = error_response(exc)
        except Exception:  # noqa: BLE001 - the last line of defence: log it, never leak it
            log.exception("%s: unexpected error", function)
            response = json_response(500, {"error": "internal_error", "message": "internal error"})
        if origin:
            response.setdefault("headers", {}).update({"Access-Control-Allow-Origin": origin, "Vary": "Origin"})
        metrics.REQUESTS.labels(function, str(response["statusCode"])).inc()
        return response

    def _preflight(self, event: Event, origin: str | None, methods: tuple[str, ...]) -> Response:
        if _header(event, "Origin") and not origin:
            raise OriginNotAllowed("this origin is not allowed to call the API")
        return {"statusCode": 204, "body": "", "headers": {
            "Access-Control-Allow-Methods": ", ".join(methods + ("OPTIONS",)),
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": "600",
        }}

    # --- translate ---------------------------------------------------------------------

    def parse_translate(self, event: Event) -> TranslateRequest:
        """A JSON body ``{"prompt", "options"}`` or a plain-text prompt (what faas-cli sends)."""
        raw = event.body or b""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequest("the body is not valid UTF-8") from None
        content_type = (_header(event, "Content-Type") or "").lower()
        if "json" in content_type or text.lstrip().startswith("{"):
            request = _json_object(text, TranslateRequest, '{"prompt": "..."}')
        else:
            request = TranslateRequest(prompt=text)
        prompt = check_prompt(request.prompt, self.settings.max_prompt_chars)
        return request.model_copy(update={"prompt": prompt})

    def _wait_seconds(self, event: Event) -> float:
        raw = event.query.get("wait")
        if raw in (None, ""):
            return 0.0
        try:
            value = float(raw)
        except ValueError:
            raise InvalidRequest("wait must be a number of seconds") from None
        if not 0 <= value <= self.settings.max_wait:
            raise InvalidRequest(f"wait must be between 0 and {self.settings.max_wait:g} seconds")
        return value

    def check_base(self, base: str) -> dict[str, Any]:
        """The finished result ``base`` names, or the 4xx that says why it cannot be continued from.

        The store is asked first: variants and hand edits are results without a queue job.
        """
        document = self.store.get_result(base)
        if document is not None:
            if document.get("error"):
                raise BaseFailed(f"result {base} failed ({document['error'].get('error')}), so it has no scene "
                                 "to continue from")
            return document
        job = self.jobs.fetch(base)
        if job is None:
            raise BaseNotFound(f"no result with id {base}; it never existed or has expired")
        view = self.jobs.view(job)
        if view.status in (JobStatus.QUEUED, JobStatus.STARTED):
            raise BaseNotFinished(f"job {base} is still {view.status.value}; refine it once it has finished")
        raise BaseFailed(f"job {base} ended without a stored scene ({view.status.value})")

    def translate(self, event: Event) -> Response:
        parts = [p for p in event.path.split("/") if p]
        if parts == ["edit"]:
            return self.edit(event)
        request = self.parse_translate(event)
        if request.base is not None:
            self.check_base(request.base)
        wait = self._wait_seconds(event)
        callback = _header(event, "X-Callback-Url")
        if callback:
            check_callback_url(callback, allow_private=self.settings.callback_allow_private)
        key = _header(event, "Idempotency-Key")
        if key is not None and not (0 < len(key) <= MAX_IDEMPOTENCY_KEY):
            raise InvalidRequest(f"Idempotency-Key must have 1 to {MAX_IDEMPOTENCY_KEY} characters")
        job, created = self.jobs.enqueue(request, callback_url=callback, idempotency_key=key)
        view = self.jobs.wait(job, wait) if wait else self.jobs.view(job)
        if view.status == JobStatus.FINISHED:
            return json_response(200, self._with_result(view).model_dump(mode="json"))
        if view.status == JobStatus.FAILED:
            return json_response(200, view.model_dump(mode="json"))
        status_url = f"/function/status/{job.id}"
        body = {"id": job.id, "status": view.status.value, "status_url": status_url,
                "queue_position": view.queue_position, "created": created}
        return json_response(202, body, {"Location": status_url})

    def edit(self, event: Event) -> Response:
        """Store a hand-edited scene as a new finished version whose parent is ``base`` (201)."""
        try:
            text = (event.body or b"").decode("utf-8")
        except UnicodeDecodeError:
            raise BadJson("the body is not valid JSON") from None
        request = _json_object(text, EditRequest, '{"base": "...", "scene": {...}}')
        try:
            scene = Scene.model_validate(request.scene)
        except ValidationError as exc:
            raise InvalidScene("the scene is not valid: " + "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'scene'}: {e['msg']}" for e in exc.errors()[:5])) from None
        parent = self.check_base(request.base)
        result_id = uuid.uuid4().hex
        js = render_module(scene)
        try:
            page: str | None = render_page(scene, load_pixi_js(self.settings.pixi_js_path),
                                           title=request.note or "edited scene")
        except PixiNotInstalled:  # a function image without pixi.js: the scene and module still count
            page = None
        document = {
            "id": result_id, "prompt": request.note or "edited by hand", "kind": "edit", "parent": request.base,
            "model": None, "scene": scene.model_dump(mode="json", exclude_defaults=True),
            "scene_json": scene.to_json(), "js": js, "page_sha256": sha256_text(page) if page else None,
            "timings": {}, "output_tokens": 0, "worker": None, "finished_at": _now(), "error": None,
            "changed": changed_paths(Scene.model_validate(parent["scene"]), scene),
        }
        self.store.put_result(result_id, document,
                              gzip.compress(page.encode("utf-8"), 6, mtime=0) if page is not None else None)
        self.jobs.enqueue_prepare(result_id, copies=1)  # a "refine" of a hand edit often follows
        view = JobView(id=result_id, status=JobStatus.FINISHED, ended_at=document["finished_at"], result=document)
        return json_response(201, view.model_dump(mode="json"), {"Location": f"/function/status/{result_id}"})

    # --- status ------------------------------------------------------------------------

    def history(self, result_id: str) -> Response:
        """``GET /status/ID/history``: the chain of versions ending at ID, oldest first, with their scenes."""
        chain = self.store.history(result_id)
        if not chain:
            raise NotFound(f"no stored result with id {result_id!r}")
        versions = [{key: document.get(key) for key in ("id", "parent", "kind", "prompt", "finished_at", "scene",
                                                       "changed", "error")} for document in chain]
        return json_response(200, {"id": result_id, "versions": versions})

    def _with_result(self, view: JobView) -> JobView:
        document = self.store.get_result(view.id)
        if document is None:
            return view.model_copy(update={"status": JobStatus.FAILED, "error": {
                "error": "result_missing", "message": "the job finished but its result is not in storage"}})
        return view.model_copy(update={"result": document})

    def status(self, event: Event) -> Response:
        parts = [p for p in event.path.split("/") if p]
        job_id = event.query.get("id") or (parts[0] if parts else "")
        want_html = event.query.get("format") == "html" or (len(parts) > 1 and parts[1] == "html")
        if not job_id:
            raise InvalidRequest("give the job id as ?id=ID or /status/ID")
        if not JOB_ID.match(job_id):
            raise NotFound(f"no job with id {job_id[:64]!r}")
        if len(parts) > 1 and parts[1] == "history":
            return self.history(job_id)
        self.jobs.recover_abandoned()
        job = self.jobs.fetch(job_id)
        if job is not None:
            view = self.jobs.view(job)
            if view.status == JobStatus.FINISHED:
                view = self._with_result(view)
        else:  # Redis forgot it (expired or lost): the stored result is the record
            document = self.store.get_result(job_id)
            if document is None:
                raise NotFound(f"no job with id {job_id!r}")
            error = document.get("error")
            view = JobView(id=job_id, status=JobStatus.FAILED if error else JobStatus.FINISHED, error=error,
                           ended_at=document.get("finished_at"), result=None if error else document)
        if want_html:
            if view.status != JobStatus.FINISHED:
                raise NotFound(f"job {job_id} has no page (status {view.status.value})")
            page = self.store.get_page(job_id)
            if page is None:
                raise NotFound(f"job {job_id} has no stored page")
            return {"statusCode": 200, "body": page, "headers": {
                "Content-Type": "text/html; charset=utf-8", "Content-Security-Policy": PAGE_CSP,
                "X-Content-Type-Options": "nosniff"}}
        return json_response(200, view.model_dump(mode="json"))

    # --- warmup ------------------------------------------------------------------------

    def warmup(self, event: Event) -> Response:
        wait = self._wait_seconds(event) or self.settings.max_wait
        job = self.jobs.enqueue_warmup()
        view = self.jobs.wait(job, wait)
        if view.status != JobStatus.FINISHED and view.status != JobStatus.FAILED:
            workers = self.jobs.worker_count()
            if not workers:
                raise ServiceUnavailable(f"no worker took the warm-up within {wait:g} s; are workers running?")
            # Workers exist but are all busy: busy workers are warm, and the warm-up stays queued.
            return json_response(202, {"id": job.id, "status": view.status.value, "workers": workers,
                                       "message": "every worker is busy (and so warm); the warm-up is queued"})
        outcome = job.return_value() if view.status == JobStatus.FINISHED else None
        if not outcome:
            raise ServiceUnavailable("the warm-up job failed on the worker; see the worker logs")
        return json_response(200, outcome)


def _json_object(text: str, model: type[RequestT], example: str) -> RequestT:
    """Parse a JSON object body into ``model``: 400 ``bad_json`` or the field's own error otherwise."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise BadJson("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadJson(f"the JSON body must be an object like {example}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _request_error(exc) from None


def _request_error(exc: ValidationError) -> Text2PixiError:
    """Map pydantic's complaints about the request body to our named errors."""
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden" and loc.startswith("options."):
            return UnknownOption(f"unknown option {loc.split('.', 1)[1]!r}; known: max_tokens, temperature, seed")
        if err["type"] == "extra_forbidden":
            return InvalidRequest(f"unknown field {loc!r}; the body is {{\"prompt\": ..., \"options\": {{...}}, "
                                  f"\"base\": ..., \"variants\": ...}}")
        if loc == "prompt" and err["type"] == "missing":
            return InvalidRequest('the body needs a "prompt"')
        return InvalidRequest(f"{loc or 'body'}: {err['msg']}")
    return InvalidRequest("the request body is not valid")


def _now() -> str:
    return datetime.now(UTC).isoformat()


@lru_cache(maxsize=1)
def get_service() -> Service:
    return Service()


def handle_translate(event: Event) -> Response:
    service = get_service()
    return service.run("translate", event, service.translate, ("POST",))


def handle_status(event: Event) -> Response:
    service = get_service()
    return service.run("status", event, service.status, ("GET",))


def handle_warmup(event: Event) -> Response:
    service = get_service()
    return service.run("warmup", event, service.warmup, ("GET", "POST"))


def metrics_response() -> Response:
    body, content_type = metrics.exposition()
    return {"statusCode": 200, "body": body, "headers": {"Content-Type": content_type}}


