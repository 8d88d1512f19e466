"""Progress events: how soon they come, and what they cost the decoder.

For each prompt (``bench/prompts.txt``, the first ``--prompts``), one warm engine generates the scene twice,
with the worker's progress publisher (``text2pixi.worker.progress.JobProgress``, writing to a real
redis-server) and without any callback, alternating which goes first. Measured per prompt:

- first event: from the job's start in the worker (where ``run_translation`` creates the publisher, after
  reading the token estimate from Redis) until the ``started`` event is in the Redis stream;
- first object: until the first ``object`` event is in the stream (what a client draws first, whichever attempt
  wrote it; also the first of the attempt that succeeded), against the whole generation (the target: the
  median first object before half of the generation time);
- decode tokens/s with and without the callback (greedy decoding writes the same scene both ways: checked).

The RQ dequeue before the job and the rendering/storing after it are not part of these figures.

    .venv/bin/python bench/progress.py --model SmolLM2-360M-Instruct-Q8_0 --prompts 6 --out docs/bench-progress.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
import uuid
from pathlib import Path
from typing import Any

import redis

from text2pixi import registry
from text2pixi.core.errors import GenerationError
from text2pixi.core.progress import Event
from text2pixi.engine import Engine, Translation
from text2pixi.ops.localstack import binary, free_port
from text2pixi.settings import Settings
from text2pixi.worker.progress import JobProgress, expected_tokens, record

ROOT = Path(__file__).resolve().parents[1]


class TimedProgress(JobProgress):
    """The worker's publisher, noting when each event reached Redis (seconds after the job started)."""

    def __init__(self, *args: Any, job_start: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.job_start = job_start
        self.times: list[tuple[float, Event]] = []
        self.callback_s = 0.0
        self.calls = 0

    def __call__(self, attempt: int, text: str, tokens: int) -> None:
        t0 = time.perf_counter()
        super().__call__(attempt, text, tokens)
        self.callback_s += time.perf_counter() - t0
        self.calls += 1

    def _publish(self, events: list[Event]) -> None:
        super()._publish(events)
        now = time.perf_counter() - self.job_start
        self.times += [(now, event) for event in events]


def prompts(limit: int, source: str) -> list[str]:
    """The first ``limit`` prompts of the eval set (``eval/prompts.toml``, easiest first) or ``bench/prompts.txt``."""
    if source == "eval":
        cases = tomllib.loads((ROOT / "eval" / "prompts.toml").read_text())["case"]
        order = {"easy": 0, "medium": 1, "hard": 2}
        return [c["prompt"] for c in sorted(cases, key=lambda c: order.get(c.get("difficulty"), 3))][:limit]
    lines = (ROOT / "bench" / "prompts.txt").read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")][:limit]


def decode_rate(result: Translation) -> tuple[int, float]:
    """(tokens after the first, seconds) summed over the attempts: the decode part of the rate."""
    return sum(max(0, a.output_tokens - 1) for a in result.attempts), sum(a.decode_s for a in result.attempts)


def with_events(engine: Engine, connection: redis.Redis, prompt: str, settings: Settings) -> dict[str, Any]:
    job_id = uuid.uuid4().hex
    job_start = time.perf_counter()
    progress = TimedProgress(connection, job_id, ttl=600, worker="bench",
                             expected=expected_tokens(connection, engine.model_id, None),
                             reason=lambda n: engine.last_attempts[n - 1].error, job_start=job_start)
    progress.start()
    result = engine.translate(prompt, progress=progress)
    total = time.perf_counter() - job_start
    record(connection, engine.model_id, result.attempts[-1].output_tokens, len(result.scene_json), fresh=True)
    last = len(result.attempts)
    shown = [t for t, e in progress.times if e.type == "object"]  # on screen, whichever attempt drew it
    final = [t for t, e in progress.times if e.type == "object" and e.payload()["attempt"] == last]
    tokens, seconds = decode_rate(result)
    return {
        "first_event_s": round(progress.times[0][0], 4),
        "first_object_s": round(shown[0], 3) if shown else None,
        "first_final_object_s": round(final[0], 3) if final else None,
        "generation_s": round(total, 3),
        "ttft_s": round(result.attempts[0].ttft_s, 3),  # prefill of the user turn and the first pick
        "first_object_share": round(shown[0] / total, 3) if shown else None,
        "first_final_object_share": round(final[0] / total, 3) if final else None,
        "objects": len(final),
        "events": len(progress.times),
        "attempts": last,
        "output_tokens": result.output_tokens,
        "expected_tokens": progress.expected,
        "callback_calls": progress.calls,
        "callback_ms_total": round(progress.callback_s * 1000, 2),
        "decode_tokens": tokens, "decode_s": round(seconds, 4),
        "scene_json": result.scene_json,
    }


def without_events(engine: Engine, prompt: str) -> dict[str, Any]:
    t0 = time.perf_counter()
    result = engine.translate(prompt)
    tokens, seconds = decode_rate(result)
    return {"generation_s": round(time.perf_counter() - t0, 3), "decode_tokens": tokens, "decode_s": round(seconds, 4),
            "scene_json": result.scene_json}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=registry.SMALL_MODEL)
    parser.add_argument("--prompts", type=int, default=6)
    parser.add_argument("--source", choices=("eval", "bench"), default="eval",
                        help="eval/prompts.toml (easiest first) or bench/prompts.txt")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--max-retries", type=int, default=1, help="re-asks per scene (failed prompts are left out)")
    parser.add_argument("--max-tokens", type=int, default=600)
    parser.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    parser.add_argument("--append", action="store_true", help="add this run to the runs already in --out")
    args = parser.parse_args()

    settings = Settings(model=args.model, n_threads=args.threads, max_retries=args.max_retries,
                        max_tokens=args.max_tokens)
    with tempfile.TemporaryDirectory() as state:
        port = free_port()
        server = subprocess.Popen([binary("redis-server"), "--bind", "127.0.0.1", "--port", str(port), "--dir", state,
                                   "--save", ""], stdout=subprocess.DEVNULL)
        try:
            connection = redis.Redis(port=port)
            for _ in range(100):
                try:
                    connection.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
            engine = Engine(settings)
            engine.prime()
            rows = []
            for n, prompt in enumerate(prompts(args.prompts, args.source)):
                try:
                    if n % 2:
                        plain, timed = without_events(engine, prompt), with_events(engine, connection, prompt, settings)
                    else:
                        timed, plain = with_events(engine, connection, prompt, settings), without_events(engine, prompt)
                except GenerationError as exc:
                    print(f"{prompt!r}: no scene ({exc})", file=sys.stderr)
                    continue
                same = timed.pop("scene_json") == plain.pop("scene_json")
                rows.append({"prompt": prompt, **timed, "same_scene": same, "plain": plain})
                print(f"{prompt[:48]:48} first event {timed['first_event_s'] * 1000:6.1f} ms, first object "
                      f"{timed['first_object_s']} s of {timed['generation_s']} s, {timed['events']} events",
                      file=sys.stderr)
        finally:
            server.terminate()
            server.wait(10)

    def median(key: str, source: list[dict[str, Any]]) -> float | None:
        values = [r[key] for r in source if r.get(key) is not None]
        return round(statistics.median(values), 4) if values else None

    with_tps = sum(r["decode_tokens"] for r in rows) / max(1e-9, sum(r["decode_s"] for r in rows))
    plain_rows = [r["plain"] for r in rows]
    without_tps = sum(r["decode_tokens"] for r in plain_rows) / max(1e-9, sum(r["decode_s"] for r in plain_rows))
    summary = {
        "model": engine.model_id, "threads": args.threads, "source": args.source, "prompts": len(rows),
        "max_retries": args.max_retries,
        "load_average_1m": round(os.getloadavg()[0], 2),
        "median_first_event_ms": round((median("first_event_s", rows) or 0) * 1000, 2),
        "max_first_event_ms": round(max(r["first_event_s"] for r in rows) * 1000, 2) if rows else None,
        "median_first_object_s": median("first_object_s", rows),
        "median_generation_s": median("generation_s", rows),
        "median_first_object_share": median("first_object_share", rows),
        "median_first_final_object_share": median("first_final_object_share", rows),
        "prompts_first_object_before_half": sum(1 for r in rows if (r["first_object_share"] or 1) < 0.5),
        "decode_tps_with_events": round(with_tps, 2),
        "decode_tps_without": round(without_tps, 2),
        "decode_cost_pct": round(100 * (without_tps - with_tps) / without_tps, 2) if without_tps else None,
        "callback_us_per_call": round(1e6 * sum(r["callback_ms_total"] / 1000 for r in rows)
                                      / max(1, sum(r["callback_calls"] for r in rows)), 1),
        "same_scene_with_and_without": all(r["same_scene"] for r in rows),
    }
    print(json.dumps(summary, indent=2))
    if args.out:
        runs = []
        if args.append and args.out.exists():
            runs = json.loads(args.out.read_text()).get("runs", [])
        runs.append({"summary": summary, "rows": rows})
        args.out.write_text(json.dumps({"runs": runs}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
