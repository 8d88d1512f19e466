"""The three functions' logic: ``translate``, ``status`` and ``warmup``, as pure event handlers.

``functions/<name>/handler.py`` calls :func:`handle_translate`, :func:`handle_status` or
:func:`handle_warmup` with the template's ``event`` and returns what they return (``statusCode``,
``body``, ``headers``). What every function shares at the HTTP edge (the API key, CORS, method and
size checks, request parsing, errors as answers) is :mod:`text2pixi.service.http`; this module is
what each function does once the request is let in.
"""

from __future__ import annotations

import gzip
import uuid
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from text2pixi.core.codegen import render_module, render_page
from text2pixi.core.contracts import (
    JOB_ID,
    EditRequest,
    JobStatus,
    JobView,
    ResultDocument,
    Timings,
    utc_now,
)
from text2pixi.core.errors import (
    BadJson,
    BaseFailed,
    BaseNotFinished,
    BaseNotFound,
    InvalidRequest,
    InvalidScene,
    NotFound,
    PixiNotInstalled,
    ServiceUnavailable,
    validation_message,
)
from text2pixi.core.scene import Scene
from text2pixi.core.scene_diff import changed_paths
from text2pixi.core.v2 import V2Scene, compile_scene
from text2pixi.service import downloads
from text2pixi.service.callbacks import check_callback_url
from text2pixi.service.events import EventStreams
from text2pixi.service.http import Event, Gate, Response, header, json_object, json_response
from text2pixi.service.jobs import Jobs
from text2pixi.service.pixi_bundle import load_pixi_js
from text2pixi.service.store import Store, sha256_text
from text2pixi.settings import Settings

MAX_IDEMPOTENCY_KEY = 200
EDIT_EXAMPLE = '{"base": "...", "scene": {...}} or {"base": "...", "source": {...}}'
HISTORY_KEYS = ("id", "parent", "kind", "prompt", "finished_at", "language", "scene", "source", "changed", "error")
"""What ``history`` lists of each version: the compiled ``scene`` always, a v2 version's ``source`` too."""
# The stored page inlines its scripts and allows them by hash; this keeps it inert when served.
PAGE_CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; " \
           "worker-src blob:; connect-src 'none'; frame-ancestors 'none'"



QUEUE_WORKER_AGENT = "openfaas-ce/nats-queue-worker"


def callback_for(event: Event) -> str | None:
    """The ``X-Callback-Url`` that translate should deliver the job's result to, if any.

    OpenFaaS CE's queue-worker passes the caller's headers on and then POSTs the function's own answer to the
    same URL; honouring the header here too would deliver twice. One call, one delivery: through the
    queue-worker the URL is the queue-worker's."""
    if (header(event, "User-Agent") or "").startswith(QUEUE_WORKER_AGENT):
        return None
    return header(event, "X-Callback-Url")


class Service(Gate):
    """The functions of one process: its settings (:class:`Gate`) and its lazily opened Redis/S3 clients."""

    def __init__(self, settings: Settings | None = None) -> None:
        super().__init__(settings)
        self._jobs: Jobs | None = None
        self._store: Store | None = None
        self._events: EventStreams | None = None

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

    @property
    def events(self) -> EventStreams:
        if self._events is None:
            self._events = EventStreams(self.settings, self.jobs, self.store)
        return self._events

    # --- translate ---------------------------------------------------------------------

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
        wait = self.wait_seconds(event)
        callback = callback_for(event)
        if callback:
            check_callback_url(callback, allow_private=self.settings.callback_allow_private)
        key = header(event, "Idempotency-Key")
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
        """Store a hand-edited scene as a new finished version whose parent is ``base`` (201).

        ``scene`` is a compiled (v1) scene, stored as language v1; ``source`` a v2 scene, compiled
        (a :class:`SceneCompileError` is a 400 ``invalid_scene`` with the compiler's message) and stored as
        language v2 with its source. Either way ``changed`` compares the compiled scenes.
        """
        try:
            text = (event.body or b"").decode("utf-8")
        except UnicodeDecodeError:
            raise BadJson("the body is not valid JSON") from None
        request = json_object(text, EditRequest, EDIT_EXAMPLE)
        scene, source = edited_scene(request)
        parent = self.check_base(request.base)
        result_id = uuid.uuid4().hex
        js = render_module(scene)
        try:
            page: str | None = render_page(scene, load_pixi_js(self.settings.pixi_js_path),
                                           title=request.note or "edited scene")
        except PixiNotInstalled:  # a function image without pixi.js: the scene and module still count
            page = None
        v2: dict[str, Any] = {} if source is None else {
            "source": source.model_dump(mode="json", exclude_defaults=True, by_alias=True)}
        document = ResultDocument(
            id=result_id, prompt=request.note or "edited by hand", kind="edit", parent=request.base,
            model=None, language="v1" if source is None else "v2",
            scene=scene.model_dump(mode="json", exclude_defaults=True), **v2,
            scene_json=scene.to_json(), js=js, page_sha256=sha256_text(page) if page else None,
            timings=Timings(), output_tokens=0, worker=None, finished_at=utc_now(), error=None,
            changed=changed_paths(Scene.model_validate(parent["scene"]), scene),
        )
        self.store.put_result(result_id, document.as_dict(),
                              gzip.compress(page.encode("utf-8"), 6, mtime=0) if page is not None else None)
        self.jobs.enqueue_prepare(result_id, copies=1)  # a "refine" of a hand edit often follows
        view = JobView(id=result_id, status=JobStatus.FINISHED, ended_at=document.finished_at,
                       result=document.as_dict())
        return json_response(201, view.model_dump(mode="json"), {"Location": f"/function/status/{result_id}"})

    # --- status ------------------------------------------------------------------------

    def history(self, result_id: str) -> Response:
        """``GET /status/ID/history``: the chain of versions ending at ID, oldest first, with their scenes."""
        chain = self.store.history(result_id)
        if not chain:
            raise NotFound(f"no stored result with id {result_id!r}")
        versions = [{key: document.get(key, "v1" if key == "language" else None) for key in HISTORY_KEYS}
                    for document in chain]
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
        if len(parts) > 1 and parts[1] == "events":  # Server-Sent Events (service/events.py)
            return self.events.response(job_id, header(event, "Last-Event-ID") or event.query.get("last_event_id"))
        export = downloads.requested(parts, event.query)  # /status/ID/{lottie,gif,mp4,webm,png}: 400 on bad options
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
        if export is not None:
            return downloads.serve(self.store, view, export, event)
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
        wait = self.wait_seconds(event) or self.settings.max_wait
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


def edited_scene(request: EditRequest) -> tuple[Scene, V2Scene | None]:
    """The compiled scene of an edit and its v2 source (None for a compiled/v1 edit), or the 400 that says why not."""
    if (request.scene is None) == (request.source is None):
        raise InvalidRequest('give exactly one of "scene" (a compiled/v1 scene, with "objects") and "source" '
                             '(a v2 scene, with "items"), not ' + ("both" if request.scene is not None else "neither"))
    if request.scene is not None:
        if "items" in request.scene and "objects" not in request.scene:
            raise InvalidScene('the scene has "items" but no "objects": it is a v2 scene; send it as "source"')
        try:
            return Scene.model_validate(request.scene), None
        except ValidationError as exc:
            raise InvalidScene.from_validation(exc) from None
    try:
        source = V2Scene.model_validate(request.source)
    except ValidationError as exc:
        raise InvalidScene(f"the v2 source is not valid: {validation_message(exc, root='source')}") from None
    return compile_scene(source), source  # SceneCompileError is an InvalidScene: 400 with the compiler's message


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
