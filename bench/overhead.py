"""Service overhead: what the gateway, the function, the queue and storage add to a generation.

Starts its own local stack (temporary state directory, free loopback ports, one warm worker),
sends sequential ``POST /function/translate?wait=`` requests through the gateway, and for each
finished job computes

    overhead = client wall time - the worker's engine time (result.timings.wall_s)

which covers HTTP through the gateway and the function, enqueueing, the worker's dequeue, rendering
the module and page, the S3 writes, the wake-up of the waiting request and reading the result back.

    python bench/overhead.py --model smollm2-135m-instruct-q4_1 --requests 30

Prints p50/p95/max and writes ``bench/results/overhead-<time>.json``. Target: p50 <= 50 ms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import requests

from text2pixi import registry
from text2pixi.ops import localstack
from text2pixi.ops.localstack import StackConfig, free_port

PROMPTS = ["a pink rectangle", "one green circle"]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=registry.SMALL_MODEL)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="t2p-overhead-") as state:
        cfg = StackConfig(state_dir=Path(state), gateway_port=free_port(), redis_port=free_port(),
                          s3_port=free_port(also_plus=10000), function_base_port=free_port(also_plus=2),
                          weed_base_port=free_port(also_plus=10003), workers=1, threads_per_worker=args.threads,
                          model=args.model, model_via_s3=False)
        print(f"starting a stack with 1 worker ({cfg.threads} threads) on {args.model} ...", flush=True)
        localstack.up(cfg, log=lambda m: None)
        try:
            session = requests.Session()
            session.headers["X-API-Key"] = localstack.api_key(cfg)
            rows = []
            for n in range(args.requests + 2):  # the first two warm the HTTP connections and caches
                prompt = PROMPTS[n % len(PROMPTS)]
                t0, start_epoch = time.perf_counter(), time.time()
                response = session.post(cfg.gateway_url + "/function/translate?wait=60", data=prompt, timeout=90)
                wall, end_epoch = time.perf_counter() - t0, time.time()
                view = response.json()
                if response.status_code != 200 or view.get("status") != "finished":
                    print(f"  request {n}: {response.status_code} {view.get('status')} (not counted)")
                    continue
                engine = view["result"]["timings"]["wall_s"]
                created, started, ended = (datetime.fromisoformat(view[k]).timestamp()
                                           for k in ("created_at", "started_at", "ended_at"))
                if n >= 2:
                    rows.append({"prompt": prompt, "wall_s": wall, "engine_s": engine, "overhead_s": wall - engine,
                                 # where the overhead goes (same clock: everything runs on this host)
                                 "to_enqueued_s": created - start_epoch, "queued_s": started - created,
                                 "worker_extra_s": (ended - started) - engine, "after_end_s": end_epoch - ended})
        finally:
            log = (Path(state) / "logs" / "worker1.log").read_text()
            localstack.down(cfg)
            print("\n".join([line for line in log.splitlines() if "beyond the engine" in line][-3:]))

    overheads = [r["overhead_s"] * 1000 for r in rows]
    summary = {
        "model": args.model,
        "requests": len(rows),
        "overhead_ms_p50": round(statistics.median(overheads), 1),
        "overhead_ms_p95": round(percentile(overheads, 0.95), 1),
        "overhead_ms_max": round(max(overheads), 1),
        "engine_s_median": round(statistics.median(r["engine_s"] for r in rows), 3),
        "breakdown_ms_median": {k: round(statistics.median(r[k] for r in rows) * 1000, 1)
                                for k in ("to_enqueued_s", "queued_s", "worker_extra_s", "after_end_s")},
        "target": "overhead p50 <= 50 ms",
    }
    print(json.dumps(summary, indent=2))
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"overhead-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"summary": summary, "rows": rows}, indent=2) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
