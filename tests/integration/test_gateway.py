"""The local gateway and the invoke client, over real sockets: echo function <- gateway <- requests/invoke/faas-cli.

faas-cli itself is used when a binary is at hand (``$FAAS_CLI``, on PATH, or in ``<cache>/bin/faas-cli``); it is
never downloaded by the tests.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from tests.integration.test_template import ROOT, Process, free_port, spawn, start_function, stop
from text2pixi.core.errors import InvokeError
from text2pixi.ops.endpoint import resolve_gateway
from text2pixi.ops.invoke import invoke
from text2pixi.settings import GatewaySettings, parse_functions

TIMEOUT = 1.0
"""The test gateway's upstream timeout: short, so the 504 test is quick."""
AUTH = ("admin", "s3cret-pass")


def start_gateway(tmp: Path, functions: str, **env: str) -> Process:
    port = free_port()
    args = [sys.executable, "-m", "text2pixi.web.server", "--host", "127.0.0.1", "--port", str(port),
            "--functions", functions]
    base = {"TEXT2PIXI_GATEWAY_TIMEOUT": str(TIMEOUT), "TEXT2PIXI_GATEWAY_MAX_BODY": "4096",
            "TEXT2PIXI_GATEWAY_BASIC_AUTH": "", "TEXT2PIXI_GATEWAY_NAMESPACE": "",
            "TEXT2PIXI_CALLBACK_ALLOW_PRIVATE": "true"}  # the callback receivers here are on loopback
    return spawn(args, port, tmp / f"gateway-{port}.log", {**base, **env})


@dataclass
class Stack:
    function: Process
    gateway: Process
    secured: Process

    @property
    def url(self) -> str:
        return self.gateway.url


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """One echo function behind two gateways: an open one and one with basic auth on /system/*."""
    tmp = tmp_path_factory.mktemp("gateway")
    started: list[Process] = []
    try:
        function = start_function(tmp)
        started.append(function)
        functions = f"echo={function.url},down=http://127.0.0.1:{free_port()}"
        started.append(start_gateway(tmp, functions))
        started.append(start_gateway(tmp, functions, TEXT2PIXI_GATEWAY_BASIC_AUTH=":".join(AUTH)))
        yield Stack(*started)
    finally:
        for process in started:
            stop(process.proc)


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes


@pytest.fixture
def callbacks() -> Iterator[tuple[str, queue.Queue[Delivery]]]:
    """A local HTTP listener standing in for a callback receiver; every POST lands in the queue."""
    received: queue.Queue[Delivery] = queue.Queue()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            received.put(Delivery(self.path, dict(self.headers.items()), body))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


# --- configuration --------------------------------------------------------------------------------------------------


def test_parse_functions() -> None:
    table = parse_functions(" translate=http://127.0.0.1:5001/ ,status=http://127.0.0.1:5002,")
    assert table == {"translate": "http://127.0.0.1:5001", "status": "http://127.0.0.1:5002"}
    for bad in ["translate", "Trans=http://x", "a=ftp://x", "a=127.0.0.1:5001", "a.b=http://x"]:
        with pytest.raises(ValueError):
            parse_functions(bad)


def test_config_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("TEXT2PIXI_GATEWAY_")] + ["TEXT2PIXI_CALLBACK_ALLOW_PRIVATE",
                                                                                 "TEXT2PIXI_PLAYGROUND"]:
        monkeypatch.delenv(name, raising=False)
    for name, value in {"TEXT2PIXI_GATEWAY_FUNCTIONS": "a=http://127.0.0.1:1", "TEXT2PIXI_GATEWAY_TIMEOUT": "3",
                        "TEXT2PIXI_GATEWAY_BASIC_AUTH": "u:p", "TEXT2PIXI_GATEWAY_NAMESPACE": ""}.items():
        monkeypatch.setenv(name, value)
    config = GatewaySettings()
    assert (config.functions, config.timeout, config.basic_auth) == ({"a": "http://127.0.0.1:1"}, 3.0, "u:p")
    assert (config.namespace, config.max_body) == ("openfaas-fn", 1024 * 1024)  # an empty variable is the default
    assert "u:p" not in repr(config)
    assert (config.callback_allow_private, config.playground) == (False, "auto")
    for true in ("1", "true", "yes", "on", "TRUE"):  # one truthiness rule, the functions' (pydantic's)
        monkeypatch.setenv("TEXT2PIXI_CALLBACK_ALLOW_PRIVATE", true)
        assert GatewaySettings().callback_allow_private is True
    assert GatewaySettings(port=9000, functions="b=http://127.0.0.1:2").port == 9000  # the server's flags win
    monkeypatch.setenv("TEXT2PIXI_GATEWAY_FUNCTIONS", "Bad=http://x")
    with pytest.raises(ValueError, match="bad function entry"):
        GatewaySettings()


def test_gateway_url_precedence() -> None:
    assert resolve_gateway("http://x:1/", {"OPENFAAS_URL": "http://y:2"}) == "http://x:1"
    assert resolve_gateway(None, {"OPENFAAS_URL": "http://y:2"}) == "http://y:2"
    assert resolve_gateway(None, {}) == "http://127.0.0.1:8080"


# --- synchronous proxying -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
def test_sync_proxy_forwards_method_path_query_headers_body(stack: Stack, method: str) -> None:
    r = requests.request(method, f"{stack.url}/function/echo/a/b%20c?x=1&y=two", data=b"\x00payload",
                         headers={"X-Test": "yes", "Content-Type": "application/octet-stream"}, timeout=5)
    assert r.status_code == 200, r.text
    got = r.json()
    assert got["method"] == method
    assert got["path"] == "/a/b c"
    assert got["query"] == {"x": "1", "y": "two"}
    assert got["headers"]["x-test"] == "yes"
    assert got["headers"]["content-type"] == "application/octet-stream"
    assert got["body_b64"] == "AHBheWxvYWQ="
    assert got["headers"]["x-call-id"] == r.headers["X-Call-Id"]
    assert uuid.UUID(r.headers["X-Call-Id"]).version == 4
    assert int(r.headers["X-Start-Time"]) > 0


def test_sync_proxy_root_and_trailing_slash(stack: Stack) -> None:
    for path in ["/function/echo", "/function/echo/"]:
        r = requests.get(stack.url + path, timeout=5)
        assert (r.status_code, r.json()["path"]) == (200, "/")


def test_sync_proxy_returns_upstream_status_and_headers(stack: Stack) -> None:
    r = requests.post(f"{stack.url}/function/echo?status=418&header=X-Custom:teapot", data=b"hi", timeout=5)
    assert r.status_code == 418
    assert r.headers["X-Custom"] == "teapot"
    assert r.headers["Content-Type"] == "application/json"
    r = requests.get(f"{stack.url}/function/echo?text=1", timeout=5)
    assert (r.status_code, r.text) == (200, "plain text")


def test_upstream_error_status_passes_through(stack: Stack) -> None:
    r = requests.get(f"{stack.url}/function/echo?fail=1", timeout=5)
    assert r.status_code == 500
    assert r.json() == {"error": "internal_error", "message": "internal error"}


def test_hop_by_hop_headers_are_not_forwarded(stack: Stack) -> None:
    r = requests.get(f"{stack.url}/function/echo", timeout=5,
                     headers={"Connection": "keep-alive, X-Drop-Me", "X-Drop-Me": "1", "Keep-Alive": "timeout=5",
                              "Proxy-Authorization": "Basic Zm9vOmJhcg==", "X-Keep": "1"})
    headers = r.json()["headers"]
    assert "x-keep" in headers
    assert not {"x-drop-me", "keep-alive", "proxy-authorization"} & set(headers)


def test_namespace_suffix(stack: Stack) -> None:
    r = requests.post(f"{stack.url}/function/echo.openfaas-fn/x?q=1", data=b"ns", timeout=5)
    assert r.status_code == 200
    assert (r.json()["path"], r.json()["body"]) == ("/x", "ns")
    r = requests.post(f"{stack.url}/function/echo.other-ns", data=b"ns", timeout=5)
    assert (r.status_code, r.json()["error"]) == (404, "function_not_found")


def test_unknown_function_is_404_json(stack: Stack) -> None:
    r = requests.post(f"{stack.url}/function/nope", data=b"x", timeout=5)
    assert r.status_code == 404
    assert r.json()["error"] == "function_not_found"
    assert "nope" in r.json()["message"]


def test_upstream_down_is_502_json(stack: Stack) -> None:
    r = requests.post(f"{stack.url}/function/down", data=b"x", timeout=5)
    assert r.status_code == 502
    assert r.json()["error"] == "function_unavailable"


def test_upstream_timeout_is_504_json(stack: Stack) -> None:
    started = time.monotonic()
    r = requests.get(f"{stack.url}/function/echo?sleep={TIMEOUT + 0.5}", timeout=10)
    assert r.status_code == 504
    assert r.json()["error"] == "function_timeout"
    assert time.monotonic() - started < TIMEOUT + 1


def test_body_over_limit_is_413_json(stack: Stack) -> None:
    r = requests.post(f"{stack.url}/function/echo", data=b"x" * 5000, timeout=5)
    assert (r.status_code, r.json()["error"]) == (413, "body_too_large")
    r = requests.post(f"{stack.url}/async-function/echo", data=b"x" * 5000, timeout=5)
    assert (r.status_code, r.json()["error"]) == (413, "body_too_large")
    r = requests.post(f"{stack.url}/function/echo", data=iter([b"y" * 3000, b"y" * 3000]), timeout=5)  # chunked
    assert (r.status_code, r.json()["error"]) == (413, "body_too_large")


def test_unsupported_method_is_405_json(stack: Stack) -> None:
    r = requests.request("TRACE", f"{stack.url}/function/echo", timeout=5)
    assert (r.status_code, r.json()["error"]) == (405, "method_not_allowed")


def test_function_routes_need_no_basic_auth(stack: Stack) -> None:
    r = requests.post(f"{stack.secured.url}/function/echo", data=b"open", timeout=5)
    assert (r.status_code, r.json()["body"]) == (200, "open")


# --- asynchronous calls -------------------------------------------------------------------------------------------


def test_async_call_is_accepted_and_calls_back(stack: Stack, callbacks: tuple[str, queue.Queue[Delivery]]) -> None:
    url, received = callbacks
    before = time.time_ns()
    r = requests.post(f"{stack.url}/async-function/echo/job?x=1", data=b"async body",
                      headers={"X-Callback-Url": f"{url}/done", "X-Test": "a"}, timeout=5)
    assert r.status_code == 202
    call_id = r.headers["X-Call-Id"]
    assert uuid.UUID(call_id).version == 4
    assert int(r.headers["X-Start-Time"]) >= before
    delivery = received.get(timeout=5)
    assert delivery.path == "/done"
    assert delivery.headers["X-Call-Id"] == call_id
    assert delivery.headers["X-Function-Status"] == "200"
    assert delivery.headers["X-Function-Name"] == "echo"
    assert float(delivery.headers["X-Duration-Seconds"]) >= 0
    got = json.loads(delivery.body)
    assert (got["method"], got["path"], got["query"], got["body"]) == ("POST", "/job", {"x": "1"}, "async body")
    assert got["headers"]["x-test"] == "a"
    assert got["headers"]["x-call-id"] == call_id
    # One delivery per call: the URL is the gateway's; the function never sees it, so it cannot call back too.
    assert "x-callback-url" not in got["headers"]
    time.sleep(0.3)
    assert received.empty(), "a second delivery arrived"


def test_async_failures_are_reported_to_the_callback(stack: Stack,
                                                     callbacks: tuple[str, queue.Queue[Delivery]]) -> None:
    url, received = callbacks
    for path, status in [("echo?status=503", "503"), ("echo?fail=1", "500"), ("down", "502")]:
        r = requests.post(f"{stack.url}/async-function/{path}", headers={"X-Callback-Url": url}, timeout=5)
        assert r.status_code == 202
        delivery = received.get(timeout=5)
        assert delivery.headers["X-Call-Id"] == r.headers["X-Call-Id"]
        assert delivery.headers["X-Function-Status"] == status


def test_async_without_callback_and_bad_callback_do_not_break_the_gateway(stack: Stack) -> None:
    r = requests.post(f"{stack.url}/async-function/echo", data=b"fire and forget", timeout=5)
    assert r.status_code == 202
    r = requests.post(f"{stack.url}/async-function/echo", headers={"X-Callback-Url": f"http://127.0.0.1:{free_port()}"},
                      timeout=5)
    assert r.status_code == 202
    r = requests.post(f"{stack.url}/async-function/echo", headers={"X-Callback-Url": "file:///etc/passwd"}, timeout=5)
    assert (r.status_code, r.json()["error"]) == (400, "callback_url_refused")
    time.sleep(0.3)
    assert stack.gateway.proc.poll() is None
    assert requests.get(f"{stack.url}/healthz", timeout=5).status_code == 200


def test_async_rejects_other_methods_and_unknown_functions(stack: Stack) -> None:
    r = requests.get(f"{stack.url}/async-function/echo", timeout=5)
    assert (r.status_code, r.json()["error"]) == (405, "method_not_allowed")
    r = requests.post(f"{stack.url}/async-function/nope", timeout=5)
    assert (r.status_code, r.json()["error"]) == (404, "function_not_found")


# --- /system and /healthz ----------------------------------------------------------------------------------------


def test_system_functions_lists_what_faas_cli_reads(stack: Stack) -> None:
    r = requests.get(f"{stack.url}/system/functions", timeout=5)
    assert r.status_code == 200
    items = {item["name"]: item for item in r.json()}
    assert set(items) == {"echo", "down"}
    keys = {"name", "image", "namespace", "invocationCount", "replicas", "availableReplicas", "envProcess", "labels",
            "annotations"}
    assert keys <= set(items["echo"])
    assert items["echo"]["namespace"] == "openfaas-fn"
    before = items["echo"]["invocationCount"]
    requests.post(f"{stack.url}/function/echo", data=b"count me", timeout=5)
    after = requests.get(f"{stack.url}/system/function/echo", timeout=5).json()
    assert after["invocationCount"] == before + 1
    assert requests.get(f"{stack.url}/system/functions?namespace=other", timeout=5).json() == []
    r = requests.get(f"{stack.url}/system/function/nope", timeout=5)
    assert (r.status_code, r.json()["error"]) == (404, "function_not_found")


def test_system_info(stack: Stack) -> None:
    info = requests.get(f"{stack.url}/system/info", timeout=5).json()
    assert info["provider"]["provider"] == "text2pixi-local"
    assert info["provider"]["orchestration"] == "local"
    assert info["version"]["release"]
    assert info["arch"]


def test_system_routes_need_basic_auth_when_set(stack: Stack) -> None:
    for path in ["/system/functions", "/system/function/echo", "/system/info"]:
        r = requests.get(stack.secured.url + path, timeout=5)
        assert r.status_code == 401
        assert r.json()["error"] == "unauthorized"
        assert r.headers["WWW-Authenticate"] == 'Basic realm="OpenFaaS API"'
        assert requests.get(stack.secured.url + path, auth=("admin", "wrong"), timeout=5).status_code == 401
        assert requests.get(stack.secured.url + path, auth=("root", AUTH[1]), timeout=5).status_code == 401
        assert requests.get(stack.secured.url + path, auth=AUTH, timeout=5).status_code == 200


def test_healthz(stack: Stack) -> None:
    r = requests.get(f"{stack.secured.url}/healthz", timeout=5)
    assert (r.status_code, r.text) == (200, "OK")


# --- text2pixi.ops.invoke ---------------------------------------------------------------------------------------------


def run_invoke(args: list[str], body: bytes = b"", **env: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "text2pixi.ops.invoke", *args], input=body, capture_output=True,
                          cwd=ROOT, env={**os.environ, **env}, timeout=30, check=False)


def test_invoke_function(stack: Stack) -> None:
    status, body, headers = invoke("echo", b"lib body", stack.url, headers=["X-A: 1", "X-B=2"], query=["k=v"],
                                   method="put", content_type="application/json")
    got = json.loads(body)
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert (got["method"], got["body"], got["query"]) == ("PUT", "lib body", {"k": "v"})
    assert (got["headers"]["x-a"], got["headers"]["x-b"], got["headers"]["content-type"]) == ("1", "2",
                                                                                                "application/json")
    _, body, _ = invoke("echo", b"", stack.url, headers=["Content-Type: text/csv"], namespace="openfaas-fn")
    assert json.loads(body)["headers"]["content-type"] == "text/csv"
    with pytest.raises(InvokeError) as caught:
        invoke("echo", b"", stack.url, query=["status=409"])
    assert caught.value.status == 409 and b"method" in caught.value.body
    with pytest.raises(ValueError):
        invoke("echo", b"", stack.url, headers=["no separator"])


def test_invoke_main_reads_stdin_and_writes_stdout(stack: Stack) -> None:
    result = run_invoke(["echo", "--gateway", stack.url, "-H", "X-Test: cli", "--query", "a=1", "--query", "b=2"],
                        b"from stdin")
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    assert (got["method"], got["body"], got["query"]) == ("POST", "from stdin", {"a": "1", "b": "2"})
    assert got["headers"]["x-test"] == "cli"
    assert got["headers"]["content-type"] == "text/plain"


def test_invoke_main_uses_openfaas_url_and_method(stack: Stack) -> None:
    result = run_invoke(["echo", "--method", "GET"], OPENFAAS_URL=stack.url)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["method"] == "GET"


def test_invoke_main_async(stack: Stack) -> None:
    result = run_invoke(["echo", "--gateway", stack.url, "--async"], b"later")
    assert result.returncode == 0, result.stderr
    assert result.stdout == b""
    assert result.stderr.decode().strip() == "Function submitted asynchronously."


@pytest.mark.parametrize(("args", "status"), [(["echo", "--query", "status=422"], "422"), (["nope"], "404"),
                                              (["down"], "502")])
def test_invoke_main_non_2xx_exits_1_with_one_line(stack: Stack, args: list[str], status: str) -> None:
    result = run_invoke([*args, "--gateway", stack.url], b"x")
    assert result.returncode == 1
    assert result.stdout == b""
    lines = result.stderr.decode().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: server returned unexpected status code: {status} - ")


def test_invoke_main_unreachable_gateway(stack: Stack) -> None:
    result = run_invoke(["echo", "--gateway", f"http://127.0.0.1:{free_port()}"], b"x")
    assert result.returncode == 1
    assert result.stderr.decode().startswith("error: cannot connect to OpenFaaS on URL")


# --- the real faas-cli, when a binary is at hand ------------------------------------------------------------------


def faas_cli() -> str | None:
    cache = Path(os.environ.get("TEXT2PIXI_CACHE_DIR", Path.home() / ".cache" / "text2pixi"))
    for candidate in [os.environ.get("FAAS_CLI"), shutil.which("faas-cli"), str(cache / "bin" / "faas-cli")]:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


FAAS_CLI = faas_cli()
needs_faas_cli = pytest.mark.skipif(
    FAAS_CLI is None,
    reason="no faas-cli binary ($FAAS_CLI, PATH or <cache>/bin/faas-cli); it cannot be downloaded here",
)


def run_faas_cli(args: list[str], tmp: Path, body: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    """faas-cli with its config in ``tmp`` (``OPENFAAS_CONFIG``), never the user's ``~/.openfaas``."""
    assert FAAS_CLI is not None
    env = {**os.environ, "HOME": str(tmp), "OPENFAAS_CONFIG": str(tmp / ".openfaas"), "CI": "true"}
    env.pop("OPENFAAS_URL", None)
    return subprocess.run([FAAS_CLI, *args], input=body, capture_output=True, cwd=tmp, env=env, timeout=30,
                          check=False)


@needs_faas_cli
def test_faas_cli_invoke(stack: Stack, tmp_path: Path) -> None:
    result = run_faas_cli(["invoke", "echo", "--gateway", stack.url, "--query", "a=b", "-H", "X-Test=1"], tmp_path,
                          b"from faas-cli")
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    assert (got["body"], got["query"], got["headers"]["x-test"]) == ("from faas-cli", {"a": "b"}, "1")
    assert got["headers"]["content-type"] == "text/plain"
    result = run_faas_cli(["invoke", "echo", "--namespace", "openfaas-fn", "--gateway", stack.url], tmp_path, b"ns")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["body"] == "ns"
    result = run_faas_cli(["invoke", "echo", "--async", "--gateway", stack.url], tmp_path, b"later")
    assert result.returncode == 0, result.stderr
    assert b"Function submitted asynchronously." in result.stderr
    result = run_faas_cli(["invoke", "nope", "--gateway", stack.url], tmp_path, b"x")
    assert result.returncode != 0
    assert b"404" in result.stderr + result.stdout


@needs_faas_cli
def test_faas_cli_login_list_describe(stack: Stack, tmp_path: Path) -> None:
    result = run_faas_cli(["list", "--gateway", stack.secured.url], tmp_path)
    assert result.returncode != 0  # 401 without credentials
    result = run_faas_cli(["login", "--gateway", stack.secured.url, "-u", AUTH[0], "--password-stdin"], tmp_path,
                          AUTH[1].encode())
    assert result.returncode == 0, result.stderr
    result = run_faas_cli(["list", "--gateway", stack.secured.url], tmp_path)
    assert result.returncode == 0, result.stderr
    assert {line.split()[0] for line in result.stdout.decode().splitlines()[1:]} == {"echo", "down"}
    result = run_faas_cli(["describe", "echo", "--gateway", stack.secured.url], tmp_path)
    assert result.returncode == 0, result.stderr
    assert b"python index.py" in result.stdout
