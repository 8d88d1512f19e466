"""Warm RQ workers: load the model once, keep it and its prompt cache across jobs.

RQ's default ``Worker`` forks a child per job, which would lose the KV cache (and with
copy-on-write, every page it touches). :class:`WarmWorker` is a ``SimpleWorker`` (jobs run in
the worker process) that also sends heartbeats from a side thread while a job runs, with a short
TTL: if the process is killed mid-job, its entry in the started-job registry expires within
seconds and the next registry clean-up (every ``maintenance_interval`` seconds in any worker, and
on every ``status`` call) requeues the job while it has retries left, or fails it with a reason.
RQ's defaults would leave it "started" for up to ten minutes.

Idle workers also get refinements ready (``text2pixi.engine.checkpoints``): after a job, a worker with
nothing queued evaluates the head of a refinement of the scene it just wrote and keeps its KV state,
and it queues a ``prepare`` job on a low-priority queue so that another idle worker does the same (RQ
hands the next job to whichever worker waits longest, usually not the one that just finished).
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

import redis
from prometheus_client import start_http_server
from rq import Queue, SimpleWorker, get_current_job, worker_registration
from rq.executions import Execution
from rq.job import Job
from rq.registry import clean_registries
from rq.utils import now

from text2pixi import registry
from text2pixi.core.codegen import render_module, render_page
from text2pixi.core.errors import BaseFailed, BaseNotFound, GenerationError, ServiceUnavailable, Text2PixiError
from text2pixi.core.refinement import changed_paths
from text2pixi.core.scene import Scene
from text2pixi.engine import Engine, Translation
from text2pixi.service import logs, metrics
from text2pixi.service.callbacks import deliver
from text2pixi.service.jobs import Jobs, TranslateRequest, cleaning_lock, signal_done
from text2pixi.service.pixi_bundle import load_pixi_js
from text2pixi.service.store import PageCompressor, Store, sha256_text, variant_id
from text2pixi.settings import Settings, get_settings

log = logging.getLogger(__name__)

VARIANT_TEMPERATURE = 0.8
"""Sampling temperature of variants 2..N (at least): the first is the greedy scene, the others explore."""
VARIANT_SEED_STRIDE = 7919
"""Seeds of variant k are ``seed + k * stride (+ retry)``: far apart, and reproducible from the request."""
VARIANT_EXTRA_TRIES = 2
"""Further generations for one variant whose scene repeats an earlier one (distinct = different scene JSON)."""
PREPARE_POLL_S = 0.05
"""How often a worker preparing a refinement head looks for translations to give way to."""


class _Warm:
    """The process-wide warm state a job function uses (set up once by :func:`main`)."""

    engine: Engine | None = None
    store: Store | None = None
    settings: Settings | None = None
    pixi_js: str = ""
    pages: PageCompressor = PageCompressor("")
    prime_s: float = 0.0
    worker_name: str = ""
    last_scene: tuple[str, Scene] | None = None  # the last job's (result id, scene): a refinement may follow


def setup(settings: Settings) -> Engine:
    """Load the model (from S3 first when configured), prime the prompt cache, open the store."""
    store = Store(settings)
    if settings.model_source == "s3" and not registry.is_path_like(settings.model):
        store.pull_model(settings.model)
    engine = Engine(settings)
    _Warm.prime_s = engine.prime()
    _Warm.engine, _Warm.store, _Warm.settings = engine, store, settings
    _Warm.pixi_js = load_pixi_js(settings.pixi_js_path)
    _Warm.pages = PageCompressor(_Warm.pixi_js)
    metrics.MODEL_LOAD_SECONDS.set(engine.load_s)
    log.info("worker warm: %s loaded in %.1fs, prefix primed in %.1fs", engine.model_id, engine.load_s, _Warm.prime_s)
    return engine


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _document(job_id: str, request: TranslateRequest, result: Translation, js: str, page: str) -> dict[str, Any]:
    return {
        "id": job_id,
        "prompt": request.prompt,
        "kind": "refine" if request.base else "generate",
        "parent": request.base,
        "model": result.model,
        "scene": result.scene.model_dump(mode="json", exclude_defaults=True),
        "scene_json": result.scene_json,
        "js": js,
        "page_sha256": sha256_text(page),
        "timings": {"wall_s": result.wall_s, "prime_s": result.prime_s, "checkpoint": result.checkpoint,
                    "attempts": [a.model_dump() for a in result.attempts]},
        "output_tokens": result.output_tokens,
        "reverted": result.reverted,
        "model_scene_json": result.model_scene_json,
        "worker": _Warm.worker_name,
        "finished_at": _now(),
        "error": None,
    }


def _base_scene(store: Store, request: TranslateRequest) -> Scene | None:
    """The scene a refinement continues from, read from the store (the service checked it exists)."""
    if request.base is None:
        return None
    document = store.get_result(request.base)
    if document is None:
        raise BaseNotFound(f"no stored result with id {request.base}; it may have expired")
    if document.get("error"):
        raise BaseFailed(f"result {request.base} has no scene: it failed ({document['error'].get('error')})")
    try:
        return Scene.model_validate(document.get("scene"))
    except ValueError as exc:  # pydantic's ValidationError: a document from an older schema
        raise BaseFailed(f"the scene of result {request.base} no longer validates") from exc


def _generate(engine: Engine, request: TranslateRequest, base: Scene | None, settings: Settings,
              job_id: str) -> list[Translation]:
    """The job's scenes: the first as asked (an error here fails the job), then distinct variants.

    Variant k (2..N) is sampled at :data:`VARIANT_TEMPERATURE` or more with its own seed; a variant whose
    scene JSON repeats an earlier one is generated again, up to :data:`VARIANT_EXTRA_TRIES` times, and a
    variant the model cannot produce is left out (the document says how many were asked for).
    """
    options = request.options
    first = engine.translate(request.prompt, max_tokens=options.max_tokens, temperature=options.temperature,
                             seed=options.seed, base=base)
    scenes, seen = [first], {first.scene_json}
    seed0 = settings.seed if options.seed is None else options.seed
    for k in range(2, request.variants + 1):
        for extra in range(1 + VARIANT_EXTRA_TRIES):
            seed = (seed0 + k * VARIANT_SEED_STRIDE + extra) % 2**31
            try:
                result = engine.translate(request.prompt, max_tokens=options.max_tokens, seed=seed, base=base,
                                          temperature=max(options.temperature or 0.0, VARIANT_TEMPERATURE))
            except GenerationError as exc:
                log.info("job %s: variant %d (seed %d) failed: %s", job_id, k, seed, exc)
                continue
            if result.scene_json not in seen:
                seen.add(result.scene_json)
                scenes.append(result)
                break
            log.info("job %s: variant %d (seed %d) repeats an earlier scene", job_id, k, seed)
    return scenes


def run_translation(payload: dict[str, Any]) -> dict[str, Any]:
    """The RQ job: translate (or refine), render, store the result(s) in S3, call back; returns an outcome.

    A generation error (the model could not produce a valid scene, or the base is gone) is an outcome,
    not a crash: it is stored and reported as ``failed`` without RQ retrying a deterministic failure.
    Crashes, timeouts and storage errors raise, so RQ's retries apply.
    """
    engine, store, settings = _Warm.engine, _Warm.store, _Warm.settings
    if engine is None or store is None or settings is None:
        raise RuntimeError("worker is not warm: run jobs through `text2pixi worker`")
    job = get_current_job()
    job_id = job.id if job else "local"
    if job is not None:
        job.meta["runs"] = int(job.meta.get("runs", 0)) + 1
        job.meta["worker"] = _Warm.worker_name
        job.save_meta()
    request = TranslateRequest.model_validate(payload)
    started = time.perf_counter()
    try:
        base = _base_scene(store, request)
        results = _generate(engine, request, base, settings, job_id)
    except Text2PixiError as exc:
        if isinstance(exc, ServiceUnavailable):
            raise  # storage trouble: let RQ retry
        log.info("job %s: no scene: %s", job_id, exc)
        metrics.JOBS.labels("failed").inc()
        error = exc.to_dict()
        store.put_result(job_id, {"id": job_id, "prompt": request.prompt, "model": engine.model_id,
                                  "kind": "refine" if request.base else "generate", "parent": request.base,
                                  "error": error, "finished_at": _now(),
                                  "worker": _Warm.worker_name}, None)
        _callback(job, {"id": job_id, "status": "failed", "error": error}, settings)
        return {"ok": False, "error": error}
    t_render = time.perf_counter()
    documents: list[dict[str, Any]] = []
    pages: list[str] = []
    for n, result in enumerate(results, start=1):
        result_id = job_id if n == 1 else variant_id(job_id, n)
        js = render_module(result.scene)
        page = render_page(result.scene, _Warm.pixi_js, title=request.prompt)
        document = _document(result_id, request, result, js, page)
        if base is not None:
            document["changed"] = changed_paths(base, result.scene)
        if request.variants > 1:
            document.update(variant=n, variant_of=job_id)
        documents.append(document)
        pages.append(page)
    document = documents[0]
    if request.variants > 1:
        document["variants_requested"] = request.variants
        document["variants"] = [{"id": d["id"], "variant": d["variant"], "scene": d["scene"],
                                 "scene_json": d["scene_json"], "js": d["js"], "page_sha256": d["page_sha256"],
                                 "output_tokens": d["output_tokens"]} for d in documents]
    t_store = time.perf_counter()
    document["timings"]["render_s"] = round(t_store - t_render, 4)
    # Variants first, the job's own document last: a readable job document means every variant is stored.
    for other, page in list(zip(documents, pages, strict=True))[::-1]:
        store.put_result(other["id"], other, _Warm.pages.compress(page))
    elapsed = time.perf_counter() - started
    wall = sum(r.wall_s for r in results)
    tokens = sum(r.output_tokens for r in results)
    log.info("job %s: render %.1f ms, store %.1f ms, total %.1f ms beyond the engine", job_id,
             (t_store - t_render) * 1000, (time.perf_counter() - t_store) * 1000, (elapsed - wall) * 1000)
    metrics.JOB_SECONDS.observe(elapsed)
    metrics.TOKENS_PER_SECOND.observe(results[0].attempts[-1].decode_tps)
    metrics.JOBS.labels("finished").inc()
    log.info("job %s: %d scene(s), %d tokens, %.2fs%s", job_id, len(results), tokens, elapsed,
             f", base {request.base}" if request.base else "")
    _callback(job, {"id": job_id, "status": "finished", "result": document}, settings)
    _Warm.last_scene = (job_id, results[0].scene)
    if results[0].checkpoint:
        metrics.CHECKPOINTS.labels(results[0].checkpoint).inc()
    return {"ok": True, "output_tokens": tokens, "wall_s": round(wall, 4), "variants": len(results)}


def run_prepare(result_id: str) -> dict[str, Any]:
    """The ``prepare`` job: keep the KV checkpoint of a refinement of result ``result_id`` (best effort).

    Skipped when other translations are waiting (they come first) or the result has no scene; never raises
    for those, since nobody waits for this job.
    """
    engine, store, settings = _Warm.engine, _Warm.store, _Warm.settings
    if engine is None or store is None or settings is None:
        raise RuntimeError("worker is not warm: run jobs through `text2pixi worker`")
    job = get_current_job()
    jobs = Jobs(settings, job.connection) if job is not None else None
    if jobs is not None and jobs.others_waiting(result_id):
        return {"ok": True, "prepared": False, "reason": "translations are waiting"}
    document = store.get_result(result_id)
    if not document or document.get("error") or not document.get("scene"):
        return {"ok": True, "prepared": False, "reason": "no scene"}
    prepared = _prepare(engine, Scene.model_validate(document["scene"]), result_id, jobs)
    return {"ok": True, "prepared": prepared, "worker": _Warm.worker_name}


def _prepare(engine: Engine, scene: Scene, result_id: str, jobs: Jobs | None) -> bool:
    """Prepare a refinement head, giving way within milliseconds to a translation that arrives meanwhile."""
    cancel, done = threading.Event(), threading.Event()

    def watch() -> None:
        while jobs is not None and not done.wait(PREPARE_POLL_S):
            try:
                if jobs.others_waiting(result_id):
                    cancel.set()
                    return
            except redis.RedisError:
                return  # no news from the queue: finish the preparation

    watcher = threading.Thread(target=watch, name="prepare-watch", daemon=True)
    watcher.start()
    t0 = time.perf_counter()
    try:
        prepared = engine.prepare_refinement(scene, cancel=cancel)
    finally:
        done.set()
        watcher.join(timeout=5)
    if prepared:
        metrics.CHECKPOINTS.labels("prepared").inc()
        log.info("refinement head of %s prepared in %.2fs (%d kept)", result_id, time.perf_counter() - t0,
                 len(engine.checkpoints))
    elif cancel.is_set():
        metrics.CHECKPOINTS.labels("cancelled").inc()
        log.info("refinement head of %s: preparation gave way to a translation after %.2fs", result_id,
                 time.perf_counter() - t0)
    return prepared


def _callback(job: Job | None, body: dict[str, Any], settings: Settings) -> None:
    url = (job.meta.get("callback_url") if job is not None else None) or None
    if url:
        deliver(url, body, {"X-Text2Pixi-Job-Id": body["id"], "X-Function-Status": body["status"]},
                allow_private=settings.callback_allow_private, timeout=settings.callback_timeout)


def run_warmup() -> dict[str, Any]:
    """The warm-up job: make sure the model is loaded and primed, and say how long that took."""
    engine = _Warm.engine
    if engine is None:
        raise RuntimeError("worker is not warm")
    already = engine.prefix_tokens > 0
    prime_s = 0.0 if already else engine.prime()
    return {"ok": True, "worker": _Warm.worker_name, "model": engine.model_id, "load_s": round(engine.load_s, 3),
            "prime_s": round(prime_s if not already else _Warm.prime_s, 3), "already_warm": already,
            "prefix_tokens": engine.prefix_tokens, "n_threads": engine.settings.n_threads,
            "max_draft": engine.max_draft}


class WarmWorker(SimpleWorker):
    """A SimpleWorker that heartbeats from a side thread while a job runs (see the module doc)."""

    def __init__(self, *args: Any, beat_interval: int = 5, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.beat_interval = beat_interval
        self._execution: Execution | None = None

    def get_heartbeat_ttl(self, job: Job, working_time: float = 0.0) -> int:
        return self.beat_interval * 4

    @property
    def dequeue_timeout(self) -> int:
        """Block on the queue no longer than the maintenance interval.

        RQ blocks an idle worker for ``worker_ttl - 15`` (405) seconds and only runs maintenance
        between blocks, so with every live worker idle, a killed worker's job would wait minutes
        for its recovery (unless someone polled ``status``).
        """
        return max(1, min(int(super().dequeue_timeout), int(self.maintenance_interval)))

    def clean_registries(self) -> None:
        """RQ's clean-up under a short, always-released lock (``jobs.MAINTENANCE_LOCK_TTL``)."""
        for queue in self.queues:
            with cleaning_lock(queue) as acquired:
                if acquired:
                    clean_registries(queue, self._exc_handlers)
                    worker_registration.clean_worker_registry(queue)
                    queue.intermediate_queue.cleanup(self, queue)
        self.last_cleaned_at = now()  # type: ignore[assignment]  # RQ annotates it as None only

    def prepare_execution(self, job: Job) -> Execution:
        self._execution = super().prepare_execution(job)
        return self._execution

    def execute_job(self, job: Job, queue: Queue) -> None:
        stop = threading.Event()
        beat = threading.Thread(target=self._beat, args=(job, stop), name="heartbeat", daemon=True)
        beat.start()
        try:
            super().execute_job(job, queue)
        finally:
            stop.set()
            beat.join(timeout=5)
            self._execution = None

    def handle_job_success(self, job: Job, queue: Queue, started_job_registry: Any, execution: Execution) -> None:
        super().handle_job_success(job, queue, started_job_registry, execution)
        signal_done(self.connection, job.id)  # after RQ stored FINISHED: a woken waiter sees it
        self._get_refinements_ready()

    def _get_refinements_ready(self) -> None:
        """After a translation, with nothing queued: prepare its refinement here and on another idle worker."""
        last, _Warm.last_scene = _Warm.last_scene, None
        engine, settings = _Warm.engine, _Warm.settings
        if last is None or engine is None or settings is None or settings.refine_checkpoints <= 0:
            return
        result_id, scene = last
        try:
            jobs = Jobs(settings, self.connection)
            if jobs.others_waiting(result_id):
                return  # translations are waiting: they come first
            jobs.enqueue_prepare(result_id, copies=jobs.worker_count() - 1)  # the others
            _prepare(engine, scene, result_id, jobs)  # and here
        except Exception:  # a missed speed-up, never a failed worker
            log.exception("preparing the refinement of %s failed", result_id)

    def handle_job_failure(self, job: Job, queue: Queue, started_job_registry: Any = None, exc_string: str = "",
                           execution: Execution | None = None) -> None:
        super().handle_job_failure(job, queue, started_job_registry, exc_string, execution)
        signal_done(self.connection, job.id)

    def _beat(self, job: Job, stop: threading.Event) -> None:
        ttl = self.get_heartbeat_ttl(job)
        while not stop.wait(self.beat_interval):
            execution = self._execution
            try:
                with self.connection.pipeline() as pipe:
                    self.heartbeat(ttl, pipeline=pipe)
                    if execution is not None:
                        execution.heartbeat(job.started_job_registry, ttl, pipe)
                    pipe.execute()
            except redis.RedisError as exc:  # Redis restarting: the next beat retries
                log.warning("heartbeat for job %s failed: %s", job.id, exc)


def _check(settings: Settings) -> int:
    """Liveness: the worker is warm (ready file) and Redis answers."""
    if not settings.ready_file.exists():
        print("not ready: no ready file", file=sys.stderr)
        return 1
    try:
        redis.Redis.from_url(settings.resolved_redis_url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        print(f"redis unreachable: {exc}", file=sys.stderr)
        return 1
    return 0


def _wait_for_dependencies(settings: Settings, timeout: float = 120.0) -> None:
    """Redis and S3 may start after us (supervisord, Kubernetes): wait for them, with backoff."""
    deadline = time.monotonic() + timeout
    delay = 0.2
    while True:
        try:
            redis.Redis.from_url(settings.resolved_redis_url, socket_connect_timeout=2).ping()
            Store(settings).client.list_buckets()
            return
        except Exception as exc:  # noqa: BLE001 - any failure here means "not yet"
            if time.monotonic() > deadline:
                raise ServiceUnavailable(f"Redis or S3 not reachable after {timeout:.0f}s: {exc}") from exc
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="text2pixi worker", description="Run a warm RQ worker.")
    parser.add_argument("--name", default=None, help="worker name (default: host:pid)")
    parser.add_argument("--burst", action="store_true", help="exit when the queue is empty")
    parser.add_argument("--check", action="store_true", help="liveness check: exit 0 when warm and Redis answers")
    parser.add_argument("--wait-deps", action="store_true",
                        help="wait up to 120 s for Redis and S3 to answer before starting")
    parser.add_argument("--maintenance-interval", type=int, default=10,
                        help="seconds between registry clean-ups (abandoned-job recovery)")
    args = parser.parse_args(argv)
    settings = get_settings()
    if args.check:
        return _check(settings)
    logs.configure()
    _Warm.worker_name = args.name or f"{socket.gethostname()}:{os.getpid()}"
    settings.ready_file.unlink(missing_ok=True)
    try:
        if args.wait_deps:
            _wait_for_dependencies(settings)
        setup(settings)
    except Text2PixiError as exc:
        log.error("worker cannot start: %s", exc)
        return 1
    if settings.metrics_port:
        start_http_server(settings.metrics_port, addr="127.0.0.1")
    connection = redis.Redis.from_url(settings.resolved_redis_url)
    queues = [Queue(settings.queue_name, connection=connection)]
    if settings.refine_checkpoints > 0:  # listed second: RQ takes translations first
        queues.append(Queue(settings.prepare_queue_name, connection=connection))
    worker = WarmWorker(queues, connection=connection, name=args.name,
                        maintenance_interval=args.maintenance_interval,
                        beat_interval=settings.heartbeat_interval)
    settings.ready_file.parent.mkdir(parents=True, exist_ok=True)
    settings.ready_file.write_text(f"{_Warm.worker_name}\n")
    try:
        worker.work(burst=args.burst, logging_level="INFO")
    finally:
        settings.ready_file.unlink(missing_ok=True)
    return 0

