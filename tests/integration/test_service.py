"""The functions' logic against a real redis-server, a real S3 server and a real warm worker (SmolLM2).

These call the pure handlers with template events; tests/integration/test_stack.py drives the same code over
HTTP through the template's index.py and the gateway.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import redis
from rq import Queue

from tests.backends import RedisServer, S3Server, service_settings
from text2pixi import registry
from text2pixi.service.functions import Service
from text2pixi.service.jobs import Jobs
from text2pixi.settings import Settings

pytestmark = pytest.mark.model

KEY = "test-api-key-0123456789"
GOOD_PROMPT = "a pink rectangle"  # SmolLM2 answers this one validly (checked in the first test)


@dataclass
class Ev:
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "POST"
    query: dict[str, str] = field(default_factory=dict)
    path: str = "/"


def ev(body: bytes | str = b"", *, method: str = "POST", key: str | None = KEY, path: str = "/",
       query: dict[str, str] | None = None, **headers: str) -> Ev:
    hdrs = {k.replace("_", "-"): v for k, v in headers.items()}
    if key is not None:
        hdrs["X-API-Key"] = key
    return Ev(body=body.encode() if isinstance(body, str) else body, headers=hdrs, method=method,
              query=query or {}, path=path)


@pytest.fixture(scope="module")
def settings(backends: tuple[RedisServer, S3Server], small_settings: Settings, tmp_path_factory) -> Settings:  # type: ignore[no-untyped-def]
    return service_settings(small_settings, *backends, tmp_path_factory.mktemp("secrets"), KEY, queue_name="test",
                            max_queue_depth=3, max_wait=30.0, callback_allow_private=False, job_retries=1)


@pytest.fixture(scope="module")
def warm(settings: Settings):  # type: ignore[no-untyped-def]
    from text2pixi.service.store import Store
    from text2pixi.worker.warm import Warm, setup

    Store(settings).ensure_buckets()
    Warm.worker_name = "test-worker"
    return setup(settings)


@pytest.fixture()
def service(settings: Settings) -> Iterator[Service]:
    redis.Redis.from_url(settings.redis_url).flushdb()
    yield Service(settings)


def drain(settings: Settings) -> None:
    """Run queued jobs synchronously in this process, like python-rq's own tests do."""
    from text2pixi.worker import WarmWorker

    connection = redis.Redis.from_url(settings.redis_url)
    WarmWorker([Queue(settings.queue_name, connection=connection)], connection=connection).work(burst=True)


def body(response: dict) -> dict:  # type: ignore[type-arg]
    return response["body"] if isinstance(response["body"], dict) else json.loads(response["body"])


def test_translate_enqueues_and_the_worker_stores_the_result(service: Service, settings: Settings, warm) -> None:  # type: ignore[no-untyped-def]
    accepted = service.run("translate", ev(json.dumps({"prompt": GOOD_PROMPT}), Content_Type="application/json"),
                           service.translate, ("POST",))
    assert accepted["statusCode"] == 202, accepted
    job = body(accepted)
    assert job["status"] == "queued" and job["status_url"] == f"/function/status/{job['id']}"
    queued = body(service.run("status", ev(method="GET", query={"id": job["id"]}), service.status, ("GET",)))
    assert queued["status"] == "queued" and queued["queue_position"] == 0
    drain(settings)
    done = service.run("status", ev(method="GET", path=f"/{job['id']}"), service.status, ("GET",))
    view = body(done)
    assert view["status"] == "finished", view
    result = view["result"]
    assert result["model"] == registry.SMALL_MODEL and result["scene"]["objects"]
    assert 'from "pixi.js"' in result["js"] and view["ended_at"] and view["started_at"]
    page = service.run("status", ev(method="GET", path=f"/{job['id']}/html"), service.status, ("GET",))
    assert page["statusCode"] == 200 and "__PIXI_APP__" in page["body"]
    assert page["headers"]["Content-Type"].startswith("text/html")
    stored = service.store.get_result(job["id"])
    assert stored is not None and stored["id"] == job["id"]


def test_plain_text_body_is_the_prompt(service: Service) -> None:
    response = service.run("translate", ev(GOOD_PROMPT, Content_Type="text/plain"), service.translate, ("POST",))
    assert response["statusCode"] == 202


def test_generation_error_is_a_failed_job_with_a_reason(service: Service, settings: Settings, warm) -> None:  # type: ignore[no-untyped-def]
    request = {"prompt": GOOD_PROMPT, "options": {"max_tokens": 16}}
    job = body(service.run("translate", ev(json.dumps(request)), service.translate, ("POST",)))
    drain(settings)
    view = body(service.run("status", ev(method="GET", query={"id": job["id"]}), service.status, ("GET",)))
    assert view["status"] == "failed"
    assert view["error"]["error"] == "output_truncated"
    assert "16 tokens" in view["error"]["message"]


def test_idempotency_key_returns_the_same_job(service: Service) -> None:
    first = body(service.run("translate", ev(GOOD_PROMPT, Idempotency_Key="k1"), service.translate, ("POST",)))
    again = body(service.run("translate", ev(GOOD_PROMPT, Idempotency_Key="k1"), service.translate, ("POST",)))
    assert again["id"] == first["id"] and first["created"] and not again["created"]
    other = service.run("translate", ev("a different prompt", Idempotency_Key="k1"), service.translate, ("POST",))
    assert other["statusCode"] == 409 and body(other)["error"] == "idempotency_key_reused"


@pytest.mark.parametrize(
    ("event", "status", "code"),
    [
        (ev("{not json", Content_Type="application/json"), 400, "bad_json"),
        (ev("[1, 2]", Content_Type="application/json"), 400, "bad_json"),
        (ev("   "), 400, "empty_prompt"),
        (ev(json.dumps({"prompt": ""})), 400, "empty_prompt"),
        (ev(json.dumps({"text": "a ball"})), 400, "invalid_request"),
        (ev(json.dumps({"prompt": "a ball", "options": {"colour": 1}})), 400, "unknown_option"),
        (ev(json.dumps({"prompt": "a ball", "options": {"max_tokens": 99999}})), 400, "invalid_request"),
        (ev(b"\xff\xfe"), 400, "invalid_request"),
        (ev("a ball", query={"wait": "soon"}), 400, "invalid_request"),
        (ev("a ball", query={"wait": "9999"}), 400, "invalid_request"),
        (ev("a ball", key=None), 401, "unauthorized"),
        (ev("a ball", key="wrong"), 401, "unauthorized"),
        (ev("a ball", method="GET"), 405, "method_not_allowed"),
        (ev("x" * 2000), 413, "prompt_too_long"),
        (ev("x" * 20000), 413, "body_too_large"),
        (ev("a ball", X_Callback_Url="http://127.0.0.1:9/hook"), 400, "callback_url_refused"),
        (ev("a ball", X_Callback_Url="http://169.254.169.254/latest"), 400, "callback_url_refused"),
        (ev("a ball", X_Callback_Url="file:///etc/passwd"), 400, "callback_url_refused"),
    ],
)
def test_bad_requests_get_precise_json_errors(service: Service, event: Ev, status: int, code: str) -> None:
    response = service.run("translate", event, service.translate, ("POST",))
    assert response["statusCode"] == status, response
    assert body(response)["error"] == code
    assert "Traceback" not in json.dumps(body(response))
    if status == 405:
        assert "POST" in response["headers"]["Allow"]


def test_status_errors(service: Service) -> None:
    def status(**kw: object) -> dict:  # type: ignore[type-arg]
        return service.run("status", ev(method="GET", **kw), service.status, ("GET",))  # type: ignore[arg-type]

    assert status(query={"id": "0" * 32})["statusCode"] == 404
    assert body(status(query={"id": "../../etc"}))["error"] == "not_found"
    assert body(status())["error"] == "invalid_request"
    assert status(key=None, query={"id": "0" * 32})["statusCode"] == 401


def test_queue_full_answers_429_with_retry_after(service: Service) -> None:
    for _ in range(3):
        assert service.run("translate", ev(GOOD_PROMPT), service.translate, ("POST",))["statusCode"] == 202
    full = service.run("translate", ev(GOOD_PROMPT), service.translate, ("POST",))
    assert full["statusCode"] == 429 and body(full)["error"] == "queue_full"
    assert int(full["headers"]["Retry-After"]) >= 1


def test_cors_preflight_and_origins(service: Service) -> None:
    ok = service.run("translate", ev(method="OPTIONS", key=None, Origin="https://my-app-git-main.vercel.app",
                                     Access_Control_Request_Method="POST"), service.translate, ("POST",))
    assert ok["statusCode"] == 204
    assert ok["headers"]["Access-Control-Allow-Origin"] == "https://my-app-git-main.vercel.app"
    assert "X-API-Key" in ok["headers"]["Access-Control-Allow-Headers"]
    bad = service.run("translate", ev(method="OPTIONS", key=None, Origin="https://evil.example.com"),
                      service.translate, ("POST",))
    assert bad["statusCode"] == 403 and "Access-Control-Allow-Origin" not in bad.get("headers", {})
    deep = service.run("translate", ev(method="OPTIONS", key=None, Origin="https://a.b.vercel.app"),
                       service.translate, ("POST",))
    assert deep["statusCode"] == 403  # '*' matches one label only


def test_redis_down_is_a_clear_503(service: Service, backends: tuple[RedisServer, S3Server]) -> None:
    r, _ = backends
    r.stop()
    try:
        response = service.run("translate", ev(GOOD_PROMPT), service.translate, ("POST",))
        assert response["statusCode"] == 503 and body(response)["error"] == "service_unavailable"
    finally:
        r.start()


def test_accepted_jobs_survive_a_redis_restart(service: Service, settings: Settings,
                                               backends: tuple[RedisServer, S3Server], warm) -> None:  # type: ignore[no-untyped-def]
    job = body(service.run("translate", ev(GOOD_PROMPT), service.translate, ("POST",)))
    backends[0].restart()  # AOF with fsync always: the accepted job is on disk
    view = body(service.run("status", ev(method="GET", query={"id": job["id"]}), service.status, ("GET",)))
    assert view["status"] == "queued"
    drain(settings)
    view = body(service.run("status", ev(method="GET", query={"id": job["id"]}), service.status, ("GET",)))
    assert view["status"] == "finished"


def test_warmup_reports_the_warm_model(service: Service, settings: Settings, warm) -> None:  # type: ignore[no-untyped-def]
    job = Jobs(settings).enqueue_warmup()
    drain(settings)
    report = job.return_value()
    assert report["model"] == registry.SMALL_MODEL and report["already_warm"] is True
    assert report["prefix_tokens"] > 100 and report["load_s"] > 0 and report["worker"] == "test-worker"
    assert 0 <= report["max_draft"] <= settings.max_draft  # within the measured exact batch


def test_jobs_of_a_dead_worker_are_recovered(service: Service, settings: Settings) -> None:
    """A job left 'started' by a vanished worker is requeued once its short heartbeat TTL lapses."""
    from rq.job import JobStatus as RQ

    jobs = Jobs(settings)
    job_id = body(service.run("translate", ev(GOOD_PROMPT), service.translate, ("POST",)))["id"]
    job = jobs.fetch(job_id)
    assert job is not None
    # Simulate a worker that dequeued the job and died before finishing (SIGKILL in test_stack.py):
    # the job is STARTED, with an execution whose heartbeat TTL is one second and nobody beating.
    from rq.executions import Execution

    jobs.queue.remove(job)
    with jobs.redis.pipeline() as pipe:
        job.set_status(RQ.STARTED, pipeline=pipe)
        Execution.create(job, ttl=1, pipeline=pipe, worker_name="ghost")
        pipe.execute()
    time.sleep(2.1)
    view = body(service.run("status", ev(method="GET", query={"id": job_id}), service.status, ("GET",)))
    assert view["status"] == "queued", view  # requeued (job_retries=1) by the clean-up status runs
    assert jobs.queue.get_job_position(job_id) is not None


def test_metrics_need_the_key_and_count_requests(service: Service) -> None:
    service.run("translate", ev("a ball", key="wrong"), service.translate, ("POST",))
    assert service.run("status", ev(method="GET", path="/metrics", key=None), service.status, ("GET",))[
        "statusCode"] == 401
    scraped = service.run("status", ev(method="GET", path="/metrics"), service.status, ("GET",))
    text = scraped["body"].decode()
    assert 'text2pixi_requests_total{code="401",function="translate"}' in text
    assert "text2pixi_num_requests_waiting" in text


def test_health_needs_no_key(service: Service) -> None:
    health = service.run("status", ev(method="GET", path="/healthz", key=None), service.status, ("GET",))
    assert health["statusCode"] == 200


def test_status_falls_back_to_the_stored_result_when_redis_forgot(service: Service, settings: Settings,
                                                                  warm) -> None:  # type: ignore[no-untyped-def]
    job_id = body(service.run("translate", ev(GOOD_PROMPT), service.translate, ("POST",)))["id"]
    drain(settings)
    job = Jobs(settings).fetch(job_id)
    assert job is not None
    job.delete()  # e.g. result_ttl expired, or a Redis volume was lost
    view = body(service.run("status", ev(method="GET", query={"id": job_id}), service.status, ("GET",)))
    assert view["status"] == "finished" and view["result"]["id"] == job_id
