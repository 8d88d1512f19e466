"""The scale experiment's arithmetic (IO-free): arrival schedules, step statistics, the knee, saturation.

``bench/scale.py`` drives the local stack and records one :class:`Request` per submitted prompt,
all on one clock (seconds since the experiment began; the client and the workers share the host's
clock). Everything that turns those records into figures lives here, so that it can be checked on
synthetic timings:

* latency: from sending the request to the job's end (``ended``, as the worker recorded it), or to
  the client holding the answer when it waited for it (closed loop);
* throughput: the work finished inside a window, counting a job that straddles the window's edge
  by the fraction of its service time (``started``..``ended``) inside it, divided by the window's
  length. The window is where the offered load is steady: from the first to the last arrival
  (open loop), or from the start until fewer jobs remain than workers (closed loop);
* the knee: the offered rate at which the median latency first exceeds ``factor`` times its floor
  (the median at the lowest rate), interpolated linearly between the two steps around it;
* the saturation check: measured throughput vs (sum over workers of engine tokens/s) / (mean
  output tokens per scene).
"""

from __future__ import annotations

import math
import random
import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Outcome = Literal["finished", "failed", "rejected", "error", "unfinished"]


@dataclass
class Request:
    """One request of a load step; times in seconds since the experiment began."""

    step: str
    sent: float
    code: int = 0  # HTTP status of the submit; 0 when there was no answer
    outcome: Outcome = "unfinished"
    started: float | None = None  # a worker took the job
    ended: float | None = None  # the job ended (worker clock = host clock)
    done: float | None = None  # the client held the answer (closed loop only)
    output_tokens: int = 0
    engine_s: float = 0.0  # the engine's own time for this job (result.timings.wall_s)
    worker: str = ""
    prompt: str = ""
    job_id: str = ""

    @property
    def latency(self) -> float | None:
        end = self.done if self.done is not None else self.ended
        return None if end is None or self.outcome not in ("finished", "failed") else end - self.sent

    def row(self) -> dict[str, Any]:
        return {**asdict(self), "latency": self.latency}


def percentile(values: Iterable[float], q: float) -> float | None:
    """The ``q``-th percentile (0..100) with linear interpolation between ranks; ``None`` when empty."""
    ordered = sorted(values)
    if not ordered:
        return None
    k = (len(ordered) - 1) * q / 100
    lo = math.floor(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def arrivals(rate_per_s: float, count: int, *, process: Literal["poisson", "uniform"] = "poisson",
             seed: int = 0) -> list[float]:
    """Offsets (s) of ``count`` arrivals at ``rate_per_s``: exponential gaps (Poisson) or equal gaps."""
    if rate_per_s <= 0 or count <= 0:
        return []
    if process == "uniform":
        return [n / rate_per_s for n in range(count)]
    rng = random.Random(seed)
    out, t = [0.0], 0.0
    for _ in range(count - 1):
        t += rng.expovariate(rate_per_s)
        out.append(t)
    return out


def work_in(requests: Iterable[Request], t0: float, t1: float) -> tuple[float, float]:
    """Finished scenes and output tokens inside ``[t0, t1]``, a job counted by the share of its
    service time (started..ended) that falls inside the window."""
    scenes = tokens = 0.0
    for r in requests:
        if r.outcome != "finished" or r.ended is None:
            continue
        start = r.started if r.started is not None else r.ended
        span = r.ended - start
        if span <= 0:
            share = 1.0 if t0 <= r.ended <= t1 else 0.0
        else:
            share = max(0.0, min(t1, r.ended) - max(t0, start)) / span
        scenes += share
        tokens += share * r.output_tokens
    return scenes, tokens


def steady_window(requests: Sequence[Request], *, mode: Literal["open", "closed"], workers: int,
                  concurrency: int = 0) -> tuple[float, float] | None:
    """Where the offered load is steady (see the module docstring); ``None`` without two events."""
    sent = sorted(r.sent for r in requests)
    ends = sorted(r.ended for r in requests if r.ended is not None and r.outcome in ("finished", "failed"))
    if not sent or not ends:
        return None
    if mode == "open":
        if len(sent) >= 2 and sent[-1] > sent[0]:
            return sent[0], sent[-1]
        return sent[0], ends[-1]
    # Closed loop: all workers stay busy until fewer jobs are left than workers (the tail).
    busy = min(workers, concurrency) if concurrency else workers
    k = max(1, len(ends) - busy + 1)
    return sent[0], ends[k - 1]


@dataclass
class StepStats:
    """The figures of one load step."""

    layout: str
    step: str
    mode: str
    offered_per_min: float | None  # open loop: the nominal arrival rate
    concurrency: int | None  # closed loop: clients
    submitted: int = 0
    rejected_429: int = 0
    errors: int = 0
    finished: int = 0
    failed: int = 0
    unfinished: int = 0
    reject_rate: float = 0.0
    arrival_per_min: float | None = None  # open loop: the realised arrival rate
    window_s: float = 0.0
    scenes_per_min: float = 0.0
    tokens_per_s: float = 0.0
    latency_p50: float | None = None
    latency_p95: float | None = None
    latency_p99: float | None = None
    latency_mean: float | None = None
    mean_output_tokens: float | None = None
    engine_s_mean: float | None = None
    queue_mean: float | None = None
    queue_max: int | None = None
    host_load_mean: float | None = None  # the host's 1-minute load average (other processes compete)
    worker_cpu_mean: dict[str, float] = field(default_factory=dict)
    worker_rss_max_mb: dict[str, float] = field(default_factory=dict)

    @property
    def load(self) -> float:
        """The x of the load plots: offered scenes/min (open) or clients (closed)."""
        return float(self.offered_per_min if self.offered_per_min is not None else self.concurrency or 0)


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def summarize_step(layout: str, step: str, requests: Sequence[Request], *, mode: Literal["open", "closed"],
                   workers: int, offered_per_min: float | None = None, concurrency: int | None = None) -> StepStats:
    stats = StepStats(layout=layout, step=step, mode=mode, offered_per_min=offered_per_min, concurrency=concurrency)
    stats.submitted = len(requests)
    stats.rejected_429 = sum(r.outcome == "rejected" for r in requests)
    stats.errors = sum(r.outcome == "error" for r in requests)
    stats.finished = sum(r.outcome == "finished" for r in requests)
    stats.failed = sum(r.outcome == "failed" for r in requests)
    stats.unfinished = sum(r.outcome == "unfinished" for r in requests)
    stats.reject_rate = round(stats.rejected_429 / stats.submitted, 4) if stats.submitted else 0.0
    sent = sorted(r.sent for r in requests)
    if mode == "open" and len(sent) >= 2 and sent[-1] > sent[0]:
        stats.arrival_per_min = round((len(sent) - 1) / (sent[-1] - sent[0]) * 60, 3)
    done = [r for r in requests if r.outcome == "finished"]
    latencies = [r.latency for r in done if r.latency is not None]
    stats.latency_p50 = _r(percentile(latencies, 50))
    stats.latency_p95 = _r(percentile(latencies, 95))
    stats.latency_p99 = _r(percentile(latencies, 99))
    stats.latency_mean = _r(statistics.fmean(latencies)) if latencies else None
    stats.mean_output_tokens = _r(statistics.fmean(r.output_tokens for r in done), 1) if done else None
    stats.engine_s_mean = _r(statistics.fmean(r.engine_s for r in done)) if done else None
    window = steady_window(requests, mode=mode, workers=workers, concurrency=concurrency or 0)
    if window and window[1] > window[0]:
        scenes, tokens = work_in(requests, *window)
        stats.window_s = round(window[1] - window[0], 3)
        stats.scenes_per_min = round(scenes / stats.window_s * 60, 3)
        stats.tokens_per_s = round(tokens / stats.window_s, 3)
    return stats


def timeline_stats(stats: StepStats, samples: Sequence[dict[str, Any]], t0: float, t1: float) -> StepStats:
    """Add queue depth, host load and worker CPU/RSS over ``[t0, t1]`` from the sampler's rows
    (``t``, ``queued``, optional ``loadavg``, ``cpu:<worker>`` in % of one core, ``rss_mb:<worker>``)."""
    inside = [s for s in samples if t0 <= s["t"] <= t1]
    if not inside:
        return stats
    stats.queue_mean = round(statistics.fmean(s["queued"] for s in inside), 2)
    stats.queue_max = max(int(s["queued"]) for s in inside)
    if all("loadavg" in s for s in inside):
        stats.host_load_mean = round(statistics.fmean(s["loadavg"] for s in inside), 2)
    for key in inside[0]:
        if key.startswith("cpu:"):
            stats.worker_cpu_mean[key[4:]] = round(statistics.fmean(s.get(key, 0.0) for s in inside), 1)
        elif key.startswith("rss_mb:"):
            stats.worker_rss_max_mb[key[7:]] = round(max(s.get(key, 0.0) for s in inside), 1)
    return stats


@dataclass
class Knee:
    floor_s: float | None  # median latency at the lowest offered rate
    threshold_s: float | None  # factor x floor
    rate_per_min: float | None  # where the median latency crosses the threshold; None when it never does
    between: tuple[float, float] | None  # the two offered rates around the crossing
    factor: float


def find_knee(points: Sequence[tuple[float, float | None]], factor: float = 1.5) -> Knee:
    """The knee of (offered rate, median latency) points; points without a latency are skipped."""
    pts = sorted((x, y) for x, y in points if y is not None)
    if not pts:
        return Knee(None, None, None, None, factor)
    floor = pts[0][1]
    threshold = factor * floor
    for (x0, y0), (x1, y1) in zip(pts, pts[1:], strict=False):
        if y1 > threshold:
            rate = x0 + (x1 - x0) * (threshold - y0) / (y1 - y0) if y1 != y0 else x1
            return Knee(round(floor, 3), round(threshold, 3), round(rate, 3), (x0, x1), factor)
    return Knee(round(floor, 3), round(threshold, 3), None, None, factor)


def engine_tps(requests: Iterable[Request]) -> float | None:
    """Output tokens per second of engine time over finished jobs (retries and first-token time included)."""
    done = [r for r in requests if r.outcome == "finished" and r.engine_s > 0]
    seconds = sum(r.engine_s for r in done)
    return sum(r.output_tokens for r in done) / seconds if seconds else None


def engine_tps_by_worker(requests: Iterable[Request]) -> dict[str, float]:
    groups: dict[str, list[Request]] = defaultdict(list)
    for r in requests:
        groups[r.worker].append(r)
    out = {}
    for name, rs in sorted(groups.items()):
        rate = engine_tps(rs)
        if name and rate is not None:
            out[name] = round(rate, 3)
    return out


def saturation_check(scenes_per_min: float, worker_tps: Sequence[float], mean_output_tokens: float,
                     tolerance: float = 0.10) -> dict[str, Any]:
    """Measured throughput at saturation against (sum of engine tokens/s) / (mean output tokens)."""
    predicted = sum(worker_tps) / mean_output_tokens * 60 if mean_output_tokens else 0.0
    ratio = scenes_per_min / predicted if predicted else None
    return {"measured_scenes_per_min": round(scenes_per_min, 3), "predicted_scenes_per_min": round(predicted, 3),
            "sum_engine_tps": round(sum(worker_tps), 3), "mean_output_tokens": round(mean_output_tokens, 1),
            "ratio": None if ratio is None else round(ratio, 3),
            "within_10pct": None if ratio is None else abs(1 - ratio) <= tolerance}
