"""Overload at 10x measured capacity (``TEXT2PIXI_OVERLOAD_SECONDS`` of load, default 10; ``make
chaos`` runs 60 s at 20x), and a warm-up flood that must not grow the queue."""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from text2pixi.service.jobs import WARMUP_FUNC

from . import harness
from .overload import problems, run_overload

pytestmark = [pytest.mark.model, pytest.mark.stack]

SECONDS = float(os.environ.get("TEXT2PIXI_OVERLOAD_SECONDS", "10"))


def idle(stack: harness.Stack, timeout: float = 600) -> None:
    """Wait for the backlog an earlier test left (fuzzed prompts are real jobs)."""
    jobs = stack.jobs()
    deadline = time.monotonic() + timeout
    while (jobs.queue.count or jobs.queue.started_job_registry.count) and time.monotonic() < deadline:
        time.sleep(1)


def test_overload_answers_202_or_429_and_drains(fault_stack: harness.Stack) -> None:
    idle(fault_stack)
    result = run_overload(fault_stack, factor=10, duration=SECONDS, log=lambda m: None)
    print(json.dumps(result, indent=2))
    assert problems(result) == [], result
    assert result["answers"].get("429", 0) > 0, "10x capacity should have filled the queue"


def test_a_warmup_flood_queues_one_warmup_job(fault_stack: harness.Stack) -> None:
    idle(fault_stack)
    jobs = fault_stack.jobs()
    # Keep the workers busy so warm-ups wait in the queue, then flood.
    for prompt in harness.PROMPTS[:4]:
        harness.submit(fault_stack, prompt)
    seen: list[int] = []
    distinct: set[str] = set()

    def call(n: int) -> int:
        method = "POST" if n % 2 else "GET"
        return requests.request(method, fault_stack.url("/function/warmup?wait=2"), headers=fault_stack.headers(),
                                timeout=30).status_code

    with ThreadPoolExecutor(16) as pool:
        futures = [pool.submit(call, n) for n in range(40)]
        while not all(f.done() for f in futures):
            warmups = [j.id for j in jobs.queue.get_jobs() if j.func_name == WARMUP_FUNC]
            seen.append(len(warmups))
            distinct.update(warmups)
            time.sleep(0.05)
    statuses = {f.result() for f in futures}
    assert statuses <= {200, 202}, statuses
    # One shared job; a second one only for the instant between a losing call's enqueue and its withdrawal.
    assert max(seen) <= 2, f"{max(seen)} warm-up jobs queued at once"
    assert len(distinct) <= 10, f"40 warmup calls queued {len(distinct)} warm-up jobs"
