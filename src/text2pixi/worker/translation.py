"""The ``translate`` job: generate (or refine) the scenes, render them, store their result documents, call back."""

from __future__ import annotations

import logging
import time
from typing import Any

from rq import get_current_job
from rq.job import Job

from text2pixi.core.codegen import render_module, render_page
from text2pixi.core.contracts import ResultDocument, Timings, TranslateRequest, utc_now
from text2pixi.core.errors import BaseFailed, BaseNotFound, ServiceUnavailable, Text2PixiError
from text2pixi.core.scene import Scene
from text2pixi.core.scene_diff import changed_paths
from text2pixi.core.v2 import V2Scene
from text2pixi.engine import Translation, Translator
from text2pixi.service import metrics
from text2pixi.service.callbacks import deliver
from text2pixi.service.store import Store, sha256_text, variant_id
from text2pixi.settings import Settings
from text2pixi.worker.progress import JobProgress, expected_tokens, record
from text2pixi.worker.variants import generate
from text2pixi.worker.warm import Warm

log = logging.getLogger(__name__)


def run_translation(payload: dict[str, Any]) -> dict[str, Any]:
    """The RQ job: translate (or refine), render, store the result(s) in S3, call back; returns an outcome.

    A generation error (the model could not produce a valid scene, or the base is gone) is an outcome,
    not a crash: it is stored and reported as ``failed`` without RQ retrying a deterministic failure.
    Crashes, timeouts and storage errors raise, so RQ's retries apply.
    """
    engine, store, settings = Warm.ready()
    job = get_current_job()
    job_id = job.id if job else "local"
    if job is not None:
        job.meta["runs"] = int(job.meta.get("runs", 0)) + 1
        job.meta["worker"] = Warm.worker_name
        job.save_meta()
    request = TranslateRequest.model_validate(payload)
    started = time.perf_counter()
    progress: JobProgress | None = None
    try:
        base, base_source = _base_scene(store, request)
        if job is not None:  # progress events (worker/progress.py): "started" first, then as the model writes
            progress = JobProgress(job.connection, job_id, ttl=settings.result_ttl, worker=Warm.worker_name,
                                   expected=expected_tokens(job.connection, engine.model_id, base,
                                                            settings.scene_language),
                                   reason=lambda n: _attempt_error(engine, n))
            progress.start()
        results = generate(engine, request, base, settings, job_id, progress, base_source=base_source)
    except Text2PixiError as exc:
        if isinstance(exc, ServiceUnavailable):
            raise  # storage trouble: let RQ retry
        log.info("job %s: no scene: %s", job_id, exc)
        metrics.observe_job("failed", job, time.perf_counter() - started)
        error = exc.to_dict()
        failed = ResultDocument(id=job_id, prompt=request.prompt, kind=request.kind, parent=request.base,
                                model=engine.model_id, worker=Warm.worker_name, finished_at=utc_now(), error=error)
        store.put_result(job_id, failed.as_dict(), None)
        _callback(job, {"id": job_id, "status": "failed", "error": error}, exc.http_status, started, settings)
        return {"ok": False, "error": error}
    t_render = time.perf_counter()
    documents: list[ResultDocument] = []
    pages: list[str] = []
    for n, result in enumerate(results, start=1):
        result_id = job_id if n == 1 else variant_id(job_id, n)
        js = render_module(result.scene)
        page = render_page(result.scene, Warm.pixi_js, title=request.prompt)
        document = _document(result_id, request, result, js, page)
        if base is not None:  # the compiled scenes' difference, for v1 and v2 alike (the playground shows it)
            document.changed = changed_paths(base, result.scene)
        if request.variants > 1:
            document.variant, document.variant_of = n, job_id
        documents.append(document)
        pages.append(page)
    document = documents[0]
    if request.variants > 1:
        document.variants_requested = request.variants
        document.variants = [d.summary() for d in documents]
    t_store = time.perf_counter()
    document.timings.render_s = round(t_store - t_render, 4)
    # Variants first, the job's own document last: a readable job document means every variant is stored.
    for other, page in list(zip(documents, pages, strict=True))[::-1]:
        store.put_result(other.id, other.as_dict(), Warm.pages.compress(page))
    elapsed = time.perf_counter() - started
    wall = sum(r.wall_s for r in results)
    tokens = sum(r.output_tokens for r in results)
    log.info("job %s: render %.1f ms, store %.1f ms, total %.1f ms beyond the engine", job_id,
             (t_store - t_render) * 1000, (time.perf_counter() - t_store) * 1000, (elapsed - wall) * 1000)
    metrics.observe_attempts(a for r in results for a in r.attempts)
    metrics.observe_job("finished", job, elapsed)
    log.info("job %s: %d scene(s), %d tokens, %.2fs%s", job_id, len(results), tokens, elapsed,
             f", base {request.base}" if request.base else "")
    _callback(job, {"id": job_id, "status": "finished", "result": document.as_dict()}, 200, started, settings)
    Warm.last_scene = (job_id, results[0].scene, _source(results[0]))
    if job is not None:
        record(job.connection, engine.model_id, results[0].attempts[-1].output_tokens,
               len(results[0].model_scene_json or results[0].scene_json), fresh=base is None)
    if results[0].checkpoint:
        metrics.CHECKPOINTS.labels(results[0].checkpoint).inc()
    return {"ok": True, "output_tokens": tokens, "wall_s": round(wall, 4), "variants": len(results)}


def _document(result_id: str, request: TranslateRequest, result: Translation, js: str, page: str) -> ResultDocument:
    """The result document of one generated scene (the job adds ``changed`` and the variant fields).

    Every new document names its ``language``; a v2 one carries its ``source``, and a v2 refinement its
    ``patch`` and the ``source_changed`` paths the patch touched.
    """
    v2: dict[str, Any] = {}
    if result.language == "v2":
        v2["source"] = result.source
        if result.patch is not None:
            v2 |= {"patch": result.patch, "source_changed": result.source_changed}
    return ResultDocument(
        id=result_id,
        prompt=request.prompt,
        kind=request.kind,
        parent=request.base,
        model=result.model,
        language=result.language,
        scene=result.scene.model_dump(mode="json", exclude_defaults=True),
        **v2,
        scene_json=result.scene_json,
        js=js,
        page_sha256=sha256_text(page),
        timings=Timings(wall_s=result.wall_s, prime_s=result.prime_s, checkpoint=result.checkpoint,
                        attempts=[a.model_dump() for a in result.attempts]),
        output_tokens=result.output_tokens,
        reverted=result.reverted,
        model_scene_json=result.model_scene_json,
        **({"fixes": result.fixes} if result.fixes else {}),
        worker=Warm.worker_name,
        finished_at=utc_now(),
        error=None,
    )


def _source(result: Translation) -> V2Scene | None:
    """A v2 translation's source as a V2Scene (what a refinement of it patches); None for v1 (or, defensively,
    a source that does not validate: preparing a head is only a speed-up, never a reason to fail a stored job)."""
    if result.language != "v2" or not result.source:
        return None
    try:
        return V2Scene.model_validate(result.source)
    except ValueError:
        log.warning("the v2 source of a translation does not validate; its refinement head is not prepared")
        return None


def _attempt_error(engine: Translator, attempt: int) -> str | None:
    """Why attempt ``attempt`` (from 1) of the running translation was rejected, for a ``reask`` event."""
    attempts = engine.last_attempts
    return attempts[attempt - 1].error if 0 < attempt <= len(attempts) else None


def _base_scene(store: Store, request: TranslateRequest) -> tuple[Scene | None, V2Scene | None]:
    """The scene a refinement continues from, read from the store (the service checked it exists).

    Returns the compiled scene and, for a v2 result, its source; a v1 result (stored before v2, or a hand
    edit of the compiled scene) has no source, and the engine converts its scene (``core.v2.from_v1``).
    """
    if request.base is None:
        return None, None
    document = store.get_result(request.base)
    if document is None:
        raise BaseNotFound(f"no stored result with id {request.base}; it may have expired")
    if document.get("error"):
        raise BaseFailed(f"result {request.base} has no scene: it failed ({document['error'].get('error')})")
    return base_of(request.base, document)


def base_of(result_id: str, document: dict[str, Any]) -> tuple[Scene, V2Scene | None]:
    """A stored result's compiled scene and v2 source (None for v1), or :class:`BaseFailed` if either is invalid."""
    try:
        scene = Scene.model_validate(document.get("scene"))
    except ValueError as exc:  # pydantic's ValidationError: a document from an older schema
        raise BaseFailed(f"the scene of result {result_id} no longer validates") from exc
    if document.get("language", "v1") != "v2":
        return scene, None
    try:
        return scene, V2Scene.model_validate(document.get("source"))
    except ValueError as exc:
        raise BaseFailed(f"the v2 source of result {result_id} no longer validates") from exc


def _callback(job: Job | None, body: dict[str, Any], status: int, started: float, settings: Settings) -> None:
    """The one delivery of a ``/function/translate`` call's X-Callback-Url, with the queue-worker's headers.

    ``X-Call-Id`` is the job id (the ``id`` of the 202 answer); ``X-Function-Status`` is the HTTP status
    the result would have on its own: 200, or the error's status (e.g. 422 when no valid scene came).
    """
    url = (job.meta.get("callback_url") if job is not None else None) or None
    if url:
        headers = {"X-Call-Id": body["id"], "X-Function-Name": "translate", "X-Function-Status": str(status),
                   "X-Duration-Seconds": f"{time.perf_counter() - started:f}", "X-Text2Pixi-Job-Id": body["id"]}
        deliver(url, body, headers, allow_private=settings.callback_allow_private, timeout=settings.callback_timeout)
