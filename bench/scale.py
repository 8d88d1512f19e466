"""Scale to the limit: drive the local stack through the gateway with bounded load, per worker layout.

For each layout (``1x2`` = 1 worker x 2 threads, ``2x1`` = 2 workers x 1 thread) it starts a
stack on free loopback ports (or uses a running one with ``--attach STATE_DIR``), warms it, then:

1. closed loop: for each concurrency C, C clients each send ``POST /function/translate?wait=``
   and send the next prompt when the answer arrives, ``--requests`` in all per step;
   the highest step gives the throughput at saturation;
2. open loop: for each arrival rate (``0.5x`` = half the saturation throughput just measured, or
   plain numbers in scenes/min), ``--arrivals`` requests at Poisson (or ``--process uniform``)
   times, submitted without waiting, each job followed through ``status`` until it ends; the
   queue limit answers 429 when it is full. Steps stop early once a step rejects more than half of
   its requests or its median latency passes ``--stop-factor`` x the floor (past the knee).

Every step is bounded (``--step-timeout``), the queue is drained between steps, and the whole run
stops at ``--max-minutes``. A sampler reads the queue depth from Redis and each worker's CPU and
RSS (psutil, worker pids from supervisord) every ``--sample-interval`` seconds.

Reports per step: scenes/min, tokens/s, latency p50/p95/p99, 429 rate, queue depth, worker CPU and
RSS; the knee (the arrival rate where the median latency leaves its floor, ``--knee-factor`` x the
floor); and the check "throughput at saturation within 10 % of (sum over workers of engine tok/s)
/ (mean output tokens)". Writes requests.csv, steps.csv, timeline.csv, summary.json, three plots
(latency_vs_load.png, throughput_vs_load.png, queue_depth.png) and report.md into ``--out``;
``--doc docs/performance.md`` also replaces the scale section there.

    python bench/scale.py --model qwen2.5-coder-1.5b-instruct-q4_k_m --layouts 1x2,2x1
    python bench/scale.py --model smollm2-135m-instruct-q4_1 --layouts 1x2,2x1 --out docs/scale \\
        --doc docs/performance.md
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shlex
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import psutil
import redis
import requests
from rq import Queue

from text2pixi import registry
from text2pixi.ops import localstack
from text2pixi.ops.localstack import StackConfig, free_port
from text2pixi.quality.evaluation import replace_section
from text2pixi.quality.loadtest import (
    Knee,
    Request,
    StepStats,
    arrivals,
    engine_tps,
    engine_tps_by_worker,
    find_knee,
    saturation_check,
    summarize_step,
    timeline_stats,
)

ROOT = Path(__file__).resolve().parent.parent
PROMPTS = [
    "a red circle in the centre moves to the right",
    "a green star fades out slowly",
    "a pink rectangle rotates",
    "two orange balls move up",
]
DOC_BEGIN, DOC_END = "<!-- scale:begin -->", "<!-- scale:end -->"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- the stack ---------------------------------------------------------------------------------


def parse_layouts(text: str) -> list[tuple[int, int]]:
    out = []
    for part in text.split(","):
        workers, _, threads = part.strip().lower().partition("x")
        out.append((int(workers), int(threads)))
    return out


def stack_config(workers: int, threads: int, args: argparse.Namespace, state: Path) -> StackConfig:
    return StackConfig(state_dir=state, gateway_port=free_port(), redis_port=free_port(),
                      s3_port=free_port(also_plus=10000), function_base_port=free_port(also_plus=2),
                      weed_base_port=free_port(also_plus=10003), workers=workers, threads_per_worker=threads,
                      model=args.model, model_via_s3=False, job_timeout=args.job_timeout,
                      extra_env={"TEXT2PIXI_MAX_QUEUE_DEPTH": str(args.max_queue_depth),
                                 **({"TEXT2PIXI_MAX_RETRIES": str(args.max_retries)}
                                    if args.max_retries is not None else {})})


def start_stack(cfg: StackConfig, args: argparse.Namespace) -> None:
    log(f"starting a stack: {cfg.workers} worker(s) x {cfg.threads} thread(s), {cfg.model}, queue limit "
        f"{args.max_queue_depth}, gateway {cfg.gateway_url}")
    t = time.monotonic()
    localstack.up(cfg, timeout=args.start_timeout, log=lambda m: None)
    log(f"stack up in {time.monotonic() - t:.0f}s")


def attached_stack(args: argparse.Namespace) -> StackConfig:
    cfg = StackConfig(state_dir=args.attach, gateway_port=args.gateway_port, redis_port=args.redis_port)
    if not localstack.is_running(cfg):
        raise SystemExit(f"no running stack under {args.attach}")
    names = [line.split()[0] for line in localstack.status(cfg).splitlines() if line.startswith("worker")]
    conf = cfg.conf_path.read_text()
    threads = re.search(r'TEXT2PIXI_N_THREADS="(\d+)"', conf)
    model = re.search(r'TEXT2PIXI_MODEL="([^"]+)"', conf)
    return cfg.model_copy(update={"workers": max(1, len(names)),
                                  "threads_per_worker": int(threads.group(1)) if threads else None,
                                  "model": model.group(1) if model else cfg.model})


def worker_names(cfg: StackConfig) -> list[str]:
    return [f"worker{n}" for n in range(1, cfg.workers + 1)]


# --- sampling ------------------------------------------------------------------------------------


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


# --- load ----------------------------------------------------------------------------------------


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


# --- one layout ----------------------------------------------------------------------------------


def parse_rates(text: str, saturation_per_min: float) -> list[float]:
    rates = []
    for part in text.split(","):
        part = part.strip().lower()
        rates.append(float(part[:-1]) * saturation_per_min if part.endswith("x") else float(part))
    return [round(r, 3) for r in rates if r > 0]


def drain(sampler: Sampler, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if sampler.idle():
                return
        except redis.RedisError:
            pass
        time.sleep(0.5)
    log(f"the queue did not drain within {timeout:.0f}s; going on")


def run_layout(cfg: StackConfig, label: str, args: argparse.Namespace, t0: float,
               out_of_time: Callable[[], bool]) -> dict[str, Any]:
    workers = cfg.workers
    options: dict[str, Any] = {}
    if args.max_tokens:
        options["max_tokens"] = args.max_tokens
    driver = Driver(cfg, t0, options, args.prompt or PROMPTS)
    sampler = Sampler(cfg, t0, args.sample_interval)
    sampler.start()
    records: list[Request] = []
    steps: list[StepStats] = []
    try:
        sampler.label = f"{label} warm-up"
        warm = driver.closed_step(f"{label} warm-up", workers, workers, args.step_timeout)
        log(f"{label}: warm-up {[r.outcome for r in warm]}")

        def finish(step: str, recs: list[Request], t_start: float, **kw: Any) -> StepStats:
            stats = summarize_step(label, step, recs, workers=workers, **kw)
            stats = timeline_stats(stats, sampler.rows, t_start, driver.now())
            records.extend(recs)
            steps.append(stats)
            log(f"{label} {step}: {stats.finished} finished, {stats.failed} failed, {stats.rejected_429} x 429, "
                f"{stats.unfinished} unfinished; {stats.scenes_per_min:.2f} scenes/min, "
                f"{stats.tokens_per_s:.1f} tok/s, "
                f"p50 {stats.latency_p50} s, p95 {stats.latency_p95} s, queue max {stats.queue_max}")
            return stats

        for c in args.concurrency:
            if out_of_time():
                break
            step = f"closed c={c}"
            sampler.label = f"{label} {step}"
            t_start = driver.now()
            recs = driver.closed_step(step, c, args.requests if c > 1 else max(2, args.requests // 2),
                                      args.step_timeout)
            finish(step, recs, t_start, mode="closed", concurrency=c)
            drain(sampler, args.step_timeout)

        closed = [s for s in steps if s.mode == "closed"]
        saturated = [s for s in closed if (s.concurrency or 0) >= workers] or closed
        sat = max(saturated, key=lambda s: s.scenes_per_min) if saturated else None
        sat_rate = sat.scenes_per_min if sat else 0.0
        rates = parse_rates(args.rates, sat_rate) if sat_rate > 0 or "x" not in args.rates else []
        open_steps: list[StepStats] = []
        for n, rate in enumerate(rates):
            if out_of_time():
                log(f"{label}: --max-minutes reached; stopping")
                break
            step = f"open {rate:g}/min"
            sampler.label = f"{label} {step}"
            t_start = driver.now()
            recs = driver.open_step(step, rate, args.arrivals, args.process, args.seed + n, args.step_timeout,
                                    front=2 * workers + 2)
            stats = finish(step, recs, t_start, mode="open", offered_per_min=rate)
            open_steps.append(stats)
            drain(sampler, args.step_timeout)
            floor = open_steps[0].latency_p50
            slow = bool(floor and stats.latency_p50 and stats.latency_p50 > args.stop_factor * floor)
            if stats.reject_rate > 0.5 or slow:
                log(f"{label}: past the knee (429 rate {stats.reject_rate:.0%}, p50 {stats.latency_p50} s); "
                    "no higher rates")
                break
    finally:
        sampler.stop.set()
        sampler.join(5)

    knee = find_knee([(s.offered_per_min or 0.0, s.latency_p50) for s in open_steps], args.knee_factor)
    one = next((s for s in closed if s.concurrency == 1), None)
    one_recs = [r for r in records if one and r.step == one.step]
    sat_recs = [r for r in records if sat and r.step == sat.step]
    alone = engine_tps(one_recs)
    loaded = engine_tps_by_worker(sat_recs)
    check: dict[str, Any] = {}
    if sat and sat.mean_output_tokens:
        if alone:
            check["vs_engine_alone"] = saturation_check(sat.scenes_per_min, [alone] * workers,
                                                        sat.mean_output_tokens)
        if loaded:
            check["vs_engine_in_step"] = saturation_check(sat.scenes_per_min, list(loaded.values()),
                                                          sat.mean_output_tokens)
    return {
        "layout": label, "workers": workers, "threads": cfg.threads, "model": cfg.model,
        "steps": steps, "requests": records, "timeline": sampler.rows, "knee": knee,
        "saturation_step": sat.step if sat else None, "engine_tps_alone": None if alone is None else round(alone, 3),
        "engine_tps_in_saturation_by_worker": loaded, "saturation_check": check,
    }


# --- output --------------------------------------------------------------------------------------


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    fields: list[str] = []
    for row in rows:
        fields.extend(k for k in row if k not in fields)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def _flat(stats: StepStats) -> dict[str, Any]:
    row = asdict(stats)
    cpu, rss = row.pop("worker_cpu_mean"), row.pop("worker_rss_max_mb")
    row.update({f"cpu_mean:{k}": v for k, v in cpu.items()})
    row.update({f"rss_max_mb:{k}": v for k, v in rss.items()})
    return row


def plots(results: list[dict[str, Any]], out: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    fig, (ax_open, ax_closed) = plt.subplots(1, 2, figsize=(11, 4.2))
    for res in results:
        opened = [s for s in res["steps"] if s.mode == "open" and s.latency_p50 is not None]
        closed = [s for s in res["steps"] if s.mode == "closed" and s.latency_p50 is not None]
        for q, style in (("p50", "-o"), ("p95", "--s"), ("p99", ":^")):
            if opened:
                ax_open.plot([s.offered_per_min for s in opened], [getattr(s, f"latency_{q}") for s in opened],
                             style, label=f"{res['layout']} {q}")
            if closed:
                ax_closed.plot([s.concurrency for s in closed], [getattr(s, f"latency_{q}") for s in closed],
                               style, label=f"{res['layout']} {q}")
        knee: Knee = res["knee"]
        if knee.rate_per_min is not None:
            ax_open.axvline(knee.rate_per_min, color="grey", linewidth=0.8)
            ax_open.annotate(f"knee {res['layout']}", (knee.rate_per_min, knee.threshold_s or 0), fontsize=8)
    ax_open.set(title="open loop: latency vs arrival rate", xlabel="offered scenes/min", ylabel="latency (s)")
    ax_closed.set(title="closed loop: latency vs clients", xlabel="concurrent clients", ylabel="latency (s)")
    for ax in (ax_open, ax_closed):
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.tight_layout()
    files.append(out / "latency_vs_load.png")
    fig.savefig(files[-1], dpi=110)
    plt.close(fig)

    fig, (ax_open, ax_closed) = plt.subplots(1, 2, figsize=(11, 4.2))
    top = 0.0
    for res in results:
        opened = [s for s in res["steps"] if s.mode == "open"]
        closed = [s for s in res["steps"] if s.mode == "closed"]
        if opened:
            xs = [s.offered_per_min or 0.0 for s in opened]
            ax_open.plot(xs, [s.scenes_per_min for s in opened], "-o", label=f"{res['layout']} finished")
            ax_open.plot(xs, [s.reject_rate * 100 for s in opened], ":x", label=f"{res['layout']} 429 %")
            top = max(top, *xs)
        if closed:
            ax_closed.plot([s.concurrency for s in closed], [s.scenes_per_min for s in closed], "-o",
                           label=res["layout"])
    if top:
        ax_open.plot([0, top], [0, top], color="grey", linewidth=0.8, label="offered")
    ax_open.set(title="open loop: throughput vs arrival rate", xlabel="offered scenes/min",
                ylabel="scenes/min (429: % of requests)")
    ax_closed.set(title="closed loop: throughput vs clients", xlabel="concurrent clients", ylabel="scenes/min")
    for ax in (ax_open, ax_closed):
        ax.grid(alpha=0.3)
        ax.set_ylim(bottom=0)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.tight_layout()
    files.append(out / "throughput_vs_load.png")
    fig.savefig(files[-1], dpi=110)
    plt.close(fig)

    fig, axes = plt.subplots(len(results), 1, figsize=(11, 2.8 * len(results)), squeeze=False)
    for ax, res in zip(axes[:, 0], results, strict=True):
        rows = res["timeline"]
        if rows:
            t_first = rows[0]["t"]
            ts = [r["t"] - t_first for r in rows]
            ax.step(ts, [r["queued"] for r in rows], where="post", label="queued")
            ax.step(ts, [r["started"] for r in rows], where="post", label="running")
            previous = None
            for t, r in zip(ts, rows, strict=True):
                if r["step"] != previous:
                    ax.axvline(t, color="grey", linewidth=0.6)
                    ax.annotate(r["step"].split(" ", 1)[-1], (t, 0), fontsize=7, rotation=90, va="bottom")
                    previous = r["step"]
        ax.set(title=f"{res['layout']}: queue depth over time", xlabel="s", ylabel="jobs")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    files.append(out / "queue_depth.png")
    fig.savefig(files[-1], dpi=110)
    plt.close(fig)
    return files


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def markdown(summary: dict[str, Any], results: list[dict[str, Any]], out: Path, doc: Path | None) -> str:
    base = doc.parent if doc else out
    rel = os.path.relpath(out, base)
    lines = [
        DOC_BEGIN,
        "## Scale to the limit (issue: performance lab)",
        "",
        "Command (starts one stack per layout on free loopback ports, drives it through the gateway, "
        "stops it; bounded and self-stopping):",
        "",
        "```bash",
        summary["command"],
        "```",
        "",
        f"Run of {summary['started']}, model `{summary['model']}`, prompts cycled from a fixed set of "
        f"{len(summary['prompts'])}, queue limit {summary['max_queue_depth']}, {summary['arrivals']} arrivals per "
        f"open-loop step ({summary['process']}), {summary['duration_s']:.0f} s in all, host load average "
        f"{summary['loadavg_mean']:.1f} on {summary['host_cores']} cores "
        f"(raw data: [`summary.json`]({rel}/summary.json), [`steps.csv`]({rel}/steps.csv), "
        f"[`requests.csv`]({rel}/requests.csv), [`timeline.csv`]({rel}/timeline.csv)).",
        "",
        "| layout | saturation (closed loop) | tokens/s | engine tok/s alone x workers | predicted | "
        "**measured / predicted** | knee (open loop) | latency floor p50 | worker CPU at saturation | peak RSS |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for res in results:
        sat = next((s for s in res["steps"] if s.step == res["saturation_step"]), None)
        chk = res["saturation_check"].get("vs_engine_alone", {})
        knee: Knee = res["knee"]
        knee_text = f"{knee.rate_per_min:.2f} scenes/min" if knee.rate_per_min is not None else "not reached"
        floor = f"{knee.floor_s:.2f} s" if knee.floor_s is not None else "—"
        cpu = ", ".join(f"{v:.0f} %" for v in (sat.worker_cpu_mean.values() if sat else []))
        rss = max((v for s in res["steps"] for v in s.worker_rss_max_mb.values()), default=None)
        alone = res["engine_tps_alone"]
        lines.append(
            f"| {res['workers']} x {res['threads']} | {_fmt(sat.scenes_per_min if sat else None, 2)} scenes/min "
            f"({sat.step if sat else '—'}) | {_fmt(sat.tokens_per_s if sat else None)} | "
            f"{_fmt(alone)} x {res['workers']} | {_fmt(chk.get('predicted_scenes_per_min'), 2)} scenes/min | "
            f"**{_fmt(chk.get('ratio'), 2)}** | {knee_text} | {floor} | {cpu or '—'} | "
            f"{_fmt(rss, 0)} MB |")
    lines += [
        "",
        "Per step (closed loop: C clients each waiting for its answer; open loop: arrivals at the offered rate):",
        "",
        "| layout | step | sent | finished | failed | 429 | scenes/min | tokens/s | p50 | p95 | p99 | "
        "queue mean/max | worker CPU | RSS max | host load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for res in results:
        for s in res["steps"]:
            lines.append(
                f"| {res['layout']} | {s.step} | {s.submitted} | {s.finished} | {s.failed} | "
                f"{s.rejected_429} ({s.reject_rate:.0%}) | {s.scenes_per_min:.2f} | {s.tokens_per_s:.1f} | "
                f"{_fmt(s.latency_p50, 2)} | {_fmt(s.latency_p95, 2)} | {_fmt(s.latency_p99, 2)} | "
                f"{_fmt(s.queue_mean)}/{_fmt(s.queue_max)} | "
                f"{', '.join(f'{v:.0f} %' for v in s.worker_cpu_mean.values()) or '—'} | "
                f"{_fmt(max(s.worker_rss_max_mb.values(), default=None), 0)} MB | {_fmt(s.host_load_mean)} |")
    lines += [
        "",
        f"![latency vs load]({rel}/latency_vs_load.png)",
        f"![throughput vs load]({rel}/throughput_vs_load.png)",
        f"![queue depth over time]({rel}/queue_depth.png)",
        "",
        "How to read it: *saturation* is the best closed-loop step with at least as many clients as workers, "
        "counted over the window where every worker had work (jobs straddling its edges count by the share of "
        "their service time inside it). *Predicted* is (sum over workers of engine tokens/s) / (mean output "
        "tokens per scene), with the engine rate taken from the one-client step (output tokens / engine time, "
        "first-token time and re-asks included); the target is measured / predicted within 10 % of 1. The "
        f"*knee* is the offered rate where the median latency first exceeds {summary['knee_factor']:g} x its "
        "value at the lowest rate (interpolated between steps). CPU is % of one core per worker (psutil).",
        DOC_END,
    ]
    return "\n".join(lines) + "\n"


def update_doc(doc: Path, section: str) -> None:
    text = doc.read_text() if doc.exists() else ""
    doc.write_text(replace_section(text, section, DOC_BEGIN, DOC_END))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=registry.DEFAULT_MODEL)
    parser.add_argument("--layouts", default="1x2,2x1", help="WORKERSxTHREADS, comma-separated")
    parser.add_argument("--attach", type=Path, help="use the running stack with this state directory instead")
    parser.add_argument("--gateway-port", type=int, default=8080, help="with --attach")
    parser.add_argument("--redis-port", type=int, default=6390, help="with --attach")
    parser.add_argument("--concurrency", default="1,2,4", help="closed-loop clients per step")
    parser.add_argument("--requests", type=int, default=8, help="requests per closed-loop step (half at C=1)")
    parser.add_argument("--rates", default="0.25x,0.5x,0.75x,1x,1.5x",
                        help="open-loop arrival rates: Nx = N times the saturation throughput, or scenes/min")
    parser.add_argument("--arrivals", type=int, default=8, help="arrivals per open-loop step")
    parser.add_argument("--process", choices=("poisson", "uniform"), default="poisson")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--prompt", action="append", help="prompt to cycle through (repeatable; default: a fixed 4)")
    parser.add_argument("--max-tokens", type=int, help="options.max_tokens per request")
    parser.add_argument("--max-retries", type=int, help="TEXT2PIXI_MAX_RETRIES for the workers")
    parser.add_argument("--max-queue-depth", type=int, default=8, help="queue limit (429 beyond it)")
    parser.add_argument("--job-timeout", type=int, default=180)
    parser.add_argument("--step-timeout", type=float, default=300, help="bound on one step, drain included")
    parser.add_argument("--start-timeout", type=float, default=300)
    parser.add_argument("--max-minutes", type=float, default=60, help="stop starting new steps after this")
    parser.add_argument("--knee-factor", type=float, default=1.5)
    parser.add_argument("--stop-factor", type=float, default=4.0, help="stop raising the rate past this x floor")
    parser.add_argument("--sample-interval", type=float, default=0.5)
    parser.add_argument("--out", type=Path, help="results directory (default bench/results/scale-<time>)")
    parser.add_argument("--doc", type=Path, help="replace the scale section of this Markdown file")
    args = parser.parse_args(argv)
    args.concurrency = [int(c) for c in args.concurrency.split(",")]
    # A terminated run still stops the stack it started (the finally below), like Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    out: Path = args.out or ROOT / "bench" / "results" / f"scale-{time.strftime('%Y%m%d-%H%M%S')}"
    out.mkdir(parents=True, exist_ok=True)

    t0 = time.time()
    started = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    budget_end = time.monotonic() + args.max_minutes * 60

    def out_of_time() -> bool:
        return time.monotonic() > budget_end

    results = []
    layouts = [(0, 0)] if args.attach else parse_layouts(args.layouts)
    for workers, threads in layouts:
        if out_of_time():
            break
        with tempfile.TemporaryDirectory(prefix="t2p-scale-") as state:
            cfg = attached_stack(args) if args.attach else stack_config(workers, threads, args, Path(state))
            label = f"{cfg.workers}x{cfg.threads}"
            try:
                if not args.attach:
                    start_stack(cfg, args)
                results.append(run_layout(cfg, label, args, t0, out_of_time))
            finally:
                if not args.attach:
                    localstack.down(cfg)

    command = " ".join([".venv/bin/python", "bench/scale.py", *map(shlex.quote, sys.argv[1:] if argv is None
                                                                    else argv)])
    summary = {
        "started": started, "duration_s": round(time.time() - t0, 1), "command": command,
        "model": results[0]["model"] if results else args.model,
        "host_cores": len(os.sched_getaffinity(0)), "max_queue_depth": args.max_queue_depth,
        # the host's 1-minute load average during the run: other processes compete with the workers
        "loadavg_mean": round(sum(r["loadavg"] for res in results for r in res["timeline"])
                              / max(1, sum(len(res["timeline"]) for res in results)), 2),
        "arrivals": args.arrivals, "process": args.process, "knee_factor": args.knee_factor,
        "prompts": args.prompt or PROMPTS,
        "layouts": [{k: (asdict(v) if k == "knee" else v) for k, v in res.items()
                     if k not in ("steps", "requests", "timeline")} | {"steps": [asdict(s) for s in res["steps"]]}
                    for res in results],
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    write_csv(out / "requests.csv", [{"layout": res["layout"], **r.row()} for res in results for r in res["requests"]])
    write_csv(out / "steps.csv", [_flat(s) for res in results for s in res["steps"]])
    write_csv(out / "timeline.csv", [{"layout": res["layout"], **row} for res in results for row in res["timeline"]])
    figures = plots(results, out)
    section = markdown(summary, results, out, args.doc)
    (out / "report.md").write_text(section)
    if args.doc:
        update_doc(args.doc, section)
    print()
    for res in results:
        for name, chk in res["saturation_check"].items():
            print(f"{res['layout']}: throughput at saturation {chk['measured_scenes_per_min']} scenes/min vs "
                  f"predicted {chk['predicted_scenes_per_min']} ({name}): ratio {chk['ratio']} "
                  f"({'within' if chk['within_10pct'] else 'NOT within'} 10 %)")
        knee = res["knee"]
        print(f"{res['layout']}: knee at {knee.rate_per_min} scenes/min (floor p50 {knee.floor_s} s)")
    print(f"wrote {out} ({', '.join(p.name for p in figures)}, summary.json, steps.csv, requests.csv, "
          f"timeline.csv, report.md)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
