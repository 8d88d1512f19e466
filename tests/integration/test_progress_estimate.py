"""The progress bar's token estimate, on a real redis-server: v2 scenes and patches are short, v1 scenes long."""

from __future__ import annotations

import redis

from tests.backends import RedisServer, S3Server
from text2pixi.core.scene import Scene
from text2pixi.worker.progress import DEFAULT_EXPECTED_TOKENS, DEFAULT_PATCH_TOKENS, expected_tokens, record

BASE = Scene.model_validate({"objects": [{"type": "circle", "id": "ball", "x": 400, "y": 300, "r": 40}]})


def test_estimates_follow_the_language_and_the_recent_jobs(backends: tuple[RedisServer, S3Server]) -> None:
    connection = redis.Redis.from_url(backends[0].url)
    model = "estimate-test-model"
    connection.delete(f"text2pixi:progress:recent:{model}")
    assert expected_tokens(connection, model, None, "v2") == DEFAULT_EXPECTED_TOKENS["v2"] == 30
    assert expected_tokens(connection, model, None, "v1") == DEFAULT_EXPECTED_TOKENS["v1"]
    assert expected_tokens(connection, model, BASE, "v2") == DEFAULT_PATCH_TOKENS
    for tokens in (20, 28, 40):
        record(connection, model, tokens, tokens * 3, fresh=True)
    for tokens in (9, 13):
        record(connection, model, tokens, tokens * 3, fresh=False)
    assert expected_tokens(connection, model, None, "v2") == 28
    assert expected_tokens(connection, model, BASE, "v2") == 11  # the median patch, whatever the base's size
    assert expected_tokens(connection, model, BASE, "v1") > 11  # v1 rewrites the whole base
