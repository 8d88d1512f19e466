"""The whole local stack over real HTTP: supervisord, redis-server, weed S3, 2 warm workers (SmolLM2),
the three functions through the template's index.py, and the OpenFaaS-compatible gateway."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.backends import free_port
from text2pixi import registry
from text2pixi.ops import localstack
from text2pixi.ops.localstack import StackConfig
from text2pixi.service.store import Store

pytestmark = [pytest.mark.model, pytest.mark.stack]

GOOD_PROMPT = "a pink rectangle"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, small_settings) -> Iterator[StackConfig]:  # type: ignore[no-untyped-def]
    cfg = StackConfig(
        state_dir=tmp_path_factory.mktemp("stack"), gateway_port=free_port(), redis_port=free_port(),
        s3_port=free_port(also_plus=10000), function_base_port=free_port(also_plus=2),
        weed_base_port=free_port(also_plus=10003), workers=2, threads_per_worker=1,
        model=registry.SMALL_MODEL, job_timeout=60,
        extra_env={"TEXT2PIXI_MAX_RETRIES": "1", "TEXT2PIXI_MAX_QUEUE_DEPTH": "50"},
    )
    localstack.up(cfg, timeout=180, log=lambda m: None)
    yield cfg
    localstack.down(cfg)


def url(stack: StackConfig, path: str) -> str:
    return stack.gateway_url + path


def wait_done(api: requests.Session, stack: StackConfig, job_id: str, timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        view = api.get(url(stack, f"/function/status/{job_id}"), timeout=10).json()
        if view["status"] in ("finished", "failed"):
            return view
        time.sleep(0.3)
    raise AssertionError(f"job {job_id} still {view['status']} after {timeout}s")


def test_async_translate_then_poll_then_result_in_s3(stack: StackConfig, api: requests.Session) -> None:
    accepted = api.post(url(stack, "/function/translate"), json={"prompt": GOOD_PROMPT}, timeout=10)
    assert accepted.status_code == 202, accepted.text
    job = accepted.json()
    assert accepted.headers["Location"] == job["status_url"]
    view = wait_done(api, stack, job["id"])
    assert view["status"] == "finished", view
    assert view["result"]["scene"]["objects"] and view["result"]["worker"] in ("worker1", "worker2")
    page = api.get(url(stack, f"/function/status/{job['id']}/html"), timeout=10)
    assert page.status_code == 200 and "__PIXI_APP__" in page.text
    store = Store(localstack.service_settings(stack))
    head = store.client.head_object(Bucket="results", Key=f"{job['id']}.json")
    assert head["ContentLength"] > 100


def test_sync_wait_answers_200_with_the_result(stack: StackConfig, api: requests.Session) -> None:
    response = api.post(url(stack, "/function/translate?wait=60"), data=GOOD_PROMPT,
                        headers={"Content-Type": "text/plain"}, timeout=90)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "finished"


def test_callback_is_delivered(stack: StackConfig, api: requests.Session) -> None:
    received: list[tuple[dict[str, str], dict[str, Any]]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers["Content-Length"])
            received.append((dict(self.headers), json.loads(self.rfile.read(length))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        hook = f"http://127.0.0.1:{server.server_port}/done"
        job = api.post(url(stack, "/function/translate"), data=GOOD_PROMPT,
                       headers={"X-Callback-Url": hook}, timeout=10).json()
        deadline = time.monotonic() + 120
        while not received and time.monotonic() < deadline:
            time.sleep(0.2)
        assert received, "no callback arrived"
        headers, body = received[0]
        assert body["id"] == job["id"] and body["status"] in ("finished", "failed")
        assert headers["X-Text2Pixi-Job-Id"] == job["id"]
    finally:
        server.shutdown()


def test_idempotency_over_http(stack: StackConfig, api: requests.Session) -> None:
    headers = {"Idempotency-Key": "order-42"}
    first = api.post(url(stack, "/function/translate"), data=GOOD_PROMPT, headers=headers, timeout=10).json()
    again = api.post(url(stack, "/function/translate"), data=GOOD_PROMPT, headers=headers, timeout=10).json()
    assert first["id"] == again["id"]


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status", "code"),
    [
        ("POST", "/function/translate", {"data": "{oops", "headers": {"Content-Type": "application/json"}}, 400,
         "bad_json"),
        ("POST", "/function/translate", {"data": "a ball", "headers": {"X-API-Key": "nope"}}, 401, "unauthorized"),
        ("GET", "/function/translate", {}, 405, "method_not_allowed"),
        ("GET", "/function/status/" + "0" * 32, {}, 404, "not_found"),
        ("POST", "/function/translate", {"data": "x" * 5000}, 413, "prompt_too_long"),
        ("GET", "/function/nosuch", {}, 404, "function_not_found"),
    ],
)
def test_errors_over_http_are_json(stack: StackConfig, api: requests.Session, method: str, path: str,
                                   kwargs: dict[str, Any], status: int, code: str) -> None:
    response = api.request(method, url(stack, path), timeout=10, **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["error"] == code


def test_namespaced_function_name_and_async_gateway_call(stack: StackConfig, api: requests.Session) -> None:
    health = api.get(url(stack, "/function/status.openfaas-fn/healthz"), timeout=10)
    assert health.status_code == 200
    queued = api.post(url(stack, "/async-function/translate"), data=GOOD_PROMPT, timeout=10)
    assert queued.status_code == 202 and queued.headers["X-Call-Id"]


def test_invoke_cli_like_faas_cli(stack: StackConfig) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "text2pixi.ops.invoke", "translate", "--gateway", stack.gateway_url,
         "-H", f"X-API-Key: {localstack.api_key(stack)}"],
        input=GOOD_PROMPT, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["status"] in ("queued", "started")


def test_warmup_function(stack: StackConfig, api: requests.Session) -> None:
    report = api.post(url(stack, "/function/warmup"), timeout=90)
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["model"] == registry.SMALL_MODEL and body["already_warm"] is True


def test_a_worker_killed_mid_job_loses_nothing(stack: StackConfig, api: requests.Session) -> None:
    """SIGKILL the worker running a job: the job is requeued and finishes on a live worker."""
    ids = [api.post(url(stack, "/function/translate"), data=GOOD_PROMPT, timeout=10).json()["id"] for _ in range(3)]
    victim = None
    deadline = time.monotonic() + 60
    while victim is None and time.monotonic() < deadline:
        for job_id in ids:
            view = api.get(url(stack, f"/function/status/{job_id}"), timeout=10).json()
            if view["status"] == "started":
                victim = job_id
                break
        time.sleep(0.05)
    assert victim, "no job started"
    from rq.job import Job

    from text2pixi.service.jobs import Jobs

    jobs = Jobs(localstack.service_settings(stack))
    worker_name = ""
    while not worker_name and time.monotonic() < deadline:
        worker_name = Job.fetch(victim, connection=jobs.redis).get_meta(refresh=True).get("worker", "")
        time.sleep(0.02)
    pid = localstack.pid_of(stack, worker_name)
    assert pid, f"no pid for {worker_name}"
    os.kill(pid, signal.SIGKILL)  # mid-job: no clean-up, no goodbye
    t0 = time.monotonic()
    views = [wait_done(api, stack, job_id, timeout=150) for job_id in ids]
    assert [v["status"] for v in views] == ["finished"] * 3, views
    assert time.monotonic() - t0 < 2 * stack.job_timeout + 30


def test_redis_restart_keeps_accepted_jobs(stack: StackConfig, api: requests.Session) -> None:
    job = api.post(url(stack, "/function/translate"), data=GOOD_PROMPT, timeout=10).json()
    subprocess.run([str(Path(sys.executable).parent / "supervisorctl"), "-c", str(stack.conf_path),
                    "restart", "redis"], check=True, capture_output=True)
    view = wait_done(api, stack, job["id"], timeout=150)
    assert view["status"] == "finished", view


def test_state_survives_down_and_up(stack: StackConfig, api: requests.Session) -> None:
    job = api.post(url(stack, "/function/translate?wait=60"), data=GOOD_PROMPT, timeout=90).json()
    assert job["status"] == "finished"
    localstack.down(stack)
    assert "not running" in localstack.status(stack) or "refused" in localstack.status(stack).lower() \
        or "no such file" in localstack.status(stack).lower()
    localstack.up(stack, timeout=180, log=lambda m: None)
    again = api.get(url(stack, f"/function/status/{job['id']}"), timeout=10).json()
    assert again["status"] == "finished" and again["result"]["scene"] == job["result"]["scene"]

