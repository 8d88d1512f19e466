"""Getting refinements ready while idle (``text2pixi.engine.checkpoints``), always giving way to translations.

After a job, a worker with nothing queued evaluates the head of a refinement of the scene it just wrote and
keeps its KV state, and it queues a ``prepare`` job on a low-priority queue so that another idle worker does
the same (RQ hands the next job to whichever worker waits longest, usually not the one that just finished).
A watcher thread stops a preparation within :data:`PREPARE_POLL_S` when a translation arrives.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import redis
from rq import get_current_job

from text2pixi.core.errors import BaseFailed
from text2pixi.core.scene import Scene
from text2pixi.core.v2 import V2Scene
from text2pixi.engine import Translator
from text2pixi.service import metrics
from text2pixi.service.jobs import Jobs
from text2pixi.worker.translation import base_of
from text2pixi.worker.warm import Warm

log = logging.getLogger(__name__)

PREPARE_POLL_S = 0.05
"""How often a worker preparing a refinement head looks for translations to give way to."""


def run_prepare(result_id: str) -> dict[str, Any]:
    """The ``prepare`` job: keep the KV checkpoint of a refinement of result ``result_id`` (best effort).

    Skipped when other translations are waiting (they come first) or the result has no scene; never raises
    for those, since nobody waits for this job.
    """
    engine, store, settings = Warm.ready()
    job = get_current_job()
    jobs = Jobs(settings, job.connection) if job is not None else None
    if jobs is not None and jobs.others_waiting(result_id):
        return {"ok": True, "prepared": False, "reason": "translations are waiting"}
    document = store.get_result(result_id)
    if not document or document.get("error") or not document.get("scene"):
        return {"ok": True, "prepared": False, "reason": "no scene"}
    try:
        scene, source = base_of(result_id, document)  # a v2 result's refinement patches its source
    except BaseFailed as exc:
        return {"ok": True, "prepared": False, "reason": str(exc)}
    prepared = prepare(engine, scene, result_id, jobs, base_source=source)
    return {"ok": True, "prepared": prepared, "worker": Warm.worker_name}


def prepare_after_job(connection: redis.Redis) -> None:
    """After a translation, with nothing queued: prepare its refinement here and on another idle worker."""
    last, Warm.last_scene = Warm.last_scene, None
    engine, settings = Warm.engine, Warm.settings
    if last is None or engine is None or settings is None or settings.refine_checkpoints <= 0:
        return
    result_id, scene, source = last
    try:
        jobs = Jobs(settings, connection)
        if jobs.others_waiting(result_id):
            return  # translations are waiting: they come first
        jobs.enqueue_prepare(result_id, copies=jobs.worker_count() - 1)  # the others
        prepare(engine, scene, result_id, jobs, base_source=source)  # and here
    except Exception:  # a missed speed-up, never a failed worker
        log.exception("preparing the refinement of %s failed", result_id)


def prepare(engine: Translator, scene: Scene, result_id: str, jobs: Jobs | None, *,
            base_source: V2Scene | None = None) -> bool:
    """Prepare a refinement head (of ``base_source`` for a v2 result), giving way within milliseconds to a
    translation that arrives meanwhile."""
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
        prepared = engine.prepare_refinement(scene, cancel=cancel, base_source=base_source)
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
