"""Translation jobs on the RQ queue: enqueueing them and reading their state back.

The functions (``translate``, ``status``, ``warmup``) only talk to Redis through this module; the
workers run :func:`text2pixi.worker.run_translation` for each job. A job's *domain* status is
derived from RQ's status and the job's own result: RQ says ``finished`` when the job function
returned, but a job that returned a generation error is ``failed`` for the user.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import redis
from redis.exceptions import LockError
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.job import JobStatus as RQStatus

from text2pixi.core.contracts import JobStatus, JobView, TranslateRequest
from text2pixi.core.errors import IdempotencyConflict, NotFound, QueueFull, ServiceUnavailable
from text2pixi.service import metrics
from text2pixi.settings import Settings

log = logging.getLogger(__name__)

KEY_PREFIX = "text2pixi"
IDEMPOTENCY_KEY = KEY_PREFIX + ":idem:{}"
DONE_KEY = KEY_PREFIX + ":done:{}"  # the worker pushes here when a job ends, to wake ?wait= callers
DONE_TTL = 600
WARMUP_KEY = KEY_PREFIX + ":warmup"  # the one pending warm-up job: a flood of warmup calls shares it
WARMUP_LOCK_KEY = WARMUP_KEY + ":lock"  # serialises check-then-enqueue of that job
MAINTENANCE_LOCK_TTL = 30
"""Seconds a registry clean-up may hold RQ's per-queue cleaning lock. RQ takes it for 899 s and
releases it only when the clean-up completes, so a worker killed (or a Redis restart) mid-clean-up
would stop every recovery for 15 minutes; ours expires on its own well within a job's timeout."""
TRANSLATE_FUNC = "text2pixi.worker.run_translation"
WARMUP_FUNC = "text2pixi.worker.run_warmup"
PREPARE_FUNC = "text2pixi.worker.run_prepare"
PREPARE_TTL = 60
"""Seconds a queued ``prepare`` job stays useful: after that the user has moved on, or the workers are busy."""


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


class Jobs:
    """The queue as the functions see it."""

    def __init__(self, settings: Settings, connection: redis.Redis | None = None) -> None:
        self.settings = settings
        self.redis = connection or redis.Redis.from_url(
            settings.resolved_redis_url, socket_connect_timeout=3, socket_timeout=10, health_check_interval=30
        )
        self.queue = Queue(settings.queue_name, connection=self.redis, default_timeout=settings.job_timeout)
        metrics.QUEUES.watch([self.queue])

    def _guard(self, exc: redis.RedisError) -> ServiceUnavailable:
        log.warning("redis unavailable: %s", exc)
        return ServiceUnavailable("the job queue (Redis) is unavailable; try again shortly")

    def enqueue(self, request: TranslateRequest, *, callback_url: str | None = None,
                idempotency_key: str | None = None) -> tuple[Job, bool]:
        """Queue one translation; returns the job and whether it was newly created.

        An ``idempotency_key`` maps to one job for ``result_ttl`` seconds; reusing it with a
        different request body is a conflict rather than a silent replay.
        """
        payload = request.model_dump(mode="json")
        job_id = uuid.uuid4().hex
        claim: str | None = None
        try:
            if idempotency_key:
                claim, existing = self._claim(idempotency_key, payload, job_id)
                if existing is not None:
                    return existing, False
            depth = self.queue.count
            if depth >= self.settings.max_queue_depth:
                if claim:
                    self.redis.delete(claim)
                raise QueueFull(f"{depth} jobs are waiting (limit {self.settings.max_queue_depth})",
                                retry_after=self.retry_after(depth))
            job = self.queue.enqueue(
                TRANSLATE_FUNC,
                payload,
                job_id=job_id,
                # N variants are N generations: the timeout (what one generation may take) scales with them.
                job_timeout=self.settings.job_timeout * request.variants,
                result_ttl=self.settings.result_ttl,
                failure_ttl=self.settings.result_ttl,
                ttl=self.settings.result_ttl,
                # A retried job already waited its turn once: it goes to the front, so a killed
                # worker's job is not also queued behind the whole backlog.
                retry=Retry(max=self.settings.job_retries, enqueue_at_front=True) if self.settings.job_retries
                else None,
                meta={"callback_url": callback_url, "runs": 0},
            )
            # The depth check above and the enqueue are two steps: concurrent requests can all pass
            # the check. The queue's order settles it: whoever landed past the bound takes its job
            # back out (LREM; if a worker already took it, it stays accepted) and answers 429.
            position = self.queue.get_job_position(job.id)
            if position is not None and position >= self.settings.max_queue_depth and self.queue.remove(job.id):
                job.delete()
                if claim:
                    self.redis.delete(claim)
                raise QueueFull(f"{position} jobs are waiting (limit {self.settings.max_queue_depth})",
                                retry_after=self.retry_after(position))
            return job, True
        except redis.RedisError as exc:
            raise self._guard(exc) from exc

    def _claim(self, idempotency_key: str, payload: dict[str, Any], job_id: str) -> tuple[str, Job | None]:
        """Claim ``idempotency_key`` for ``job_id``, or return the job that already holds it."""
        key = IDEMPOTENCY_KEY.format(hashlib.sha256(idempotency_key.encode()).hexdigest())
        fingerprint = hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()
        value = f"{job_id}:{fingerprint}"
        if self.redis.set(key, value, nx=True, ex=self.settings.result_ttl):
            return key, None
        raw = self.redis.get(key)
        old_id, _, old_fingerprint = (raw.decode() if isinstance(raw, bytes) else str(raw or "")).partition(":")
        if old_fingerprint != fingerprint:
            raise IdempotencyConflict("this Idempotency-Key was already used with a different request body")
        try:
            return key, Job.fetch(old_id, connection=self.redis)
        except NoSuchJobError:  # the key outlived its job: take it over
            self.redis.set(key, value, ex=self.settings.result_ttl)
            return key, None

    def retry_after(self, depth: int) -> int:
        """Seconds a client should wait: the backlog at ~15 s per job over the live workers."""
        workers = max(1, self.worker_count())
        return max(1, min(600, int(depth * 15 / workers)))

    def worker_count(self) -> int:
        from rq import Worker

        try:
            return len(Worker.all(queue=self.queue))
        except redis.RedisError:
            return 0

    def enqueue_prepare(self, result_id: str, copies: int) -> int:
        """Ask up to ``copies`` idle workers to get a refinement of ``result_id`` ready (text2pixi.engine.checkpoints).

        Best effort and low priority: nothing is queued while translations wait, the jobs expire after
        :data:`PREPARE_TTL` seconds, and a Redis error only costs the speed-up. Returns how many were queued.
        """
        if self.settings.refine_checkpoints <= 0 or copies <= 0:
            return 0
        try:
            if self.others_waiting(result_id):
                return 0
            prepare = Queue(self.settings.prepare_queue_name, connection=self.redis)
            for _ in range(copies):
                prepare.enqueue(PREPARE_FUNC, result_id, ttl=PREPARE_TTL, result_ttl=0, failure_ttl=PREPARE_TTL,
                                job_timeout=self.settings.job_timeout,
                                description=f"prepare a refinement of {result_id}")
        except redis.RedisError as exc:
            log.info("prepare job for %s not queued: %s", result_id, exc)
            return 0
        return copies

    def others_waiting(self, result_id: str, look: int = 8) -> bool:
        """Whether translations wait that are not refinements of ``result_id`` (those come before preparing).

        A waiting refinement of ``result_id`` itself does not count: preparing its head first costs it nothing.
        """
        for job in self.queue.get_jobs(0, look - 1):
            payload = job.args[0] if job.args else {}
            if not (isinstance(payload, dict) and payload.get("base") == result_id):
                return True
        return self.queue.count > look

    def fetch(self, job_id: str) -> Job | None:
        try:
            return Job.fetch(job_id, connection=self.redis)
        except NoSuchJobError:
            return None
        except redis.RedisError as exc:
            raise self._guard(exc) from exc

    def recover_abandoned(self) -> None:
        """Requeue or fail jobs whose worker died (their heartbeat expired); cheap when none did.

        Under the same short lock as the workers' clean-ups (:func:`cleaning_lock`): two clean-ups
        racing over one abandoned job would requeue it twice and spend two of its retries.
        """
        try:
            with cleaning_lock(self.queue) as acquired:
                if acquired:
                    self.queue.started_job_registry.cleanup()
        except redis.RedisError as exc:
            raise self._guard(exc) from exc

    def view(self, job: Job) -> JobView:
        """The user's view of a job, from RQ's state plus what the worker recorded."""
        try:
            job.refresh()
            rq_status = job.get_status(refresh=False)
            position = self.queue.get_job_position(job.id) if rq_status == RQStatus.QUEUED else None
        except NoSuchJobError:
            raise NotFound(f"job {job.id} expired") from None
        except redis.RedisError as exc:
            raise self._guard(exc) from exc
        meta = job.meta
        view = JobView(
            id=job.id,
            status=JobStatus.QUEUED,
            created_at=_iso(job.enqueued_at or job.created_at),
            started_at=_iso(job.started_at),
            ended_at=_iso(job.ended_at),
            queue_position=position,
            attempts=int(meta.get("runs", 0)),
        )
        if rq_status in (RQStatus.QUEUED, RQStatus.SCHEDULED, RQStatus.DEFERRED, RQStatus.CREATED):
            view.status = JobStatus.QUEUED
        elif rq_status == RQStatus.STARTED:
            view.status = JobStatus.STARTED
        elif rq_status == RQStatus.FINISHED:
            outcome = job.return_value() or {}
            if outcome.get("ok"):
                view.status = JobStatus.FINISHED
            else:
                view.status = JobStatus.FAILED
                view.error = outcome.get("error") or {"error": "generation_failed", "message": "no valid scene"}
        else:  # failed, stopped, canceled: the worker crashed, timed out or vanished, after retries
            view.status = JobStatus.FAILED
            view.error = failure_error(job, self.settings)
        return view

    def wait(self, job: Job, seconds: float) -> JobView:
        """Block until the job ends or ``seconds`` pass; returns the last view.

        The worker pushes to ``DONE_KEY`` when it finishes, so a waiting request wakes at once; the
        wait is sliced so that endings the worker never signals (a crash, a timeout) are still seen.
        """
        deadline = time.monotonic() + seconds
        view = self.view(job)
        while view.status in (JobStatus.QUEUED, JobStatus.STARTED):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                if self.redis.blpop([DONE_KEY.format(job.id)], timeout=max(0.01, min(left, 0.5))):
                    self.redis.lpush(DONE_KEY.format(job.id), 1)  # leave the signal for other waiters
            except redis.RedisError as exc:
                raise self._guard(exc) from exc
            view = self.view(job)
        return view

    def enqueue_warmup(self) -> Job:
        """The pending warm-up job, queued at the front if there is none.

        Warm-ups bypass the depth limit (they go first), so each call must not add one: callers
        share a single pending job, and a flood of warmup calls costs one job, not a queue. A short
        Redis lock makes check-then-enqueue atomic across gateway processes; without it, racing
        callers could withdraw each other's jobs and answer 404 for a job they had just named.
        """
        try:
            with self.redis.lock(WARMUP_LOCK_KEY, timeout=10, blocking_timeout=10):
                raw = self.redis.get(WARMUP_KEY)
                if raw:
                    pending = self.fetch(raw.decode() if isinstance(raw, bytes) else str(raw))
                    if pending is not None and pending.get_status(refresh=False) in (RQStatus.QUEUED,
                                                                                     RQStatus.STARTED):
                        return pending
                job = self.queue.enqueue(WARMUP_FUNC, job_timeout=self.settings.job_timeout, result_ttl=600,
                                         at_front=True)
                self.redis.set(WARMUP_KEY, job.id, ex=self.settings.job_timeout + 60)
                return job
        except LockError as exc:
            raise ServiceUnavailable("the warm-up lock is busy; retry shortly") from exc
        except redis.RedisError as exc:
            raise self._guard(exc) from exc


@contextmanager
def cleaning_lock(queue: Queue) -> Iterator[bool]:
    """RQ's per-queue cleaning lock, held at most :data:`MAINTENANCE_LOCK_TTL` s and always released."""
    acquired = bool(queue.connection.set(queue.registry_cleaning_key, 1, nx=True, ex=MAINTENANCE_LOCK_TTL))
    try:
        yield acquired
    finally:
        if acquired:
            try:
                queue.release_maintenance_lock()
            except redis.RedisError:  # Redis went away mid-clean-up: the lock expires on its own
                log.warning("could not release the cleaning lock of queue %s", queue.name)


def signal_done(connection: redis.Redis, job_id: str) -> None:
    """Wake every request waiting on ``job_id``; the worker calls it once RQ has stored the outcome."""
    key = DONE_KEY.format(job_id)
    with connection.pipeline() as pipe:
        pipe.lpush(key, 1)
        pipe.expire(key, DONE_TTL)
        pipe.execute()


def failure_error(job: Job, settings: Settings) -> dict[str, str]:
    """The error of a job that crashed, timed out or vanished (after its retries), as status and events show it."""
    return {"error": "job_failed", "message": _failure_reason(job, settings)}


def _failure_reason(job: Job, settings: Settings) -> str:
    """A one-line reason without a traceback: users get the cause, operators get the logs."""
    info = ""
    try:
        latest = job.latest_result()
        info = (latest.exc_string or "") if latest else ""
    except Exception:  # noqa: BLE001 - a best-effort reason must not break status
        info = ""
    if "JobTimeoutException" in info:
        timeout = job.timeout or settings.job_timeout
        return (f"the job ran longer than its {timeout:g} s timeout; not retried, since the same generation "
                "would run as long again")
    if "AbandonedJobError" in info or "Moved to FailedJobRegistry" in info:
        return "the worker running this job stopped before finishing it, and its retries ran out"
    last = [line for line in info.strip().splitlines() if line.strip()]
    if last and "BackendUnavailable:" in last[-1]:  # its message names the server and what went wrong
        reason = last[-1].split("BackendUnavailable:", 1)[1].strip()[:300]
        return f"{reason} (tried {1 + settings.job_retries} times)"
    if "ServiceUnavailable" in info:
        return "the worker could not reach object storage to save the result"
    return f"the worker failed: {last[-1][:200]}" if last else "the job failed"
