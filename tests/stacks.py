"""A small local stack for browser and client tests: 1 warm SmolLM2 worker, everything on free loopback ports."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.backends import free_port
from text2pixi import registry
from text2pixi.ops import localstack
from text2pixi.ops.localstack import StackConfig


@contextmanager
def running_small_stack(state_dir: Path) -> Iterator[StackConfig]:
    """Up for the block, then down. The model is read from the local cache (no S3 push: faster start); one
    llama.cpp thread, because on a busy 2-core machine two threads mostly wait for each other (5x slower
    measured); short outputs keep a weak model from spending the shared CPU on runaway generations."""
    cfg = StackConfig(
        state_dir=state_dir, gateway_port=free_port(), redis_port=free_port(),
        s3_port=free_port(also_plus=10000), function_base_port=free_port(also_plus=2),
        weed_base_port=free_port(also_plus=10003), workers=1, threads_per_worker=1,
        model=registry.SMALL_MODEL, model_via_s3=False, job_timeout=150,
        extra_env={"TEXT2PIXI_MAX_RETRIES": "0", "TEXT2PIXI_MAX_TOKENS": "200", "TEXT2PIXI_JOB_RETRIES": "0"},
    )
    localstack.up(cfg, timeout=180, log=lambda m: None)
    try:
        yield cfg
    finally:
        localstack.down(cfg)
