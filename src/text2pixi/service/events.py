"""``GET /function/status/ID/events``: a job's progress as Server-Sent Events, read from its Redis stream.

The worker appends events to ``text2pixi:events:{ID}`` (:func:`append`; XADD with an approximate length
bound, expiring with the job's state). This endpoint reads them with short blocking XREADs and sends
each as ``id: <stream id>`` / ``event: <type>`` / ``data: <JSON>``, so ``Last-Event-ID`` (the header an
``EventSource`` sends when it reconnects, or ``?last_event_id=``) resumes right after the last one seen:
nothing missed, nothing twice. Between reads it looks at the job itself: a queued job gets ``queued``
with its position (no id: it is not in the stream), and a job that ended without its last event in the
stream (its worker was killed, or the events expired) gets one made from its status. The stream ends
after ``finished`` or ``failed``; an SSE comment goes out every :data:`HEARTBEAT_S` seconds meanwhile.

Each open stream holds a server thread and, while it blocks, a pooled Redis connection, so there are at
most ``events_max_streams`` per process (503 beyond, and clients poll ``status`` instead). The body is an
:class:`EventStream`: the template calls its ``close()`` when the client goes or the stream ends, which
frees both, whether or not it was ever read.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import redis

from text2pixi.core.contracts import JobStatus
from text2pixi.core.errors import InvalidRequest, NotFound, ServiceUnavailable
from text2pixi.core.progress import TERMINAL, Event, Failed, Finished, Queued
from text2pixi.service.http import Response
from text2pixi.service.jobs import KEY_PREFIX, Jobs
from text2pixi.service.store import Store
from text2pixi.settings import Settings

log = logging.getLogger(__name__)

EVENTS_KEY = KEY_PREFIX + ":events:{}"
EVENTS_MAXLEN = 1000
"""Approximate bound of one job's stream (XADD MAXLEN ~): a job writes a few hundred events at most."""
BLOCK_MS = 2000
"""One XREAD's wait: how often an idle stream looks at the job's state and whether its client is gone."""
HEARTBEAT_S = 15.0
"""Seconds of silence after which an SSE comment goes out (proxies close idle connections)."""
RECOVER_EVERY_S = 10.0
"""How often an idle stream runs the abandoned-job clean-up (a killed worker's job must end too)."""
STREAM_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
SSE_HEADERS = {
    "Content-Type": "text/event-stream; charset=utf-8",
    "Cache-Control": "no-cache",
    "X-Accel-Buffering": "no",  # nginx-style proxies (ingress, the OpenFaaS gateway's) pass it on unbuffered
}


def append(connection: redis.Redis, job_id: str, events: list[Event], ttl: int) -> None:
    """Add ``events`` to the job's stream in one round trip; the stream expires ``ttl`` s after the last."""
    key = EVENTS_KEY.format(job_id)
    with connection.pipeline(transaction=False) as pipe:
        for event in events:
            pipe.xadd(key, {"type": event.type, "data": event.data}, maxlen=EVENTS_MAXLEN, approximate=True)
        pipe.expire(key, ttl)
        pipe.execute()


def _text(value: Any) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


class EventStreams:
    """The events endpoint of one process: its bound on open streams, and the streams' reading loop."""

    def __init__(self, settings: Settings, jobs: Jobs, store: Store, *, heartbeat_s: float = HEARTBEAT_S,
                 block_ms: int = BLOCK_MS) -> None:
        self.settings = settings
        self.jobs = jobs
        self.store = store
        self.heartbeat_s = heartbeat_s
        self.block_ms = block_ms
        self._slots = threading.BoundedSemaphore(settings.events_max_streams)
        self._lock = threading.Lock()
        self.open_streams = 0  # streams whose close() has not run yet (tests and logs read it)

    def response(self, job_id: str, last_event_id: str | None) -> Response:
        """The SSE answer for ``job_id`` (404 for a job nobody knows), resuming after ``last_event_id``."""
        if last_event_id is not None and last_event_id != "" and not STREAM_ID.match(last_event_id):
            raise InvalidRequest("Last-Event-ID must be an id this stream sent (like 1700000000000-0)")
        if self.jobs.fetch(job_id) is None and self.store.get_result(job_id) is None:
            raise NotFound(f"no job with id {job_id!r}")
        if not self._slots.acquire(blocking=False):
            raise ServiceUnavailable("too many open event streams here; poll /function/status/ID instead")
        with self._lock:
            self.open_streams += 1
        stream = EventStream(self._events(job_id, last_event_id or "0-0"), self._release)
        return {"statusCode": 200, "body": stream, "headers": dict(SSE_HEADERS)}

    def _release(self) -> None:
        with self._lock:
            self.open_streams -= 1
        self._slots.release()

    def _read(self, key: str, after: str, block: int | None) -> list[tuple[str, Event]]:
        reply: Any = self.jobs.redis.xread({key: after}, count=100, block=block)
        out: list[tuple[str, Event]] = []
        for _name, entries in reply or []:
            for raw_id, fields in entries:
                event_id = _text(raw_id)
                data = {_text(k): _text(v) for k, v in fields.items()}
                out.append((event_id, Event(data.get("type", "message"), data.get("data", "{}"), event_id)))
        return out

    def _ending(self, job_id: str) -> Event | None:
        """The job's last event made from its status when it has ended, or a ``queued`` event, or None."""
        job = self.jobs.fetch(job_id)
        if job is None:  # Redis forgot the job: its stored result is the record
            document = self.store.get_result(job_id)
            if document is None or not document.get("error"):
                return Event.of(Finished(id=job_id))
            return Event.of(Failed(id=job_id, error=document["error"]))
        view = self.jobs.view(job)
        if view.status == JobStatus.FINISHED:
            return Event.of(Finished(id=job_id))
        if view.status == JobStatus.FAILED:
            return Event.of(Failed(id=job_id, error=view.error or {"error": "job_failed", "message": "failed"}))
        if view.status == JobStatus.QUEUED:
            return Event.of(Queued(position=view.queue_position or 0))
        return None

    def _events(self, job_id: str, after: str) -> Iterator[str]:
        """The stream's text: events from Redis, ``queued`` while waiting, heartbeats; ends after the last event.

        Yields "" after an idle read, so that the template can check whether the client is still there.
        """
        key = EVENTS_KEY.format(job_id)
        deadline = time.monotonic() + self.settings.events_max_seconds
        last_write = time.monotonic()
        last_recover = 0.0
        queued_sent: str | None = None
        block: int | None = None  # the first read does not wait: a queued or ended job is answered at once
        yield "retry: 2000\n\n"
        try:
            while time.monotonic() < deadline:
                batch = self._read(key, after, block)
                block = self.block_ms
                for event_id, event in batch:
                    after = event_id
                    yield event.sse()
                    if event.type in TERMINAL:
                        return
                if batch:
                    last_write = time.monotonic()
                    continue
                if time.monotonic() - last_recover >= RECOVER_EVERY_S:
                    self.jobs.recover_abandoned()
                    last_recover = time.monotonic()
                state = self._ending(job_id)
                if state is not None and state.type in TERMINAL:
                    for _id, event in self._read(key, after, None):  # written since the last read?
                        yield event.sse()
                        if event.type in TERMINAL:
                            return
                    yield state.sse()
                    return
                if state is not None and state.data != queued_sent:
                    queued_sent = state.data
                    last_write = time.monotonic()
                    yield state.sse()
                elif time.monotonic() - last_write >= self.heartbeat_s:
                    last_write = time.monotonic()
                    yield ": keep-alive\n\n"
                else:
                    yield ""
        except (redis.RedisError, ServiceUnavailable, NotFound) as exc:
            # Mid-stream there is no status code to change: end it; the client resumes or polls.
            log.warning("events of job %s: stream ended early: %s", job_id, exc)


class EventStream(Iterator[str]):
    """An SSE body that frees its slot exactly once, on ``close()``, even if it was never iterated."""

    def __init__(self, events: Iterator[str], release: Any) -> None:
        self._events = events
        self._release = release
        self._closed = False

    def __next__(self) -> str:
        return next(self._events)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._events, "close", None)
            if close is not None:
                close()
        finally:
            self._release()
