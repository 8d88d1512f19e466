"""The real local stack for fault, fuzz, overload and security runs, and the probes they share.

Everything is real: supervisord, redis-server (AOF, fsync always), SeaweedFS S3, warm workers on
SmolLM2, the functions through the template's index.py, the gateway; each run on free loopback
ports in its own state directory. Job states are read straight from Redis (never through the
``status`` function, whose clean-up call would hide a worker-side recovery bug).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis
import requests

from text2pixi import registry
from text2pixi.core.contracts import JobStatus
from text2pixi.core.errors import ServiceUnavailable
from text2pixi.ops import localstack
from text2pixi.ops.localstack import StackConfig, binary, free_port
from text2pixi.service.jobs import Jobs
from text2pixi.service.store import PAGE_SUFFIX, RESULT_SUFFIX, Store

PROMPTS = ("a pink rectangle", "a red ball bounces", "three blue squares spinning in a row",
           "a green star fades out", "two orange circles move right", "a yellow triangle rotates")
JOB_TIMEOUT = 60
"""Short, so 'recovered within 2x the job timeout' is a tight bound; SmolLM2 jobs take 2-15 s on a
busy 2-core machine."""
FAULT_ENV = {"TEXT2PIXI_MAX_RETRIES": "0", "TEXT2PIXI_MAX_QUEUE_DEPTH": "8", "TEXT2PIXI_MAX_WAIT": "5"}


@dataclass
class Stack:
    cfg: StackConfig
    key: str
    session: requests.Session = field(default_factory=requests.Session)

    def url(self, path: str) -> str:
        return self.cfg.gateway_url + path

    def ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([binary("supervisorctl"), "-c", str(self.cfg.conf_path), *args],
                              capture_output=True, text=True, timeout=120)

    def pid(self, program: str) -> int:
        return localstack.pid_of(self.cfg, program)

    def pids(self) -> dict[str, int]:
        programs = ["redis", "s3", "gateway", *localstack.FUNCTIONS,
                    *(f"worker{n}" for n in range(1, self.cfg.workers + 1))]
        return {p: self.pid(p) for p in programs}

    def rss_kib(self, program: str) -> int:
        """Resident memory of a program's process (supervisord's child), from /proc."""
        pid = self.pid(program)
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def settings(self):  # type: ignore[no-untyped-def]
        return localstack.service_settings(self.cfg)

    def jobs(self) -> Jobs:
        return Jobs(self.settings())

    def store(self) -> Store:
        return Store(self.settings())

    def headers(self, **extra: str) -> dict[str, str]:
        return {"X-API-Key": self.key, **extra}


def start(state_dir: Path, *, workers: int = 2, job_timeout: int = JOB_TIMEOUT,
          extra_env: dict[str, str] | None = None) -> Stack:
    cfg = StackConfig(
        state_dir=state_dir, gateway_port=free_port(), redis_port=free_port(),
        s3_port=free_port(also_plus=10000), function_base_port=free_port(also_plus=2),
        weed_base_port=free_port(also_plus=10003), workers=workers, threads_per_worker=1,
        model=registry.SMALL_MODEL, job_timeout=job_timeout, extra_env={**FAULT_ENV, **(extra_env or {})},
    )
    localstack.up(cfg, timeout=240, log=lambda m: None)
    return Stack(cfg, localstack.api_key(cfg))


def queue_bound(stack: Stack) -> int:
    """The stack's TEXT2PIXI_MAX_QUEUE_DEPTH (its processes' environment, not ours)."""
    return int(stack.cfg.extra_env.get("TEXT2PIXI_MAX_QUEUE_DEPTH") or stack.settings().max_queue_depth)


def queue_room(stack: Stack) -> int:
    """Free places in the queue (0 when Redis does not answer)."""
    try:
        return queue_bound(stack) - stack.jobs().queue.count
    except (ServiceUnavailable, redis.RedisError):
        return 0


def stop(stack: Stack) -> None:
    localstack.down(stack.cfg)


def wait_healthy(stack: Stack, timeout: float = 90) -> None:
    """Gateway, every function and Redis answer again (after a fault)."""
    def probe() -> bool:
        ok = all(requests.get(stack.url(f"/function/{f}/healthz"), timeout=2).status_code == 200
                 for f in localstack.FUNCTIONS)
        return ok and bool(redis.Redis.from_url(stack.settings().resolved_redis_url, socket_timeout=2).ping())
    localstack.wait_until("the stack", probe, timeout)


@dataclass
class Submission:
    prompt: str
    idem: str
    job_id: str | None = None
    accepted_at: float = 0.0
    answers: list[int] = field(default_factory=list)


def submit(stack: Stack, prompt: str, *, patience: float = 60.0, max_tokens: int | None = None) -> Submission:
    """Submit like a careful client: retry connection errors and 502/503/504 with the same
    Idempotency-Key, so a job is accepted at most once; 429 is an answer, not retried."""
    sub = Submission(prompt, uuid.uuid4().hex)
    body: dict[str, Any] = {"prompt": prompt}
    if max_tokens:
        body["options"] = {"max_tokens": max_tokens}
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        try:
            answer = stack.session.post(stack.url("/function/translate"), json=body, timeout=15,
                                        headers=stack.headers(**{"Idempotency-Key": sub.idem}))
        except requests.RequestException:
            sub.answers.append(0)
            time.sleep(0.5)
            continue
        sub.answers.append(answer.status_code)
        if answer.status_code in (200, 202):
            sub.job_id, sub.accepted_at = answer.json()["id"], time.monotonic()
            return sub
        if answer.status_code not in (502, 503, 504):
            return sub
        time.sleep(0.5)
    return sub


def state(jobs: Jobs, job_id: str) -> tuple[str, dict[str, Any] | None]:
    """(status, error) straight from Redis; ``("unreachable", None)`` while Redis is down,
    ``("missing", None)`` when Redis has no such job."""
    try:
        job = jobs.fetch(job_id)
        if job is None:
            return "missing", None
        view = jobs.view(job)
        return view.status.value, view.error
    except ServiceUnavailable:
        return "unreachable", None
    except redis.RedisError:
        return "unreachable", None


def rq_status(jobs: Jobs, job_id: str) -> str:
    try:
        job = jobs.fetch(job_id)
        status = job.get_status() if job else None
        return status.value if status is not None else "missing"
    except (ServiceUnavailable, redis.RedisError):
        return "unreachable"


def worker_of(jobs: Jobs, job_id: str) -> str:
    try:
        job = jobs.fetch(job_id)
        return str(job.get_meta(refresh=True).get("worker", "")) if job else ""
    except (ServiceUnavailable, redis.RedisError):
        return ""


def checksums(store: Store, job_id: str) -> dict[str, str]:
    """Verify one finished job's stored objects and return their hashes.

    The document's body must match the sha256 in its metadata; the page (gunzipped) must match
    both its own metadata and the document's ``page_sha256``. Raises AssertionError otherwise.
    """
    bucket = store.settings.results_bucket
    doc_obj = store.client.get_object(Bucket=bucket, Key=job_id + RESULT_SUFFIX)
    raw = doc_obj["Body"].read()
    doc_sha = hashlib.sha256(raw).hexdigest()
    assert doc_obj["Metadata"].get("sha256") == doc_sha, f"{job_id}: document fails its checksum"
    document = json.loads(raw)
    page_obj = store.client.get_object(Bucket=bucket, Key=job_id + PAGE_SUFFIX)
    page = gzip.decompress(page_obj["Body"].read())
    page_sha = hashlib.sha256(page).hexdigest()
    assert page_obj["Metadata"].get("sha256") == page_sha, f"{job_id}: page fails its checksum"
    assert document["page_sha256"] == page_sha, f"{job_id}: document and page disagree"
    return {"document": doc_sha, "page": page_sha}


def kill(pid: int, sig: int = signal.SIGKILL) -> None:
    if pid:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def is_final(status: str) -> bool:
    return status in (JobStatus.FINISHED.value, JobStatus.FAILED.value)
