"""The default model through the whole local stack (its own stack: one worker, Qwen pulled from S3)."""

from __future__ import annotations

import time

import pytest
import requests

from tests.backends import free_port
from text2pixi import registry
from text2pixi.ops import localstack
from text2pixi.ops.localstack import StackConfig


@pytest.mark.slow
def test_default_model_end_to_end_through_the_gateway(tmp_path_factory: pytest.TempPathFactory) -> None:
    """One worker with Qwen (model pulled from S3 and verified), the full path, and a scene that fits."""
    cfg = StackConfig(
        state_dir=tmp_path_factory.mktemp("qwen-stack"), gateway_port=free_port(), redis_port=free_port(),
        s3_port=free_port(also_plus=10000), function_base_port=free_port(also_plus=2),
        weed_base_port=free_port(also_plus=10003), workers=1, threads_per_worker=2,
        model=registry.DEFAULT_MODEL, job_timeout=180)
    localstack.up(cfg, timeout=300, log=lambda m: None)
    try:
        session = requests.Session()
        session.headers["X-API-Key"] = localstack.api_key(cfg)
        accepted = session.post(cfg.gateway_url + "/function/translate?wait=60",
                                json={"prompt": "a red circle in the centre moves to the right"}, timeout=90)
        assert accepted.status_code in (200, 202), accepted.text
        view = accepted.json()
        deadline = time.monotonic() + 240
        while view["status"] not in ("finished", "failed") and time.monotonic() < deadline:
            time.sleep(1)
            view = session.get(cfg.gateway_url + f"/function/status/{view['id']}", timeout=10).json()
        assert view["status"] == "finished", view
        scene = view["result"]["scene"]
        circles = [o for o in scene["objects"] if o["type"] == "circle"]
        assert len(circles) == 1 and circles[0]["color"] in ("red", "#ff0000")
        moves = [a for a in scene.get("anims", []) if a["type"] == "move" and a["target"] == circles[0]["id"]]
        assert moves and moves[0]["x"] > circles[0]["x"]
        assert view["result"]["model"] == registry.DEFAULT_MODEL
    finally:
        localstack.down(cfg)
