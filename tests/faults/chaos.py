"""Fault injection on the real local stack while jobs are in flight.

One round injects each fault once, each while a job is running on a worker:

* ``kill_worker``: SIGKILL the worker running a job (no clean-up, no goodbye);
* ``kill_redis``: SIGKILL redis-server right after jobs were accepted (the AOF loss-window test:
  with ``appendfsync always`` every acknowledged write is on disk, so no accepted job may vanish);
* ``restart_redis``: a graceful restart of redis-server;
* ``restart_s3``: stop the S3 server for a few seconds, then start it;
* ``restart_gateway`` and ``restart_functions``: restart those processes.

A client thread keeps submitting (retrying with the same Idempotency-Key, as a careful client
does); a watcher reads every accepted job's state from Redis (not through ``status``, whose
clean-up would hide a worker-side recovery bug), and the moment a job finishes it verifies the
stored objects' checksums; at the end they are verified again (results never corrupted later).

    python -m tests.faults.chaos --rounds 9 --json bench/results/chaos.json
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import redis

from tests.faults import harness
from tests.faults.harness import Stack, Submission

FAULTS = ("kill_worker", "kill_redis", "restart_redis", "restart_s3", "restart_gateway", "restart_functions")


@dataclass
class Run:
    stack: Stack
    submissions: list[Submission] = field(default_factory=list)
    final: dict[str, tuple[str, dict[str, Any] | None, float]] = field(default_factory=dict)
    sums: dict[str, dict[str, str]] = field(default_factory=dict)
    faults: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    stop_traffic: threading.Event = field(default_factory=threading.Event)
    stop_watch: threading.Event = field(default_factory=threading.Event)
    quiet: threading.Event = field(default_factory=threading.Event)  # set: the client holds back
    lock: threading.Lock = field(default_factory=threading.Lock)

    def accepted(self) -> list[Submission]:
        with self.lock:
            return [s for s in self.submissions if s.job_id]

    def add(self, sub: Submission) -> None:
        with self.lock:
            self.submissions.append(sub)


def traffic(run: Run, interval: float) -> None:
    """A client submitting one job every ``interval`` seconds, through every fault."""
    n = 0
    while not run.stop_traffic.is_set():
        # A polite client: it leaves room in the queue (and holds back during the kill_redis burst).
        if run.quiet.is_set() or harness.queue_room(run.stack) < 3:
            run.stop_traffic.wait(0.5)
            continue
        run.add(harness.submit(run.stack, harness.PROMPTS[n % len(harness.PROMPTS)], patience=90))
        n += 1
        run.stop_traffic.wait(interval)


def watch(run: Run) -> None:
    """Record when each accepted job ends, and check its stored result right then."""
    jobs, store = run.stack.jobs(), run.stack.store()
    while not run.stop_watch.is_set():
        for sub in run.accepted():
            assert sub.job_id
            if sub.job_id in run.final:
                continue
            status, error = harness.state(jobs, sub.job_id)
            if status == "missing":
                run.problems.append(f"lost: job {sub.job_id} accepted but Redis has no record of it")
                run.final[sub.job_id] = ("lost", None, time.monotonic())
            elif harness.is_final(status):
                run.final[sub.job_id] = (status, error, time.monotonic())
                if status == "finished":
                    try:
                        run.sums[sub.job_id] = harness.checksums(store, sub.job_id)
                    except AssertionError as exc:
                        run.problems.append(f"corrupt: {exc}")
                    except Exception as exc:  # noqa: BLE001 - S3 down right now: checked again at the end
                        run.sums.setdefault(sub.job_id, {"deferred": type(exc).__name__})
        run.stop_watch.wait(0.3)


def running_job(run: Run, timeout: float = 60) -> tuple[str, str] | None:
    """A job a worker is running right now, and that worker's name."""
    jobs = run.stack.jobs()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for sub in reversed(run.accepted()):
            assert sub.job_id
            if sub.job_id not in run.final and harness.rq_status(jobs, sub.job_id) == "started":
                worker = harness.worker_of(jobs, sub.job_id)
                if worker:
                    return sub.job_id, worker
        time.sleep(0.05)
    return None


def inject(run: Run, fault: str) -> dict[str, Any]:
    stack = run.stack
    event: dict[str, Any] = {"fault": fault, "at": time.monotonic()}
    busy = running_job(run)
    event["job_in_flight"] = busy[0] if busy else None
    if fault == "kill_worker":
        if busy is None:
            event["skipped"] = "no job started within 60 s"
            return event
        event["job"], event["worker"] = busy
        harness.kill(stack.pid(busy[1]), signal.SIGKILL)
    elif fault == "kill_redis":
        run.quiet.set()  # the burst must be accepted: no competition for the queue's room
        deadline = time.monotonic() + 180
        while harness.queue_room(stack) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        burst = [harness.submit(stack, "a pink rectangle", patience=5) for _ in range(3)]
        run.quiet.clear()
        for sub in burst:
            run.add(sub)
        event["acknowledged"] = [s.job_id for s in burst if s.job_id]
        harness.kill(stack.pid("redis"), signal.SIGKILL)  # no shutdown, no final fsync: only the AOF counts
    elif fault == "restart_redis":
        stack.ctl("restart", "redis")
    elif fault == "restart_s3":
        stack.ctl("stop", "s3")
        time.sleep(3)
        stack.ctl("start", "s3")
    elif fault == "restart_gateway":
        stack.ctl("restart", "gateway")
    elif fault == "restart_functions":
        stack.ctl("restart", "translate", "status", "warmup")
    harness.wait_healthy(stack)
    if fault == "kill_redis":  # every acknowledged job must have survived the crash
        jobs = stack.jobs()
        survived = [j for j in event["acknowledged"] if harness.state(jobs, j)[0] != "missing"]
        event["survived"] = len(survived)
        if len(survived) != len(event["acknowledged"]):
            run.problems.append(f"AOF lost {len(event['acknowledged']) - len(survived)} acknowledged job(s)")
    event["recovered_s"] = round(time.monotonic() - event["at"], 2)
    return event


def run_chaos(stack: Stack, rounds: int, *, interval: float = 2.0, drain_timeout: float | None = None,
              log: Any = print) -> dict[str, Any]:
    """Inject ``rounds`` x every fault; returns the report (``problems`` empty means it passed)."""
    run = Run(stack)
    threads = [threading.Thread(target=traffic, args=(run, interval), daemon=True),
               threading.Thread(target=watch, args=(run,), daemon=True)]
    for t in threads:
        t.start()
    started = time.monotonic()
    try:
        for r in range(rounds):
            for fault in FAULTS:
                event = inject(run, fault)
                run.faults.append(event)
                log(f"round {r + 1}/{rounds} {fault}: {json.dumps({k: v for k, v in event.items() if k != 'at'})}")
                time.sleep(1.0)
    finally:
        run.stop_traffic.set()
        threads[0].join(timeout=120)
    last_fault = time.monotonic()
    deadline = last_fault + (drain_timeout or 8 * stack.cfg.job_timeout)
    while time.monotonic() < deadline and any(s.job_id not in run.final for s in run.accepted()):
        time.sleep(0.5)
    run.stop_watch.set()
    threads[1].join(timeout=30)
    return report(run, started, last_fault)


def report(run: Run, started: float, last_fault: float) -> dict[str, Any]:
    stack, jobs, store = run.stack, run.stack.jobs(), run.stack.store()
    accepted = run.accepted()
    outcomes: Counter[str] = Counter()
    for sub in accepted:
        assert sub.job_id
        status = run.final.get(sub.job_id, ("stuck", None, 0.0))[0]
        if status == "stuck":
            now_status, _ = harness.state(jobs, sub.job_id)
            run.problems.append(f"stuck: job {sub.job_id} is still {now_status}")
        outcomes[status] += 1
        if status == "failed":
            error = run.final[sub.job_id][1] or {}
            if not error.get("error") or not error.get("message"):
                run.problems.append(f"failed without a reason: {sub.job_id}")
        if status == "finished":
            try:
                again = harness.checksums(store, sub.job_id)
                first = run.sums.get(sub.job_id, {})
                if "deferred" not in first and first != again:
                    run.problems.append(f"corrupt: {sub.job_id} changed after it finished")
            except AssertionError as exc:
                run.problems.append(f"corrupt: {exc}")
    # The status function agrees with Redis for every accepted job.
    for sub in accepted[:: max(1, len(accepted) // 40)]:
        view = stack.session.get(stack.url(f"/function/status/{sub.job_id}"), headers=stack.headers(), timeout=15)
        assert sub.job_id
        if view.status_code != 200 or view.json()["status"] != run.final.get(sub.job_id, ("?",))[0]:
            run.problems.append(f"status function disagrees for {sub.job_id}: {view.status_code} {view.text[:200]}")
    latencies = sorted(run.final[s.job_id][2] - s.accepted_at for s in accepted if s.job_id in run.final)
    recoveries = []
    for event in run.faults:
        if event["fault"] == "kill_worker" and event.get("job") in run.final:
            recoveries.append(round(run.final[event["job"]][2] - event["at"], 1))
    limit = 2 * stack.cfg.job_timeout
    slow = [r for r in recoveries if r > limit]
    if slow:
        run.problems.append(f"killed workers' jobs recovered in {slow} s, over 2 x the job timeout ({limit} s)")
    answers = Counter(a for s in run.submissions for a in s.answers)
    injected = Counter(e["fault"] for e in run.faults if "skipped" not in e)
    return {
        "rounds": len(run.faults) // len(FAULTS),
        "faults": dict(injected),
        "faults_total": sum(injected.values()),
        "skipped": [e for e in run.faults if "skipped" in e],
        "submitted": len(run.submissions),
        "accepted": len(accepted),
        "not_accepted_answers": {str(k): v for k, v in answers.items() if k not in (200, 202)},
        "outcomes": dict(outcomes),
        "lost": outcomes.get("lost", 0),
        "stuck": outcomes.get("stuck", 0),
        "failure_reasons": dict(Counter((run.final[s.job_id][1] or {}).get("message", "")
                                        for s in accepted if run.final.get(s.job_id, ("",))[0] == "failed")),
        "checksummed": sum(1 for v in run.sums.values() if "deferred" not in v),
        "kill_worker_recovery_s": recoveries,
        "job_timeout_s": stack.cfg.job_timeout,
        "aof_acknowledged": sum(len(e.get("acknowledged", [])) for e in run.faults),
        "aof_survived": sum(e.get("survived", 0) for e in run.faults),
        "accept_to_end_s": {"p50": _pct(latencies, 0.5), "p95": _pct(latencies, 0.95),
                            "max": latencies[-1] if latencies else None},
        "wall_s": round(time.monotonic() - started, 1),
        "drain_s": round(max((v[2] for v in run.final.values()), default=last_fault) - last_fault, 1),
        "problems": run.problems,
    }


def _pct(values: list[float], q: float) -> float | None:
    return round(values[min(len(values) - 1, int(q * len(values)))], 1) if values else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9, help="each round injects every fault once")
    parser.add_argument("--json", type=Path, default=None, help="write the report here")
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between submitted jobs")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)  # the clients' "redis unavailable" warnings are expected here
    with tempfile.TemporaryDirectory(prefix="text2pixi-chaos-") as tmp:
        stack = harness.start(Path(tmp) / "stack")
        try:
            result = run_chaos(stack, args.rounds, interval=args.interval)
        finally:
            harness.stop(stack)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    return 1 if result["problems"] or result["lost"] or result["stuck"] else 0


if __name__ == "__main__":
    try:
        raise SystemExit(main())
    except redis.RedisError as exc:  # pragma: no cover - a broken harness, not a finding
        raise SystemExit(f"harness error: {exc}") from exc
