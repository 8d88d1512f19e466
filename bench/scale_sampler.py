"""The scale experiment's sampler: queue depth from Redis, each worker's CPU and RSS from psutil.

Part of ``bench/scale.py`` (run that).
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any

import psutil
import redis
from rq import Queue
from scale_stack import log, worker_names

from text2pixi.ops import localstack
from text2pixi.ops.localstack import StackConfig


class Sampler(threading.Thread):
    """Queue depth (Redis) and each worker's CPU % of one core and RSS (psutil), every ``interval`` s."""

    def __init__(self, cfg: StackConfig, t0: float, interval: float) -> None:
        super().__init__(daemon=True)
        settings = localstack.service_settings(cfg)
        self.redis = redis.Redis.from_url(settings.resolved_redis_url, socket_timeout=5)
        self.queue = Queue(settings.queue_name, connection=self.redis)
        self.cfg, self.t0, self.interval = cfg, t0, interval
        self.rows: list[dict[str, Any]] = []
        self.procs: dict[str, psutil.Process] = {}
        self.stop = threading.Event()
        self.label = ""

    def _proc(self, name: str) -> psutil.Process | None:
        proc = self.procs.get(name)
        if proc is None or not proc.is_running():
            pid = localstack.pid_of(self.cfg, name)
            if not pid:
                return None
            proc = psutil.Process(pid)
            proc.cpu_percent(None)  # the first reading only starts the measurement
            self.procs[name] = proc
        return proc

    def sample(self) -> dict[str, Any]:
        row: dict[str, Any] = {"t": round(time.time() - self.t0, 3), "step": self.label,
                               "queued": self.queue.count, "started": self.running(),
                               "loadavg": round(os.getloadavg()[0], 2)}
        for name in worker_names(self.cfg):
            proc = self._proc(name)
            try:
                row[f"cpu:{name}"] = proc.cpu_percent(None) if proc else 0.0
                row[f"rss_mb:{name}"] = round(proc.memory_info().rss / 2**20, 1) if proc else 0.0
            except psutil.Error:
                self.procs.pop(name, None)
        return row

    def run(self) -> None:
        for name in worker_names(self.cfg):
            self._proc(name)
        while not self.stop.wait(self.interval):
            try:
                self.rows.append(self.sample())
            except (redis.RedisError, psutil.Error) as exc:
                log(f"sampler: {exc}")

    def running(self) -> int:
        """Jobs a worker holds (read without the registry clean-up that ``count`` would run)."""
        return int(self.queue.started_job_registry.get_job_count(cleanup=False))

    def idle(self) -> bool:
        return self.queue.count == 0 and self.running() == 0
