"""The scale experiment's stacks: start one per worker layout on free loopback ports, or attach to a running one.

Part of ``bench/scale.py`` (run that): the stacks are :mod:`text2pixi.ops.localstack`'s, with the
queue limit and re-asks of the run.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path

from text2pixi.ops import localstack
from text2pixi.ops.localstack import StackConfig, free_port


def log(message: str) -> None:
    """A timestamped progress line: a run takes minutes, up to ``--max-minutes``."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


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
    """The workers' supervisord program names."""
    return [f"worker{n}" for n in range(1, cfg.workers + 1)]
