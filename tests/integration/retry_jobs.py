"""Job functions for ``test_retry_policy.py``: run by a real :class:`~text2pixi.worker.rq_worker.WarmWorker` process.

Each counts its runs in Redis (under ``key``) so the test sees how often RQ ran it.
"""

from __future__ import annotations

import os
import time

from rq import get_current_job

from text2pixi.core.errors import RunawayGeneration, ServiceUnavailable


def _run(key: str) -> int:
    job = get_current_job()
    assert job is not None
    return int(job.connection.incr(key))


def sleep(key: str, seconds: float) -> str:
    """Outlives a short job timeout: as a generation that runs away past it would."""
    _run(key)
    time.sleep(seconds)
    return "slept"


def sleep_first_run(key: str, seconds: float) -> str:
    """Sleeps on its first run (so its worker can be killed meanwhile; its pid is at ``key:pid``); returns at once
    on the next."""
    job = get_current_job()
    assert job is not None
    job.connection.set(f"{key}:pid", os.getpid())
    if _run(key) == 1:
        time.sleep(seconds)
    return "done"


def runaway(key: str) -> str:
    """A generation error that escaped the job (the translate job returns those as outcomes instead)."""
    _run(key)
    raise RunawayGeneration("stopped after 90 tokens: the reply wrote a second object with id 'star'",
                            rule="repeated_id")


def storage_down(key: str) -> str:
    """A failure a retry can get past: object storage was unreachable."""
    _run(key)
    raise ServiceUnavailable("the worker could not reach object storage")
