"""The HTTP contract of the functions and the gateway, with a real Redis and S3 but no model and no worker.

The functions are what runs in production: the python3-llama template's Flask app around
``functions/{translate,status,warmup}/handler.py``, configured by ``TEXT2PIXI_*`` variables only. The
gateway is its own Flask app, proxying over HTTP to those functions served on loopback ports. Flask's
test client asks; the answers are checked as a client sees them (status, JSON body, headers), so they
hold whichever module builds them. Jobs are only queued here: tests/integration/test_service.py and
test_stack.py run them on a model.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from rq import Queue, Worker
from werkzeug.test import TestResponse

from tests.backends import RedisServer, S3Server, import_template, serve_wsgi
from tests.conftest import ROOT
from text2pixi.service.functions import get_service
from text2pixi.service.store import Store
from text2pixi.settings import Settings, get_settings
from text2pixi.web.gateway import Gateway, GatewayConfig, create_app

KEY = "contract-api-key-0123456789"
QUEUE = "contract"
FUNCTIONS = ("translate", "status", "warmup")
ALLOWED_ORIGIN = "https://my-app-git-main.vercel.app"
UNKNOWN_ID = "0" * 32
GATEWAY_MAX_BODY = 4096
QUEUE_FULL = "queue_full"
"""The one error code of every 429 (a full job queue, a full async backlog)."""


@dataclass
class Functions:
    """The three function apps and the Redis their queue lives in."""

    apps: dict[str, Flask]
    redis: redis.Redis

    def client(self, name: str) -> FlaskClient:
        return self.apps[name].test_client()

    @property
    def queue(self) -> Queue:
        return Queue(QUEUE, connection=self.redis)


def _reset_cached_settings() -> None:
    """The functions read their settings once per process; the tests change the environment under them."""
    get_settings.cache_clear()
    get_service.cache_clear()


@pytest.fixture(scope="module")
def functions(backends: tuple[RedisServer, S3Server], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Functions]:
    r, s3 = backends
    env = {
        "TEXT2PIXI_REDIS_URL": r.url, "TEXT2PIXI_S3_ENDPOINT_URL": s3.url, "TEXT2PIXI_S3_ACCESS_KEY": s3.access_key,
        "TEXT2PIXI_S3_SECRET_KEY": s3.secret_key, "TEXT2PIXI_API_KEY": KEY, "TEXT2PIXI_QUEUE_NAME": QUEUE,
        "TEXT2PIXI_SECRETS_DIR": str(tmp_path_factory.mktemp("no-secrets")), "TEXT2PIXI_MAX_QUEUE_DEPTH": "1",
        "TEXT2PIXI_MAX_WAIT": "2", "TEXT2PIXI_CORS_ORIGINS": "https://*.vercel.app",
        "TEXT2PIXI_CALLBACK_ALLOW_PRIVATE": "false",
    }
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        mp.delenv("MAX_BODY_BYTES", raising=False)  # the template's own limit stays its default (1 MiB)
        _reset_cached_settings()
        Store(Settings()).ensure_buckets()
        index = import_template(mp)
        apps = {name: index.create_app(index.load_handler(ROOT / "functions" / name)) for name in FUNCTIONS}
        try:
            yield Functions(apps, redis.Redis.from_url(r.url))
        finally:
            _reset_cached_settings()


@pytest.fixture(autouse=True)
def empty_queue(functions: Functions) -> None:
    """Each test starts with no job, no idempotency key and no worker in Redis."""
    functions.redis.flushdb()


def key(**headers: str) -> dict[str, str]:
    """The API key plus ``headers`` (``Content_Type=`` is ``Content-Type``)."""
    return {"X-API-Key": KEY, **{name.replace("_", "-"): value for name, value in headers.items()}}


def assert_error(response: TestResponse, status: int, code: str) -> dict[str, object]:
    """A JSON error body ``{"error": code, "message": ...}`` with this status, and no stack trace."""
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/json", response.headers
    body = response.get_json()
    assert body["error"] == code and isinstance(body["message"], str) and body["message"], body
    assert "Traceback" not in response.get_data(as_text=True)
    return body  # type: ignore[no-any-return]


def assert_allow(response: TestResponse, *methods: str) -> None:
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert set(methods) <= allowed, (methods, allowed)


# --- functions: authentication ----------------------------------------------------------------------------------------

PROTECTED = [("translate", "POST", "/"), ("translate", "POST", "/edit"), ("status", "GET", f"/{UNKNOWN_ID}"),
             ("status", "GET", f"/{UNKNOWN_ID}/html"), ("status", "GET", f"/{UNKNOWN_ID}/history"),
             ("status", "GET", "/metrics"), ("warmup", "GET", "/"), ("warmup", "POST", "/")]


@pytest.mark.parametrize(("function", "method", "path"), PROTECTED)
@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"X-API-Key": KEY + "x"}, {"X-API-Key": KEY[:-1]},
                                     {"Authorization": f"Bearer {KEY}"}], ids=["none", "wrong", "longer", "shorter",
                                                                               "bearer"])
def test_every_function_route_needs_the_api_key(functions: Functions, function: str, method: str, path: str,
                                                headers: dict[str, str]) -> None:
    answer = functions.client(function).open(path, method=method, data=b"a red ball", headers=headers)
    body = assert_error(answer, 401, "unauthorized")
    assert KEY not in json.dumps(body)
    assert functions.queue.count == 0


@pytest.mark.parametrize("function", FUNCTIONS)
def test_health_needs_no_key(functions: Functions, function: str) -> None:
    answer = functions.client(function).get("/healthz")
    assert (answer.status_code, answer.get_json()) == (200, {"status": "ok", "function": function})


def test_metrics_with_the_key(functions: Functions) -> None:
    answer = functions.client("status").get("/metrics", headers=key())
    assert answer.status_code == 200 and answer.mimetype == "text/plain"
    assert "text2pixi_requests_total" in answer.get_data(as_text=True)


# --- functions: translate -------------------------------------------------------------------------------------------


def test_translate_queues_a_job_that_status_reads_back(functions: Functions) -> None:
    answer = functions.client("translate").post("/", json={"prompt": "a red ball"}, headers=key())
    assert answer.status_code == 202 and answer.mimetype == "application/json"
    job = answer.get_json()
    assert job["status"] == "queued" and job["created"] is True and job["queue_position"] == 0
    assert job["status_url"] == answer.headers["Location"] == f"/function/status/{job['id']}"
    assert functions.queue.count == 1 and functions.queue.job_ids == [job["id"]]  # really in Redis, for a worker
    status = functions.client("status")
    for path in (f"/{job['id']}", f"/?id={job['id']}"):
        view = status.get(path, headers=key())
        assert view.status_code == 200, view.get_data(as_text=True)
        assert (view.get_json()["id"], view.get_json()["status"], view.get_json()["queue_position"]) == (
            job["id"], "queued", 0)
    assert_error(status.get(f"/{job['id']}/html", headers=key()), 404, "not_found")  # no page before it ran


def test_a_callback_through_the_openfaas_queue_worker_is_left_to_it(functions: Functions) -> None:
    """One delivery per call: the queue-worker POSTs translate's answer to the URL itself, so translate does not
    register it for the result (nor vet it: the gateway did); a direct caller's URL is registered."""
    hook = "https://1.1.1.1/done"  # a literal public address: nothing to resolve, nothing is sent here
    client = functions.client("translate")

    def queued_callback(headers: dict[str, str]) -> object:
        functions.redis.flushdb()  # the queue holds one job in this fixture
        answer = client.post("/", json={"prompt": "a red ball"}, headers=key(**headers))
        assert answer.status_code == 202, answer.get_data(as_text=True)
        return functions.queue.fetch_job(answer.get_json()["id"]).meta["callback_url"]  # type: ignore[union-attr]

    assert queued_callback({"X_Callback_Url": hook}) == hook
    assert queued_callback({"X_Callback_Url": hook, "User_Agent": "openfaas-ce/nats-queue-worker"}) is None
    assert queued_callback({"X_Callback_Url": "http://10.0.0.7/private",
                            "User_Agent": "openfaas-ce/nats-queue-worker"}) is None


def test_a_plain_text_body_is_the_prompt(functions: Functions) -> None:
    answer = functions.client("translate").post("/", data="a red ball", headers=key(Content_Type="text/plain"))
    assert answer.status_code == 202
    assert functions.queue.count == 1


BAD_TRANSLATES: list[tuple[str, dict[str, object], int, str]] = [
    ("bad JSON", {"data": "{not json", "content_type": "application/json"}, 400, "bad_json"),
    ("JSON array", {"json": [1, 2]}, 400, "bad_json"),
    ("unknown option", {"json": {"prompt": "a ball", "options": {"colour": 1}}}, 400, "unknown_option"),
    ("option out of range", {"json": {"prompt": "a ball", "options": {"max_tokens": 99999}}}, 400,
     "invalid_request"),
    ("unknown field", {"json": {"text": "a ball"}}, 400, "invalid_request"),
    ("blank prompt", {"data": "   "}, 400, "empty_prompt"),
    ("empty JSON prompt", {"json": {"prompt": ""}}, 400, "empty_prompt"),
    ("not UTF-8", {"data": b"\xff\xfe"}, 400, "invalid_request"),
    ("wait not a number", {"data": "a ball", "query_string": "wait=soon"}, 400, "invalid_request"),
    ("wait too long", {"data": "a ball", "query_string": "wait=9999"}, 400, "invalid_request"),
    ("malformed base", {"json": {"prompt": "bigger", "base": "../x"}}, 400, "invalid_request"),
    ("private callback", {"data": "a ball", "headers": {"X-Callback-Url": "http://169.254.169.254/latest"}}, 400,
     "callback_url_refused"),
    ("prompt too long", {"data": "x" * 2000}, 413, "prompt_too_long"),
    ("body too large", {"data": "x" * 20000}, 413, "body_too_large"),
    ("unknown base", {"json": {"prompt": "make it bigger", "base": UNKNOWN_ID}}, 404, "base_not_found"),
]


@pytest.mark.parametrize(("request_kwargs", "status", "code"), [case[1:] for case in BAD_TRANSLATES],
                         ids=[case[0] for case in BAD_TRANSLATES])
def test_bad_translate_requests_get_precise_json_errors_and_queue_nothing(
        functions: Functions, request_kwargs: dict[str, object], status: int, code: str) -> None:
    kwargs = dict(request_kwargs)
    kwargs["headers"] = key(**dict(kwargs.get("headers") or {}))  # type: ignore[call-overload]
    assert_error(functions.client("translate").post("/", **kwargs), status, code)  # type: ignore[arg-type]
    assert functions.queue.count == 0


def test_an_edit_of_an_unknown_base_is_404(functions: Functions) -> None:
    scene = {"bg": "black", "objects": [{"type": "circle", "id": "ball", "x": 400, "y": 300, "r": 40,
                                         "color": "red"}], "anims": []}
    answer = functions.client("translate").post("/edit", json={"base": UNKNOWN_ID, "scene": scene}, headers=key())
    assert_error(answer, 404, "base_not_found")
    answer = functions.client("translate").post("/edit", json={"base": UNKNOWN_ID, "scene": {"bg": 1}},
                                                 headers=key())
    assert_error(answer, 400, "invalid_scene")


@pytest.mark.parametrize(("function", "method", "allowed"), [
    ("translate", "GET", ("POST", "OPTIONS")), ("translate", "DELETE", ("POST", "OPTIONS")),
    ("status", "POST", ("GET", "OPTIONS")), ("warmup", "PUT", ("GET", "POST", "OPTIONS")),
    ("translate", "TRACE", ("POST",)),  # a method the template itself does not route
])
def test_a_wrong_method_is_405_with_allow(functions: Functions, function: str, method: str,
                                          allowed: tuple[str, ...]) -> None:
    answer = functions.client(function).open("/", method=method, headers=key())
    assert_error(answer, 405, "method_not_allowed")
    assert_allow(answer, *allowed)


def test_a_full_queue_is_429_with_retry_after(functions: Functions) -> None:
    translate = functions.client("translate")
    assert translate.post("/", data="a red ball", headers=key()).status_code == 202  # the depth limit is 1
    full = translate.post("/", data="a blue ball", headers=key())
    assert_error(full, 429, QUEUE_FULL)
    assert int(full.headers["Retry-After"]) >= 1
    assert functions.queue.count == 1


def test_an_idempotency_key_names_one_job_and_one_body(functions: Functions) -> None:
    translate = functions.client("translate")
    first = translate.post("/", data="a red ball", headers=key(Idempotency_Key="k1"))
    again = translate.post("/", data="a red ball", headers=key(Idempotency_Key="k1"))
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.get_json()["id"] == first.get_json()["id"] and again.get_json()["created"] is False
    assert_error(translate.post("/", data="a blue ball", headers=key(Idempotency_Key="k1")), 409,
                 "idempotency_key_reused")
    assert_error(translate.post("/", data="a ball", headers=key(Idempotency_Key="k" * 201)), 400, "invalid_request")
    assert functions.queue.count == 1


# --- functions: status and warmup ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "status", "code"), [
    (f"/{UNKNOWN_ID}", 404, "not_found"),
    (f"/?id={UNKNOWN_ID}", 404, "not_found"),
    (f"/{UNKNOWN_ID}/history", 404, "not_found"),
    ("/not-a-job-id", 404, "not_found"),
    ("/?id=../../etc", 404, "not_found"),
    (f"/{UNKNOWN_ID.upper()}", 404, "not_found"),
    ("/", 400, "invalid_request"),
])
def test_status_of_unknown_or_malformed_ids(functions: Functions, path: str, status: int, code: str) -> None:
    assert_error(functions.client("status").get(path, headers=key()), status, code)


def test_warmup_without_workers_is_503(functions: Functions) -> None:
    answer = functions.client("warmup").post("/?wait=0.2", headers=key())
    assert_error(answer, 503, "service_unavailable")


def test_warmup_with_busy_workers_is_202_and_stays_queued(functions: Functions) -> None:
    Worker([functions.queue], connection=functions.redis, name="busy").register_birth()  # alive, never free
    warmup = functions.client("warmup")
    answer = warmup.get("/?wait=0.2", headers=key())
    assert answer.status_code == 202, answer.get_data(as_text=True)
    body = answer.get_json()
    assert (body["status"], body["workers"]) == ("queued", 1)
    assert warmup.post("/?wait=0.2", headers=key()).get_json()["id"] == body["id"]  # callers share one warm-up
    assert functions.queue.job_ids == [body["id"]]


# --- functions: CORS ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("function", FUNCTIONS)
def test_cors_preflight_answers_allowed_origins_only(functions: Functions, function: str) -> None:
    client = functions.client(function)
    ok = client.options("/", headers={"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "POST",
                                      "Access-Control-Request-Headers": "x-api-key"})
    assert ok.status_code == 204
    assert ok.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN and "Origin" in ok.headers["Vary"]
    assert "X-API-Key" in ok.headers["Access-Control-Allow-Headers"]
    assert "OPTIONS" in ok.headers["Access-Control-Allow-Methods"]
    for origin in ("https://evil.example.com", "https://a.b.vercel.app", "https://vercel.app",
                   "http://app.vercel.app", "https://app.vercel.app.evil.com", "null"):
        refused = client.options("/", headers={"Origin": origin, "Access-Control-Request-Method": "POST"})
        assert_error(refused, 403, "origin_not_allowed")
        assert "Access-Control-Allow-Origin" not in refused.headers


def test_cors_headers_on_answers_and_errors_for_allowed_origins_only(functions: Functions) -> None:
    status = functions.client("status")
    allowed = status.get(f"/{UNKNOWN_ID}", headers=key(Origin=ALLOWED_ORIGIN))
    assert allowed.status_code == 404 and allowed.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    unauthorized = status.get(f"/{UNKNOWN_ID}", headers={"Origin": ALLOWED_ORIGIN})
    assert unauthorized.status_code == 401  # a browser can read why it was refused
    assert unauthorized.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    other = status.get(f"/{UNKNOWN_ID}", headers=key(Origin="https://evil.example.com"))
    assert other.status_code == 404 and "Access-Control-Allow-Origin" not in other.headers
    accepted = functions.client("translate").post("/", data="a red ball", headers=key(Origin=ALLOWED_ORIGIN))
    assert accepted.status_code == 202 and accepted.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN


# --- the gateway, in front of the functions -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def gateway(functions: Functions) -> Iterator[FlaskClient]:
    """The gateway's app with the three functions served on loopback ports behind it."""
    with ExitStack() as stack:
        urls = {name: stack.enter_context(serve_wsgi(app)) for name, app in functions.apps.items()}
        proxy = Gateway(GatewayConfig(functions=urls, max_body=GATEWAY_MAX_BODY))
        stack.callback(proxy.close)
        yield create_app(proxy).test_client()


def test_the_gateway_passes_the_functions_contract_through(gateway: FlaskClient, functions: Functions) -> None:
    assert_error(gateway.post("/function/translate", data="a red ball"), 401, "unauthorized")
    assert_error(gateway.post("/function/translate", json={"prompt": "a ball", "options": {"colour": 1}},
                              headers=key()), 400, "unknown_option")
    accepted = gateway.post("/function/translate", data="a red ball", headers=key(Origin=ALLOWED_ORIGIN))
    assert accepted.status_code == 202, accepted.get_data(as_text=True)
    assert accepted.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN and accepted.headers["X-Call-Id"]
    job = accepted.get_json()
    assert functions.queue.job_ids == [job["id"]]
    view = gateway.get(job["status_url"], headers=key())
    assert (view.status_code, view.get_json()["status"]) == (200, "queued")
    full = gateway.post("/function/translate", data="a blue ball", headers=key())
    assert_error(full, 429, QUEUE_FULL)
    assert int(full.headers["Retry-After"]) >= 1
    assert_error(gateway.get(f"/function/status/{UNKNOWN_ID}", headers=key()), 404, "not_found")
    preflight = gateway.options("/function/translate", headers={"Origin": ALLOWED_ORIGIN,
                                                                "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 204 and preflight.headers["Access-Control-Allow-Origin"] == ALLOWED_ORIGIN
    assert (gateway.get("/function/warmup/healthz").status_code, gateway.get("/healthz").status_code) == (200, 200)


@pytest.mark.parametrize(("method", "path", "body", "status", "code"), [
    ("POST", "/function/nope", b"x", 404, "function_not_found"),
    ("POST", "/function/translate.other-namespace", b"x", 404, "function_not_found"),
    ("POST", "/async-function/nope", b"x", 404, "function_not_found"),
    ("GET", "/system/function/nope", b"", 404, "function_not_found"),
    ("GET", "/nowhere", b"", 404, "not_found"),
    ("TRACE", "/function/translate", b"", 405, "method_not_allowed"),
    ("GET", "/async-function/translate", b"", 405, "method_not_allowed"),
    ("POST", "/healthz", b"", 405, "method_not_allowed"),
    ("POST", "/function/translate", b"x" * (GATEWAY_MAX_BODY + 1), 413, "body_too_large"),
    ("POST", "/async-function/translate", b"x" * (GATEWAY_MAX_BODY + 1), 413, "body_too_large"),
])
def test_the_gateways_own_errors_are_json(gateway: FlaskClient, functions: Functions, method: str, path: str,
                                          body: bytes, status: int, code: str) -> None:
    answer = gateway.open(path, method=method, data=body, headers=key())
    assert_error(answer, status, code)
    if status == 405:
        assert answer.headers["Allow"]
    assert functions.queue.count == 0


def test_the_gateways_system_routes_need_basic_auth(functions: Functions) -> None:
    app = create_app(Gateway(GatewayConfig(functions={"translate": "http://127.0.0.1:9"}, basic_auth="admin:pw")))
    client = app.test_client()
    for credentials in (None, "admin:wrong", "root:pw"):
        headers = {"Authorization": "Basic " + base64.b64encode(credentials.encode()).decode()} if credentials else {}
        refused = client.get("/system/functions", headers=headers)
        assert_error(refused, 401, "unauthorized")
        assert refused.headers["WWW-Authenticate"] == 'Basic realm="OpenFaaS API"'
    ok = client.get("/system/functions", headers={"Authorization": "Basic " + base64.b64encode(b"admin:pw").decode()})
    assert ok.status_code == 200 and [f["name"] for f in ok.get_json()] == ["translate"]


def test_a_full_async_backlog_is_429(functions: Functions) -> None:
    """One async slot, held by a call whose function has not answered yet: the next call is turned away."""
    release = threading.Event()

    def held(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        release.wait(10)
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b"{}"]

    with serve_wsgi(held) as url:  # type: ignore[arg-type]
        proxy = Gateway(GatewayConfig(functions={"held": url}, async_workers=1, async_queue=1))
        try:
            client = create_app(proxy).test_client()
            assert client.post("/async-function/held").status_code == 202
            full = client.post("/async-function/held")
            assert_error(full, 429, QUEUE_FULL)
            assert int(full.headers["Retry-After"]) >= 1
        finally:
            release.set()
            proxy.close()

