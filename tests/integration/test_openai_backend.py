"""``TEXT2PIXI_BACKEND=openai`` against a real llama-server (the peer benchmark's build) on the small model.

The backend directly (valid scenes, re-asks, timeouts, nothing listening), then through a real redis-server, S3
server and warm worker: a job that the server answers, and a job whose server is down, which RQ retries and
which then ends ``failed`` with the reason in its status.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from rq.job import Job

from tests.backends import LlamaServer, RedisServer, S3Server, load_bench
from tests.backends import service_settings as service_settings_for
from tests.integration.test_service import body, drain, ev
from text2pixi import registry
from text2pixi.core.errors import BackendUnavailable, GenerationError
from text2pixi.engine import OpenAIBackend
from text2pixi.ops.localstack import free_port
from text2pixi.service.functions import Service
from text2pixi.settings import Settings

pytestmark = pytest.mark.model

KEY = "test-api-key-0123456789"
GOOD_PROMPT = "a pink rectangle"  # valid on the first attempt through llama-server (the first test checks it)
REPEATS_IDS = "a red ball"  # SmolLM2 gives two objects the same id here: a validation error, so a re-ask


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    llama = LlamaServer(tmp_path_factory.mktemp("llama-server")).start()
    try:
        yield llama
    finally:
        llama.stop()


@pytest.fixture(scope="module")
def remote(server: LlamaServer, small_settings: Settings) -> Settings:
    return small_settings.model_copy(update={"backend": "openai", "openai_base_url": server.url,
                                             "openai_model": registry.SMALL_MODEL, "openai_timeout": 120.0})


def nowhere(settings: Settings, **update: object) -> Settings:
    """The same settings pointed at a loopback port where nothing listens."""
    return settings.model_copy(update={"openai_base_url": f"http://127.0.0.1:{free_port()}/v1", **update})


def test_the_server_writes_a_valid_scene(remote: Settings) -> None:
    backend = OpenAIBackend(remote)
    result = backend.translate(GOOD_PROMPT)
    assert result.scene.objects and result.model == registry.SMALL_MODEL
    [attempt] = result.attempts
    assert attempt.prompt_tokens > 1000  # the system prompt and its examples went along
    assert attempt.output_tokens > 10 and attempt.finish_reason == "stop" and attempt.error is None
    assert 0 < attempt.ttft_s < result.wall_s and attempt.decode_tps > 0
    # The server's own prompt cache plays the part of our primed prefix. (Its output may then differ from the
    # uncached run's, even at temperature 0: llama-server's batch sizes change with the cache.)
    again = backend.translate("a green circle")
    assert again.scene.objects and again.attempts[0].cached_tokens > 1000


def test_a_rejected_scene_is_re_asked_with_the_error(remote: Settings) -> None:
    backend = OpenAIBackend(remote.model_copy(update={"max_retries": 1, "max_tokens": 320}))
    try:
        backend.translate(REPEATS_IDS)
    except GenerationError as exc:
        assert exc.attempts == 2
    first, second = backend.last_attempts
    assert first.error and "ids must be unique" in first.error
    if first.finish_reason == "runaway":
        # Stopped at the repeated id (engine/runaway.py), which closes the stream before the server reports its
        # usage; the re-ask carries the stopped reply and the reason (tests/unit/test_budget.py).
        assert "a second object with id" in first.error
    else:  # the re-ask carries the rejected reply and the validation error: a longer prompt than the first
        assert second.prompt_tokens > first.prompt_tokens + first.output_tokens


def test_a_slow_server_is_a_named_retryable_error(remote: Settings) -> None:
    backend = OpenAIBackend(remote.model_copy(update={"openai_timeout": 0.05}))
    with pytest.raises(BackendUnavailable, match="did not answer within 0.05 s") as caught:
        backend.translate("a tall orange rectangle")
    assert caught.value.code == "backend_unavailable" and caught.value.http_status == 503


def test_nothing_listening_is_a_named_retryable_error(remote: Settings) -> None:
    backend = OpenAIBackend(nowhere(remote))
    with pytest.raises(BackendUnavailable, match=r"at http://127\.0\.0\.1:\d+/v1 .* is unreachable") as caught:
        backend.translate(GOOD_PROMPT)
    assert "Connection refused" in str(caught.value)


# --- through the service: Redis, S3 and a warm worker ------------------------------------------------


@pytest.fixture(scope="module")
def service_settings(backends: tuple[RedisServer, S3Server], remote: Settings, tmp_path_factory) -> Settings:  # type: ignore[no-untyped-def]
    secrets = tmp_path_factory.mktemp("secrets")
    (secrets / "text2pixi-openai-api-key").write_text("unused-by-llama-server\n")
    return service_settings_for(remote, *backends, secrets, KEY, queue_name="test-openai", job_retries=1)


@pytest.fixture()
def warm_remote(service_settings: Settings) -> Iterator[Service]:
    """A warm worker state set up by the worker's own ``setup`` for the openai backend; restored afterwards."""
    from text2pixi.service.store import Store
    from text2pixi.worker.warm import Warm, setup

    saved = (Warm.engine, Warm.store, Warm.settings, Warm.worker_name)
    redis.Redis.from_url(service_settings.redis_url).flushdb()
    Store(service_settings).ensure_buckets()
    Warm.worker_name = "test-openai-worker"
    setup(service_settings)
    try:
        yield Service(service_settings)
    finally:
        Warm.engine, Warm.store, Warm.settings, Warm.worker_name = saved


def test_a_job_through_the_openai_backend(warm_remote: Service, service_settings: Settings) -> None:
    from text2pixi.worker.warm import Warm

    assert isinstance(Warm.engine, OpenAIBackend) and Warm.engine.prime() == 0.0
    assert Warm.settings is not None and Warm.settings.refine_checkpoints == 0  # KV checkpoints are llama.cpp's
    job = body(warm_remote.run("translate", ev(json.dumps({"prompt": GOOD_PROMPT})), warm_remote.translate,
                               ("POST",)))
    drain(service_settings)
    view = body(warm_remote.run("status", ev(method="GET", query={"id": job["id"]}), warm_remote.status, ("GET",)))
    assert view["status"] == "finished", view
    result = view["result"]
    assert result["model"] == registry.SMALL_MODEL and result["scene"]["objects"]
    assert 'from "pixi.js"' in result["js"]
    stored = warm_remote.store.get_result(job["id"])
    assert stored is not None and stored["timings"]["attempts"][0]["prompt_tokens"] > 1000


def test_a_job_whose_server_is_down_is_retried_then_fails_with_the_reason(
        warm_remote: Service, service_settings: Settings) -> None:
    from text2pixi.worker.warm import Warm

    Warm.engine = OpenAIBackend(nowhere(service_settings))
    job = body(warm_remote.run("translate", ev(json.dumps({"prompt": GOOD_PROMPT})), warm_remote.translate,
                               ("POST",)))
    drain(service_settings)
    view = body(warm_remote.run("status", ev(method="GET", query={"id": job["id"]}), warm_remote.status, ("GET",)))
    assert view["status"] == "failed", view
    assert view["error"]["error"] == "job_failed"
    message = view["error"]["message"]
    assert message.startswith("the generation backend at http://127.0.0.1:") and "is unreachable" in message, message
    assert message.endswith(f"(tried {1 + service_settings.job_retries} times)"), message
    assert view["attempts"] == 1 + service_settings.job_retries  # RQ re-ran it before giving up
    rq_job = Job.fetch(job["id"], connection=redis.Redis.from_url(service_settings.redis_url))
    assert rq_job.args[0]["prompt"] == GOOD_PROMPT  # nothing lost: the request stays with the failed job


def test_backend_benchmark_runs_on_the_small_model(tmp_path: Path) -> None:
    """bench/backend.py on one prompt: both backends answer, the report has the ratio (figures: docs/performance.md)."""
    bench = load_bench("backend")
    assert bench.main(["--model", registry.SMALL_MODEL, "--threads", "1", "--n-ctx", "4096", "--max-tokens", "256",
                       "--prompts", "1", "--out", str(tmp_path)]) == 0
    [report] = tmp_path.glob("backend-*.json")
    result = json.loads(report.read_text())
    assert {s["system"] for s in result["samples"]} == {"engine", "openai"}
    assert all(s["output_tokens"] > 0 and s["wall_s"] > 0 for s in result["samples"])
    assert result["summary"]["ratios"]["engine / openai median wall"] > 0
