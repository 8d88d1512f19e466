"""Bounded, self-stopping overload of ``translate`` on loopback, at a multiple of measured capacity.

1. Capacity: with an idle queue, submit a batch of jobs and time until all have ended
   (jobs per second the warm workers sustain).
2. Load: ``factor`` x capacity requests per second for ``duration`` seconds from a thread pool,
   every request with a timeout; the run stops by itself at the deadline or after ``max_requests``.
   Meanwhile the queue length and each process's resident memory are sampled.
3. Drain: every accepted job must end, and the queue must empty.

The answers must all be 202 or 429 with ``Retry-After``, the queue never longer than its bound, no
process restarted (same pids), memory bounded, and the backlog drained.

    python -m tests.faults.overload --factor 20 --duration 60
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from tests.faults import harness
from tests.faults.harness import Stack


def measure_capacity(stack: Stack, jobs_n: int = 6) -> float:
    """Jobs per second the workers finish, from an idle queue."""
    jobs = stack.jobs()
    started = time.monotonic()
    ids = [harness.submit(stack, harness.PROMPTS[i % len(harness.PROMPTS)]).job_id for i in range(jobs_n)]
    pending = {i for i in ids if i}
    deadline = started + 20 * stack.cfg.job_timeout
    while pending and time.monotonic() < deadline:
        pending = {i for i in pending if not harness.is_final(harness.state(jobs, i)[0])}
        time.sleep(0.2)
    return len(ids) / (time.monotonic() - started)


def run_overload(stack: Stack, *, factor: float = 10.0, duration: float = 30.0, max_requests: int = 5000,
                 capacity: float | None = None, log: Any = print) -> dict[str, Any]:
    capacity = capacity or measure_capacity(stack)
    rate = max(factor * capacity, 1.0)
    log(f"capacity {capacity:.3f} jobs/s; offering {rate:.2f} requests/s for {duration:.0f} s")
    jobs = stack.jobs()
    bound = harness.queue_bound(stack)
    pids_before = stack.pids()
    programs = list(pids_before)
    rss_before = {p: stack.rss_kib(p) for p in programs}
    rss_max = dict(rss_before)
    depth_max = 0
    stop = threading.Event()
    answers: Counter[int] = Counter()
    bad_retry_after = 0
    accepted: list[str] = []
    errors: Counter[str] = Counter()
    lock = threading.Lock()

    def sample() -> None:
        nonlocal depth_max
        while not stop.is_set():
            try:
                depth_max = max(depth_max, jobs.queue.count)
            except Exception:  # noqa: BLE001 - a sample lost is not a finding
                pass
            for p in programs:
                rss_max[p] = max(rss_max[p], stack.rss_kib(p))
            stop.wait(0.25)

    session = requests.Session()
    session.mount("http://", requests.adapters.HTTPAdapter(pool_maxsize=32))

    def one(n: int) -> None:
        nonlocal bad_retry_after
        try:
            r = session.post(stack.url("/function/translate"), headers=stack.headers(), timeout=10,
                             json={"prompt": harness.PROMPTS[n % len(harness.PROMPTS)]})
        except requests.RequestException as exc:
            with lock:
                errors[type(exc).__name__] += 1
            return
        with lock:
            answers[r.status_code] += 1
            if r.status_code == 202:
                accepted.append(r.json()["id"])
            elif r.status_code == 429 and not r.headers.get("Retry-After", "").isdigit():
                bad_retry_after += 1

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0 = time.monotonic()
    sent = 0
    with ThreadPoolExecutor(max_workers=32) as pool:
        while time.monotonic() - t0 < duration and sent < max_requests:
            due = t0 + sent / rate
            if due > time.monotonic():
                time.sleep(due - time.monotonic())
            pool.submit(one, sent)
            sent += 1
    load_s = time.monotonic() - t0
    # Drain: every accepted job ends, then the queue is empty.
    drain_start = time.monotonic()
    pending = set(accepted)
    deadline = drain_start + (bound + 4) * stack.cfg.job_timeout
    while pending and time.monotonic() < deadline:
        pending = {i for i in pending if not harness.is_final(harness.state(jobs, i)[0])}
        time.sleep(0.5)
    drain_s = time.monotonic() - drain_start
    stop.set()
    sampler.join(timeout=5)
    pids_after = stack.pids()
    outcomes = Counter(harness.state(jobs, i)[0] for i in accepted)
    return {
        "capacity_jobs_per_s": round(capacity, 3),
        "factor": factor,
        "offered_per_s": round(rate, 2),
        "sent": sent,
        "answered_per_s": round(sum(answers.values()) / load_s, 2),
        "load_s": round(load_s, 1),
        "answers": {str(k): v for k, v in sorted(answers.items())},
        "client_errors": dict(errors),
        "bad_retry_after": bad_retry_after,
        "queue_bound": bound,
        "queue_depth_max": depth_max,
        "accepted": len(accepted),
        "outcomes": dict(outcomes),
        "not_drained": len(pending),
        "drain_s": round(drain_s, 1),
        "queue_after": jobs.queue.count,
        "restarted": sorted(p for p in programs if pids_before[p] != pids_after[p]),
        "rss_mib_before": {p: round(v / 1024, 1) for p, v in rss_before.items()},
        "rss_mib_max": {p: round(v / 1024, 1) for p, v in rss_max.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--factor", type=float, default=10.0, help="offered load as a multiple of capacity")
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="text2pixi-overload-") as tmp:
        stack = harness.start(Path(tmp) / "stack")
        try:
            result = run_overload(stack, factor=args.factor, duration=args.duration)
        finally:
            harness.stop(stack)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    return 0 if problems(result) == [] else 1


def problems(result: dict[str, Any]) -> list[str]:
    """What makes an overload run fail (used by the CLI and the tests)."""
    found = []
    if set(result["answers"]) - {"202", "429"}:
        found.append(f"answers other than 202/429: {result['answers']}")
    if result["bad_retry_after"]:
        found.append(f"{result['bad_retry_after']} 429s without Retry-After")
    if result["queue_depth_max"] > result["queue_bound"] + 1:  # +1: the warm-up job may sit at the front
        found.append(f"queue reached {result['queue_depth_max']} (bound {result['queue_bound']})")
    if result["not_drained"] or result["queue_after"]:
        found.append(f"backlog not drained: {result['not_drained']} jobs, queue {result['queue_after']}")
    if result["restarted"]:
        found.append(f"processes restarted: {result['restarted']}")
    if result["client_errors"]:
        found.append(f"requests without an answer: {result['client_errors']}")
    return found


if __name__ == "__main__":
    raise SystemExit(main())
