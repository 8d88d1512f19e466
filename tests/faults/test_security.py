"""Security properties, on the real stack where it matters and on the pure code where it is enough:
the API key on every function but health, compared in constant time and never echoed or logged;
CORS only for allowed origins; X-Callback-Url not usable for SSRF (functions and gateway); the
model and result stores not reachable through the gateway."""

from __future__ import annotations

import ast
import inspect
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from text2pixi.core.errors import CallbackRefused
from text2pixi.service import functions, http
from text2pixi.service.callbacks import check_callback_url, deliver
from text2pixi.service.functions import Service
from text2pixi.settings import Settings
from text2pixi.web import gateway, openapi

from . import harness

PRIVATE_TARGETS = [
    "http://127.0.0.1/", "http://localhost:8080/x", "http://10.0.0.1/", "http://172.16.5.4/", "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://[fe80::1]/", "http://0.0.0.0/",
    "http://[::ffff:127.0.0.1]/", "http://2130706433/", "http://0x7f000001/", "http://127.1/", "http://[fc00::1]/",
    "http://100.64.0.1/", "http://198.18.0.1/", "http://224.0.0.1/", "https://127.0.0.1:443/",
]
MALFORMED = ["http://[::1", "http://a:99999/", "ftp://example.com/", "javascript:alert(1)", "http:///x",
             "http://user:pw@example.com/", "http://exa mple.com/", "http://a\x00b/", "//example.com", "x" * 3000]


@pytest.mark.parametrize("url", PRIVATE_TARGETS)
def test_callbacks_to_private_loopback_and_link_local_targets_are_refused(url: str) -> None:
    with pytest.raises(CallbackRefused):
        check_callback_url(url, allow_private=False)


@pytest.mark.parametrize("url", MALFORMED)
def test_malformed_callback_urls_are_refused_not_crashes(url: str) -> None:
    for allow in (False, True):
        with pytest.raises(CallbackRefused):
            check_callback_url(url, allow_private=allow)


def test_a_public_literal_address_is_allowed() -> None:
    assert check_callback_url("https://93.184.215.14/hook", allow_private=False)


@dataclass
class Event:
    body: bytes = b"a red ball"
    headers: dict[str, str] = field(default_factory=dict)
    method: str = "POST"
    query: dict[str, str] = field(default_factory=dict)
    path: str = "/"


def test_translate_refuses_a_private_callback_with_400_before_queueing() -> None:
    svc = Service(Settings(api_key="k" * 32, callback_allow_private=False, redis_url="redis://127.0.0.1:1/0"))
    answer = svc.run("translate", Event(headers={"X-API-Key": "k" * 32,
                                                 "X-Callback-Url": "http://169.254.169.254/"}),
                     svc.translate, ("POST",))
    assert answer["statusCode"] == 400 and answer["body"]["error"] == "callback_url_refused"


def test_gateway_async_calls_refuse_private_callbacks() -> None:
    app = gateway.create_app(gateway.Gateway(gateway.GatewayConfig(functions={"translate": "http://127.0.0.1:9"})))
    answer = app.test_client().post("/async-function/translate", data=b"x",
                                    headers={"X-Callback-Url": "http://127.0.0.1:6379/"})
    assert answer.status_code == 400 and answer.get_json()["error"] == "callback_url_refused"


@pytest.fixture()
def servers() -> Iterator[dict[str, Any]]:
    """A redirecting server, its target, a silent server and a drip-feeding one, on loopback."""
    hits: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            hits.append(self.path)
            if self.path == "/redirect":
                self.send_response(307)
                self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/internal")
                self.end_headers()
            elif self.path == "/drip":
                self.send_response(200)
                self.send_header("Content-Length", "1000")
                self.end_headers()
                try:
                    for _ in range(40):
                        self.wfile.write(b"x")
                        self.wfile.flush()
                        time.sleep(0.5)
                except OSError:  # the client gave up, as it should
                    pass
            else:
                self.send_response(204)
                self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)
    yield {"port": server.server_port, "hits": hits, "silent": silent.getsockname()[1]}
    silent.close()
    server.shutdown()


def test_callbacks_follow_no_redirect(servers: dict[str, Any]) -> None:
    status = deliver(f"http://127.0.0.1:{servers['port']}/redirect", {"id": "x"}, {}, allow_private=True, timeout=2)
    assert status == 307 and servers["hits"] == ["/redirect"]


def test_callbacks_time_out_on_silent_and_dripping_targets(servers: dict[str, Any]) -> None:
    for url in (f"http://127.0.0.1:{servers['silent']}/", f"http://127.0.0.1:{servers['port']}/drip"):
        t0 = time.monotonic()
        deliver(url, {"id": "x"}, {}, allow_private=True, timeout=1.0)
        assert time.monotonic() - t0 < 3.5, url


def test_key_comparisons_are_constant_time() -> None:
    """The only comparisons of secrets are ``hmac.compare_digest`` (no ``==`` on a key)."""
    for func in (Service.authenticate, gateway.Gateway.authorized):
        source = inspect.cleandoc("\n" + inspect.getsource(func))
        tree = ast.parse(source)
        calls = [ast.unparse(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)]
        assert "hmac.compare_digest" in calls, func
        compares = [ast.unparse(n) for n in ast.walk(tree) if isinstance(n, ast.Compare)]
        assert not [c for c in compares if "expected" in c or "password" in c or "given" in c], compares


# --- on the real stack ---------------------------------------------------------------------


def _operations() -> list[tuple[str, str]]:
    ops = []
    for template, item in openapi.document()["paths"].items():
        for method, operation in item.items():
            if operation.get("security") == openapi.KEY:
                path = template.replace("{id}", "0" * 32).replace("{name}", "translate")
                ops.append((method.upper(), path))
    return ops


@pytest.mark.model
@pytest.mark.stack
def test_every_function_needs_the_key_except_health(fault_stack: harness.Stack) -> None:
    ops = _operations()
    assert {m for m, _ in ops} >= {"GET", "POST"} and len(ops) >= 6
    key = fault_stack.key
    for method, path in ops:
        for headers in ({}, {"X-API-Key": "wrong"}, {"X-API-Key": key[:-1]}, {"X-API-Key": key + "x"},
                        {"X-API-Key": key.upper() if key.upper() != key else key.lower()},
                        {"Authorization": f"Bearer {key}"}, {"X-Api-Key": ""}):
            answer = requests.request(method, fault_stack.url(path), headers=headers, data=b"a red ball", timeout=15)
            assert answer.status_code == 401, (method, path, headers, answer.status_code)
            assert answer.json()["error"] == "unauthorized"
    for path in ("/healthz", "/openapi.json", *(f"/function/{f}/healthz" for f in ("translate", "status", "warmup"))):
        assert requests.get(fault_stack.url(path), timeout=10).status_code == 200, path


@pytest.mark.model
@pytest.mark.stack
def test_keys_never_appear_in_logs_results_or_error_bodies(fault_stack: harness.Stack) -> None:
    wrong = "not-the-key-" + "Q" * 20
    bodies = []
    for path in ("/function/translate", "/function/status/" + "0" * 32, "/function/warmup"):
        bodies.append(requests.post(fault_stack.url(path), headers={"X-API-Key": wrong}, timeout=10).text)
    job = harness.submit(fault_stack, "a pink rectangle")
    assert job.job_id
    deadline = time.monotonic() + 10 * harness.JOB_TIMEOUT
    jobs = fault_stack.jobs()
    while not harness.is_final(harness.state(jobs, job.job_id)[0]) and time.monotonic() < deadline:
        time.sleep(0.5)
    view = requests.get(fault_stack.url(f"/function/status/{job.job_id}"), headers=fault_stack.headers(), timeout=10)
    bodies.append(view.text)
    secrets_dir = fault_stack.cfg.secrets_dir
    secrets = [fault_stack.key, wrong] + [p.read_text().strip() for p in secrets_dir.iterdir()]
    logs = {p.name: p.read_text(errors="replace") for p in (fault_stack.cfg.state_dir / "logs").iterdir()}
    results = fault_stack.store().client.list_objects_v2(Bucket="results").get("Contents", [])
    stored = [fault_stack.store().client.get_object(Bucket="results", Key=o["Key"])["Body"].read()
              for o in results[:50] if o["Key"].endswith(".json")]
    for secret in secrets:
        assert len(secret) >= 12
        for name, text in logs.items():
            assert secret not in text, f"a secret is in {name}"
        for body in bodies:
            assert secret not in body
        for blob in stored:
            assert secret.encode() not in blob


@pytest.mark.model
@pytest.mark.stack
@pytest.mark.parametrize(("origin", "allowed"), [
    ("https://app.vercel.app", True), ("http://127.0.0.1:3000", True),
    ("https://evil.com", False), ("https://app.vercel.app.evil.com", False), ("https://a.b.vercel.app", False),
    ("null", False), ("https://vercel.app", False), ("http://app.vercel.app", False), ("https://APP.vercel.app", True),
])
def test_cors_answers_only_allowed_origins(fault_stack: harness.Stack, origin: str, allowed: bool) -> None:
    preflight = requests.options(fault_stack.url("/function/translate"), timeout=10, headers={
        "Origin": origin, "Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "x-api-key"})
    actual = requests.get(fault_stack.url("/function/status/" + "0" * 32), timeout=10,
                          headers={"Origin": origin, **fault_stack.headers()})
    if allowed:
        assert preflight.status_code == 204 and preflight.headers["Access-Control-Allow-Origin"] == origin
        assert actual.headers.get("Access-Control-Allow-Origin") == origin
    else:
        assert preflight.status_code == 403 and preflight.json()["error"] == "origin_not_allowed"
        assert "Access-Control-Allow-Origin" not in preflight.headers
        assert "Access-Control-Allow-Origin" not in actual.headers


def _raw(stack: harness.Stack, payload: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", stack.cfg.gateway_port), timeout=10) as sock:
        sock.sendall(payload)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
            if b"\r\n\r\n" in data:
                break
        return data


@pytest.mark.model
@pytest.mark.stack
def test_stores_are_not_reachable_through_the_gateway(fault_stack: harness.Stack) -> None:
    job = harness.submit(fault_stack, "a pink rectangle")
    assert job.job_id
    s3, redis_port = fault_stack.cfg.s3_port, fault_stack.cfg.redis_port
    paths = ["/results/x.json", "/models/", f"/function/results/{job.job_id}.json", "/function/s3/results",
             "/function/redis", f"/function/status/{job.job_id}.json",
             f"/function/status/..%2F..%2Fresults%2F{job.job_id}",
             f"/function/status/../../results/{job.job_id}.json", "/function/status/%2e%2e/models",
             "/function/translate.openfaas-fn/../../results", "/function/status?id=../results/x"]
    for path in paths:
        answer = requests.get(fault_stack.url(path), headers=fault_stack.headers(), timeout=10)
        assert answer.status_code in (400, 404, 405), (path, answer.status_code, answer.text[:200])
        assert "ListBucketResult" not in answer.text and "<Error>" not in answer.text
    # Absolute-form targets and a foreign Host header do not turn the gateway into a proxy.
    for target in (f"http://127.0.0.1:{s3}/results/", f"http://127.0.0.1:{redis_port}/"):
        data = _raw(fault_stack, f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{s3}\r\n\r\n".encode())
        assert not data.startswith(b"HTTP/1.1 2"), data[:200]
        assert b"ListBucketResult" not in data
    listing = requests.get(fault_stack.url("/system/functions"), timeout=10).text
    for secret_file in fault_stack.cfg.secrets_dir.iterdir():
        assert secret_file.read_text().strip() not in listing
    assert f":{s3}" not in listing and f":{redis_port}" not in listing


def test_service_maps_errors_in_one_place() -> None:
    """Handlers raise named errors; ``error_response`` alone turns them into HTTP answers."""
    source = inspect.getsource(functions) + inspect.getsource(http)
    assert source.count("def error_response") == 1
    assert '"statusCode": 4' not in source and '"statusCode": 5' not in source
