"""A job's progress events as the worker publishes them (read by ``GET /status/ID/events``, service/events.py).

:class:`JobProgress` is the engine's progress callback for one job: the engine calls it as each attempt
starts and after each model call with the text so far (``engine.backend.ProgressCallback``); it turns
that into events (:mod:`text2pixi.core.progress`) and appends them to the job's Redis stream: ``attempt``
and ``reask`` at once, each ``object`` as soon as it is complete, ``stage`` once known, ``tokens`` at most
every :data:`TOKENS_EVERY_S` seconds. Most calls publish nothing; a call costs a scan of the few new
characters. Publishing never fails a job: after a Redis error this job's progress goes quiet.

The last event (``finished``/``failed``) is published by the worker class once RQ has stored the job's
outcome (:func:`publish_end`), so a client that reads ``status`` on that event sees the outcome too.

While the job runs its stream expires with the result TTL; after the last event, :data:`KEEP_AFTER_END`.

``expected_tokens`` is an estimate for the progress bar: for a new scene, the median output of the
last :data:`RECENT_JOBS` fresh jobs of this model (kept in Redis, so every worker shares it); for a v1
refinement, the base scene's length in characters over the median characters per token (the model writes the
whole scene again, mostly copied); for a v2 refinement (a patch, whatever the base's size), the median of the
recent refinements.
"""

from __future__ import annotations

import logging
import statistics
import time
from collections.abc import Callable

import redis
from rq.job import Job
from rq.job import JobStatus as RQStatus

from text2pixi.core.progress import (
    AttemptStarted,
    Event,
    Failed,
    Finished,
    ObjectDone,
    Reask,
    SceneTracker,
    Started,
    Tokens,
)
from text2pixi.core.refine_prompt import ordered_json
from text2pixi.core.scene import Scene
from text2pixi.service.events import append
from text2pixi.service.jobs import KEY_PREFIX, TRANSLATE_FUNC, failure_error
from text2pixi.settings import Settings

log = logging.getLogger(__name__)

TOKENS_EVERY_S = 0.25
"""Least time between two ``tokens`` events of a job (about 4 a second)."""
RECENT_KEY = KEY_PREFIX + ":progress:recent:{}"
"""Redis list of ``"<output tokens> <characters> <fresh|refine>"`` of the last jobs of one model."""
RECENT_JOBS = 50
DEFAULT_EXPECTED_TOKENS = {"v1": 300, "v2": 30}
"""Before any job of the model finished: a fresh scene's median output (docs/performance.md)."""
DEFAULT_PATCH_TOKENS = 15
"""Before any v2 refinement finished: a patch's median output (docs/performance.md)."""
DEFAULT_CHARS_PER_TOKEN = 3.0
KEEP_AFTER_END = 3600
"""Seconds a job's events stay after its last one (at most the result TTL): long enough for any reconnect; the
status document is the lasting record, and a later stream gets one last event made from it."""


def _recent(connection: redis.Redis, model: str) -> list[tuple[int, int, bool]]:
    rows: list[tuple[int, int, bool]] = []
    for raw in connection.lrange(RECENT_KEY.format(model), 0, RECENT_JOBS - 1):
        parts = (raw.decode() if isinstance(raw, bytes) else str(raw)).split()
        if len(parts) == 3 and parts[0].isdigit() and parts[1].isdigit():
            rows.append((int(parts[0]), int(parts[1]), parts[2] == "fresh"))
    return rows


def expected_tokens(connection: redis.Redis, model: str, base: Scene | None, language: str = "v2") -> int:
    """The output tokens to expect (see the module doc); the default when Redis has nothing or fails."""
    try:
        recent = _recent(connection, model)
    except redis.RedisError as exc:
        log.info("no token estimate from Redis: %s", exc)
        recent = []
    if base is not None and language == "v2":
        patches = [tokens for tokens, _, is_fresh in recent if not is_fresh]
        return round(statistics.median(patches)) if patches else DEFAULT_PATCH_TOKENS
    if base is not None:
        ratios = [chars / tokens for tokens, chars, _ in recent if tokens > 0 and chars > 0]
        per_token = statistics.median(ratios) if ratios else DEFAULT_CHARS_PER_TOKEN
        return max(1, round(len(ordered_json(base)) / per_token))
    fresh = [tokens for tokens, _, is_fresh in recent if is_fresh]
    return round(statistics.median(fresh)) if fresh else DEFAULT_EXPECTED_TOKENS.get(language, 300)


def record(connection: redis.Redis, model: str, tokens: int, chars: int, *, fresh: bool) -> None:
    """Remember one finished generation for later estimates (best effort)."""
    key = RECENT_KEY.format(model)
    try:
        with connection.pipeline(transaction=False) as pipe:
            pipe.lpush(key, f"{tokens} {chars} {'fresh' if fresh else 'refine'}")
            pipe.ltrim(key, 0, RECENT_JOBS - 1)
            pipe.execute()
    except redis.RedisError as exc:
        log.info("token estimate not updated: %s", exc)


class JobProgress:
    """The progress callback of one job: (attempt, text so far, tokens so far) in, events out to Redis."""

    def __init__(self, connection: redis.Redis, job_id: str, *, ttl: int, worker: str, expected: int,
                 reason: Callable[[int], str | None], clock: Callable[[], float] = time.perf_counter) -> None:
        self.connection = connection
        self.job_id = job_id
        self.ttl = ttl
        self.worker = worker
        self.expected = expected
        self._reason = reason
        self._clock = clock
        self._t0 = clock()
        self._attempt = 0
        self._tracker = SceneTracker()
        self._last_tokens = -1.0
        self.enabled = True
        self.published = 0

    def start(self) -> None:
        """The job's first event: which worker took it and how long the reply is expected to be."""
        self._t0 = self._clock()
        self._publish([Event.of(Started(worker=self.worker, expected_tokens=self.expected))])

    def __call__(self, attempt: int, text: str, tokens: int) -> None:
        if not self.enabled:
            return
        try:
            self._follow(attempt, text, tokens)
        except Exception:  # noqa: BLE001 - progress is a courtesy: a bug here must not fail the generation
            self.enabled = False
            log.exception("job %s: progress events off for this job", self.job_id)

    def _follow(self, attempt: int, text: str, tokens: int) -> None:
        events: list[Event] = []
        if attempt != self._attempt:
            if attempt > 1:
                reason = self._reason(attempt - 1) or "the previous attempt was not a valid scene"
                events.append(Event.of(Reask(attempt=attempt, reason=reason)))
            events.append(Event.of(AttemptStarted(attempt=attempt)))
            self._attempt, self._tracker, self._last_tokens = attempt, SceneTracker(), -1.0
        if text:
            found = self._tracker.feed(text)
            events += [Event.of(ObjectDone(attempt=attempt, index=i, object=o)) for i, o in found.objects]
            if found.stage is not None:
                events.append(Event.of(found.stage))
        now = self._clock()
        if tokens and now - self._last_tokens >= TOKENS_EVERY_S:
            self._last_tokens = now
            events.append(Event.of(Tokens(attempt=attempt, tokens=tokens, expected_tokens=self.expected,
                                          elapsed_s=round(now - self._t0, 3))))
        if events:
            self._publish(events)

    def _publish(self, events: list[Event]) -> None:
        if not self.enabled:
            return
        try:
            append(self.connection, self.job_id, events, self.ttl)
            self.published += len(events)
        except redis.RedisError as exc:
            self.enabled = False
            log.warning("job %s: progress events off for this job: %s", self.job_id, exc)


def publish_end(connection: redis.Redis, job: Job, settings: Settings | None) -> None:
    """``finished`` or ``failed`` for a translate job whose outcome RQ has stored; nothing for a job to be retried."""
    if job.func_name != TRANSLATE_FUNC:
        return
    ttl = min(KEEP_AFTER_END, settings.result_ttl) if settings is not None else KEEP_AFTER_END
    try:
        status = job.get_status(refresh=True)
        if status == RQStatus.FINISHED:
            outcome = job.return_value(refresh=True) or {}
            event = Event.of(Finished(id=job.id)) if outcome.get("ok") else Event.of(Failed(
                id=job.id, error=outcome.get("error") or {"error": "generation_failed", "message": "no valid scene"}))
        elif status in (RQStatus.FAILED, RQStatus.STOPPED, RQStatus.CANCELED) and settings is not None:
            event = Event.of(Failed(id=job.id, error=failure_error(job, settings)))
        else:  # requeued for another run: that run's events follow
            return
        append(connection, job.id, [event], ttl)
    except redis.RedisError as exc:  # the events endpoint makes the last event from the job's status
        log.warning("job %s: last progress event not published: %s", job.id, exc)
