"""Is a worker alive, and are its dependencies up: the ``--check`` probe and the start-up wait."""

from __future__ import annotations

import sys
import time

import redis

from text2pixi.core.errors import ServiceUnavailable
from text2pixi.service.store import Store
from text2pixi.settings import Settings


def check(settings: Settings) -> int:
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


def wait_for_dependencies(settings: Settings, timeout: float = 120.0) -> None:
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
