"""The RQ worker class: jobs in the worker process, heartbeats from a side thread, prompt recovery.

RQ's default ``Worker`` forks a child per job, which would lose the KV cache (and with copy-on-write,
every page it touches). :class:`WarmWorker` is a ``SimpleWorker`` (jobs run in the worker process) that
also sends heartbeats from a side thread while a job runs, with a short TTL: if the process is killed
mid-job, its entry in the started-job registry expires within seconds and the next registry clean-up
(every ``maintenance_interval`` seconds in any worker, and on every ``status`` call) requeues the job
while it has retries left, or fails it with a reason. RQ's defaults would leave it "started" for up to
ten minutes. After a successful job it gets a refinement ready (:mod:`text2pixi.worker.preparation`).

Only what can succeed on a retry is retried (:func:`retryable`): a killed worker's job (RQ's
``AbandonedJobError``, found by the clean-up) and a job that raised because Redis, S3 or the generation
server was unreachable, but not a job that ran into its timeout or a generation error that escaped the job:
greedy decoding of the same request runs the same way again, so those fail at once with their reason.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import redis
from rq import Queue, SimpleWorker, worker_registration
from rq.executions import Execution
from rq.job import Job
from rq.registry import clean_registries
from rq.timeouts import JobTimeoutException
from rq.utils import now

from text2pixi.core.errors import GenerationError
from text2pixi.service.jobs import cleaning_lock, signal_done
from text2pixi.worker.preparation import prepare_after_job
from text2pixi.worker.progress import publish_end
from text2pixi.worker.warm import Warm

log = logging.getLogger(__name__)

NOT_RETRIED: tuple[type[BaseException], ...] = (JobTimeoutException, GenerationError)
"""Failures that a re-run repeats: the deterministic generation would run as long, or fail the same way."""


def retryable(exc_type: type[BaseException] | None) -> bool:
    """Whether a job that raised ``exc_type`` may be re-run (RQ's ``Retry``); see the module doc."""
    return exc_type is None or not issubclass(exc_type, NOT_RETRIED)


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

    def handle_exception(self, job: Job, *exc_info: Any) -> None:
        """Before RQ decides on a retry (``handle_job_failure``, next): take away the retries of a failure a
        re-run would repeat. A killed worker's job never comes here; the registry clean-up retries it."""
        exc_type = exc_info[0] if exc_info else None
        if not retryable(exc_type) and job.retries_left:
            log.info("job %s: %s is not retried (%d retries left unused)", job.id,
                     getattr(exc_type, "__name__", exc_type), job.retries_left)
            job.retries_left = 0
        super().handle_exception(job, *exc_info)

    def handle_job_success(self, job: Job, queue: Queue, started_job_registry: Any, execution: Execution) -> None:
        super().handle_job_success(job, queue, started_job_registry, execution)
        signal_done(self.connection, job.id)  # after RQ stored FINISHED: a woken waiter sees it
        publish_end(self.connection, job, Warm.settings)  # the events' last one, after the outcome is readable
        prepare_after_job(self.connection)

    def handle_job_failure(self, job: Job, queue: Queue, started_job_registry: Any = None, exc_string: str = "",
                           execution: Execution | None = None) -> None:
        super().handle_job_failure(job, queue, started_job_registry, exc_string, execution)
        signal_done(self.connection, job.id)
        publish_end(self.connection, job, Warm.settings)  # "failed", unless RQ queued the job again

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
