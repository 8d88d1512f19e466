"""The scale experiment's load: closed-loop clients and open-loop arrivals sent through the gateway.

Part of ``bench/scale.py`` (run that). Each submitted prompt becomes one
:class:`text2pixi.quality.loadtest.Request`, followed through ``status`` until its job ends.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any, Literal

import requests
from scale_stack import log

from text2pixi.ops import localstack
from text2pixi.ops.localstack import StackConfig
from text2pixi.quality.loadtest import Request, arrivals


def _epoch(iso: str | None) -> float | None:
    if not iso:
        return None
    moment = datetime.fromisoformat(iso)
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class Driver:
    """Sends requests through the gateway and fills :class:`Request` records (times relative to t0)."""

    def __init__(self, cfg: StackConfig, t0: float, options: dict[str, Any], prompts: list[str]) -> None:
        self.cfg, self.t0, self.options, self.prompts = cfg, t0, options, prompts
        self.key = localstack.api_key(cfg)
        self.local = threading.local()
        self.counter = 0
        self.lock = threading.Lock()

    @property
    def session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
            self.local.session.headers["X-API-Key"] = self.key
        return self.local.session  # type: ignore[no-any-return]

    def next_prompt(self) -> str:
        with self.lock:
            self.counter += 1
            return self.prompts[(self.counter - 1) % len(self.prompts)]

    def now(self) -> float:
        return time.time() - self.t0

    def absorb(self, req: Request, view: dict[str, Any]) -> bool:
        """Copy a status view into ``req``; True when the job has ended."""
        req.job_id = view.get("id", req.job_id)
        status = view.get("status")
        if status not in ("finished", "failed"):
            return False
        req.outcome = status
        started, ended = _epoch(view.get("started_at")), _epoch(view.get("ended_at"))
        req.started = None if started is None else started - self.t0
        req.ended = (ended - self.t0) if ended is not None else self.now()
        result = view.get("result") or {}
        req.output_tokens = int(result.get("output_tokens") or 0)
        req.engine_s = float((result.get("timings") or {}).get("wall_s") or 0.0)
        req.worker = str(result.get("worker") or "")
        return True

    def submit(self, req: Request, wait: float) -> dict[str, Any] | None:
        body = {"prompt": req.prompt, "options": self.options}
        params = {"wait": f"{wait:g}"} if wait else None
        req.sent = self.now()
        try:
            response = self.session.post(self.cfg.gateway_url + "/function/translate", json=body, params=params,
                                         timeout=wait + 30)
        except requests.RequestException as exc:
            req.outcome = "error"
            log(f"submit failed: {exc}")
            return None
        req.code = response.status_code
        if response.status_code == 429:
            req.outcome = "rejected"
            return None
        if response.status_code not in (200, 202):
            req.outcome = "error"
            log(f"submit answered {response.status_code}: {response.text[:200]}")
            return None
        return response.json()  # type: ignore[no-any-return]

    def poll(self, req: Request) -> bool:
        try:
            response = self.session.get(f"{self.cfg.gateway_url}/function/status/{req.job_id}", timeout=30)
        except requests.RequestException:
            return False
        return response.ok and self.absorb(req, response.json())

    def closed_step(self, step: str, concurrency: int, total: int, timeout: float) -> list[Request]:
        deadline = time.monotonic() + timeout
        records: list[Request] = []
        left = [total]

        def client() -> None:
            while time.monotonic() < deadline:
                with self.lock:
                    if left[0] <= 0:
                        return
                    left[0] -= 1
                req = Request(step=step, sent=0.0, prompt=self.next_prompt())
                records.append(req)
                wait = max(1.0, min(60.0, deadline - time.monotonic()))
                view = self.submit(req, wait)
                if view is None:
                    if req.outcome == "rejected":
                        time.sleep(1.0)
                    continue
                ended = self.absorb(req, view)
                while not ended and time.monotonic() < deadline:
                    time.sleep(0.5)
                    ended = self.poll(req)
                if ended:
                    req.done = self.now()

        threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(max(0.1, deadline - time.monotonic() + 5))
        return records

    def open_step(self, step: str, rate_per_min: float, count: int, process: Literal["poisson", "uniform"],
                  seed: int, timeout: float, front: int) -> list[Request]:
        offsets = arrivals(rate_per_min / 60, count, process=process, seed=seed)
        start = time.monotonic()
        deadline = start + timeout
        records: list[Request] = []
        outstanding: list[Request] = []
        sending = threading.Event()
        sending.set()

        def sender() -> None:
            for offset in offsets:
                delay = start + offset - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                if time.monotonic() > deadline:
                    break
                req = Request(step=step, sent=0.0, prompt=self.next_prompt())
                view = self.submit(req, 0)
                with self.lock:
                    records.append(req)
                    if view is not None and not self.absorb(req, view):
                        outstanding.append(req)
            sending.clear()

        thread = threading.Thread(target=sender, daemon=True)
        thread.start()
        # Jobs end roughly in arrival order: poll the oldest few often, the rest when they come up.
        while (sending.is_set() or outstanding) and time.monotonic() < deadline:
            with self.lock:
                oldest = outstanding[:front]
            for req in oldest:
                if self.poll(req):
                    with self.lock:
                        outstanding.remove(req)
            time.sleep(0.25)
        thread.join(1)
        return records
