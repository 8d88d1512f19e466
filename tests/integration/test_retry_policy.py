"""Which failed jobs RQ runs again: a real redis-server and real WarmWorker processes (rq_worker.retryable).

A job whose worker was killed is retried and finishes; a job that ran into its timeout, or raised a generation
error, fails after one run with its reason; a job that lost its storage is retried as before.

Two workers start together on one queue for the whole module (starting one imports the service, seconds on a
busy host, so they start once and side by side): the kill test kills the one running its job and the other
picks the job up; every other test needs only one of them alive.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from rq import Queue, Retry
from rq.job import Job, JobStatus

from tests.backends import RedisServer
from text2pixi.service.jobs import failure_error
from text2pixi.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
RETRIES = 2
WORKER = """
import sys, redis
from rq import Queue
from text2pixi.worker.rq_worker import WarmWorker
connection = redis.Redis.from_url(sys.argv[1])
worker = WarmWorker([Queue(sys.argv[2], connection=connection)], connection=connection, beat_interval=1,
                    maintenance_interval=1)
worker.work(logging_level="WARNING")
"""


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server
    finally:
        server.stop()


def start_worker(server: RedisServer, queue: str) -> subprocess.Popen[bytes]:
    """A WarmWorker process (heartbeat every second, clean-up every second) on ``queue``."""
    return subprocess.Popen([sys.executable, "-c", WORKER, server.url, queue], cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {seconds} s")
        time.sleep(0.1)


def enqueue(connection: redis.Redis, queue: str, func: str, *args: object, timeout: int = 60) -> tuple[Job, str]:
    key = f"runs:{uuid.uuid4().hex}"
    job = Queue(queue, connection=connection).enqueue(f"tests.integration.retry_jobs.{func}", key, *args,
                                                      job_timeout=timeout, retry=Retry(max=RETRIES))
    return job, key


def ended(job: Job) -> Callable[[], bool]:
    return lambda: job.get_status(refresh=True) in (JobStatus.FINISHED, JobStatus.FAILED)


def runs(connection: redis.Redis, key: str) -> int:
    return int(connection.get(key) or 0)


@pytest.fixture(scope="module")
def workers(redis_server: RedisServer) -> Iterator[tuple[str, list[subprocess.Popen[bytes]]]]:
    """Two workers on one queue, started at once; yields the queue's name and the processes."""
    queue = f"policy-{uuid.uuid4().hex[:8]}"
    processes = [start_worker(redis_server, queue) for _ in range(2)]
    try:
        yield queue, processes
    finally:
        for process in processes:
            stop(process)


@pytest.fixture
def worker(workers: tuple[str, list[subprocess.Popen[bytes]]]) -> str:
    """The queue, for a test that kills no worker."""
    return workers[0]


def test_a_job_timeout_fails_at_once_with_its_reason(redis_server: RedisServer, worker: str) -> None:
    connection = redis.Redis.from_url(redis_server.url)
    job, key = enqueue(connection, worker, "sleep", 30, timeout=1)
    wait_for(ended(job), 60, "the timed-out job's end")
    # Ended after its first run: with the retries RQ would have run it three times (1 s each) before FAILED.
    assert job.get_status(refresh=True) == JobStatus.FAILED
    assert runs(connection, key) == 1
    reason = failure_error(job, Settings())
    assert reason["error"] == "job_failed"
    assert reason["message"].startswith("the job ran longer than its 1 s timeout; not retried")


def test_a_generation_error_that_escaped_is_not_retried(redis_server: RedisServer, worker: str) -> None:
    connection = redis.Redis.from_url(redis_server.url)
    job, key = enqueue(connection, worker, "runaway")
    wait_for(ended(job), 60, "the job's end")
    assert job.get_status(refresh=True) == JobStatus.FAILED
    assert runs(connection, key) == 1
    assert "RunawayGeneration: stopped after 90 tokens" in failure_error(job, Settings())["message"]


def test_storage_trouble_is_still_retried(redis_server: RedisServer, worker: str) -> None:
    connection = redis.Redis.from_url(redis_server.url)
    job, key = enqueue(connection, worker, "storage_down")
    wait_for(ended(job), 60, "the job's end")
    assert job.get_status(refresh=True) == JobStatus.FAILED
    assert runs(connection, key) == 1 + RETRIES
    assert failure_error(job, Settings())["message"] == "the worker could not reach object storage to save the result"


def test_a_killed_workers_job_is_retried_and_finishes(redis_server: RedisServer,
                                                      workers: tuple[str, list[subprocess.Popen[bytes]]]) -> None:
    connection = redis.Redis.from_url(redis_server.url)
    queue, processes = workers
    assert all(process.poll() is None for process in processes), "both workers must be alive to start with"
    job, key = enqueue(connection, queue, "sleep_first_run", 60)
    wait_for(lambda: runs(connection, key) == 1, 60, "the job's first run")
    pid = int(connection.get(f"{key}:pid") or 0)
    victim = next(process for process in processes if process.pid == pid)
    job.refresh()
    killed_worker = job.worker_name
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    # Its heartbeat (4 s) expires, the survivor's next clean-up (every second) requeues it, and the survivor runs it.
    wait_for(ended(job), 60, "the retried job's end")
    assert job.get_status(refresh=True) == JobStatus.FINISHED
    assert job.return_value(refresh=True) == "done"
    assert runs(connection, key) == 2
    job.refresh()
    assert job.worker_name not in ("", None, killed_worker)
    assert job.retries_left == RETRIES - 1  # requeued by the clean-up's retry of an abandoned job, as a retry
