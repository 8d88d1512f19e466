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
import json
import os
import shlex
import signal
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import redis

# The parts, beside this file (Python puts a script's folder on sys.path): the stacks, the sampler, the load
# driver, the figures, and the CSV and Markdown records. The IO-free statistics are text2pixi.quality.loadtest.
from scale_driver import Driver
from scale_plots import plots
from scale_report import markdown, step_row, update_doc, write_csv
from scale_sampler import Sampler
from scale_stack import attached_stack, log, stack_config, start_stack

from text2pixi import registry
from text2pixi.ops import localstack
from text2pixi.ops.localstack import StackConfig
from text2pixi.quality.loadtest import (
    Request,
    StepStats,
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


def parse_layouts(text: str) -> list[tuple[int, int]]:
    out = []
    for part in text.split(","):
        workers, _, threads = part.strip().lower().partition("x")
        out.append((int(workers), int(threads)))
    return out


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
    write_csv(out / "steps.csv", [step_row(s) for res in results for s in res["steps"]])
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
