"""``text2pixi worker`` (and ``python -m text2pixi.worker``): start one warm worker on the queues."""

from __future__ import annotations

import argparse
import logging
import os
import socket

import redis
from prometheus_client import start_http_server
from rq import Queue

from text2pixi.core.errors import Text2PixiError
from text2pixi.service import logs, metrics
from text2pixi.settings import get_settings
from text2pixi.worker.liveness import check, wait_for_dependencies
from text2pixi.worker.rq_worker import WarmWorker
from text2pixi.worker.warm import Warm, setup

log = logging.getLogger(__name__)


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
        return check(settings)
    logs.configure()
    Warm.worker_name = args.name or f"{socket.gethostname()}:{os.getpid()}"
    settings.ready_file.unlink(missing_ok=True)
    try:
        if args.wait_deps:
            wait_for_dependencies(settings)
        setup(settings)
    except Text2PixiError as exc:
        log.error("worker cannot start: %s", exc)
        return 1
    connection = redis.Redis.from_url(settings.resolved_redis_url)
    queues = [Queue(settings.queue_name, connection=connection)]
    if settings.refine_checkpoints > 0:  # listed second: RQ takes translations first
        queues.append(Queue(settings.prepare_queue_name, connection=connection))
    if settings.metrics_port:
        metrics.QUEUES.watch(queues)
        start_http_server(settings.metrics_port, addr=str(settings.metrics_host))
    worker = WarmWorker(queues, connection=connection, name=args.name,
                        maintenance_interval=args.maintenance_interval,
                        beat_interval=settings.heartbeat_interval)
    settings.ready_file.parent.mkdir(parents=True, exist_ok=True)
    settings.ready_file.write_text(f"{Warm.worker_name}\n")
    try:
        worker.work(burst=args.burst, logging_level="INFO")
    finally:
        settings.ready_file.unlink(missing_ok=True)
    return 0
