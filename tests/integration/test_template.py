"""The python3-llama template's index.py: over real sockets as a subprocess, and in-process with Flask's client.

The subprocess helpers here (``free_port``, ``start_function``, ``stop``) are reused by test_gateway.py.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
import requests

from tests.backends import TEMPLATE_INDEX, import_template

ROOT = Path(__file__).resolve().parents[2]
INDEX = TEMPLATE_INDEX
ECHO = ROOT / "tests" / "fixtures" / "echo"
ERROR_BODY = {"error": "internal_error", "message": "internal error"}


def free_port() -> int:
    """A port nobody listens on right now (bind to 0, read it, release it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Process:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def wait_listening(proc: subprocess.Popen[bytes], port: int, log: Path, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    stop(proc)
    raise RuntimeError(f"nothing listened on port {port} within {timeout} s:\n{log.read_text(errors='replace')}")


def spawn(args: list[str], port: int, log: Path, env: dict[str, str]) -> Process:
    """Start a server subprocess with stdout+stderr in ``log`` (a pipe could fill up and block it)."""
    with log.open("wb") as out:
        proc = subprocess.Popen(args, cwd=ROOT, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT)
    wait_listening(proc, port, log)
    return Process(proc, f"http://127.0.0.1:{port}", log)


def start_function(tmp: Path, function_dir: Path | None = ECHO, **env: str) -> Process:
    port = free_port()
    base = {"HOST": "127.0.0.1", "PORT": str(port), "LOCK_FILE": str(tmp / f"lock-{port}")}
    if function_dir is not None:
        base["FUNCTION_DIR"] = str(function_dir)
    return spawn([sys.executable, str(INDEX)], port, tmp / f"function-{port}.log", {**base, **env})


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM (what Kubernetes sends), then SIGKILL if it does not go within 5 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture(scope="module")
def echo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Process]:
    tmp = tmp_path_factory.mktemp("template")
    process = start_function(tmp, MAX_BODY_BYTES="4096")
    yield process
    stop(process.proc)


# --- over real sockets -------------------------------------------------------------------------------------------


def test_get_with_query_and_headers_reaches_handler(echo: Process) -> None:
    r = requests.get(f"{echo.url}/abc/def?x=1&x=2&y=z", headers={"X-Test": "Hello", "X-Other": "two words"}, timeout=5)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    got = r.json()
    assert got["method"] == "GET"
    assert got["path"] == "/abc/def"
    assert got["query"] == {"x": "1", "y": "z"}
    assert got["headers"]["x-test"] == "Hello"
    assert got["headers"]["x-other"] == "two words"
    assert all(name == name.lower() for name in got["headers"])
    assert got["body"] == ""
    assert got["hostname"]


def test_post_body_is_raw_bytes(echo: Process) -> None:
    payload = bytes(range(256))
    r = requests.post(f"{echo.url}/", data=payload, headers={"Content-Type": "application/octet-stream"}, timeout=5)
    assert r.status_code == 200
    got = r.json()
    assert got["method"] == "POST" and got["path"] == "/"
    assert base64.b64decode(got["body_b64"]) == payload
    assert got["headers"]["content-type"] == "application/octet-stream"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE", "OPTIONS"])
def test_every_template_method_reaches_handler(echo: Process, method: str) -> None:
    r = requests.request(method, f"{echo.url}/p", data=b"x", timeout=5)
    assert r.status_code == 200
    assert r.json()["method"] == method


def test_status_code_and_headers_are_honoured(echo: Process) -> None:
    r = requests.post(f"{echo.url}/?status=201&header=X-Custom:yes", data=b"{}", timeout=5)
    assert r.status_code == 201
    assert r.headers["X-Custom"] == "yes"
    assert r.headers["Content-Type"] == "application/json"


def test_plain_string_and_none_results(echo: Process) -> None:
    r = requests.get(f"{echo.url}/?text=1", timeout=5)
    assert (r.status_code, r.text) == (200, "plain text")
    r = requests.get(f"{echo.url}/?empty=1", timeout=5)
    assert (r.status_code, r.content) == (200, b"")


def test_handler_exception_is_500_json_without_traceback(echo: Process) -> None:
    r = requests.get(f"{echo.url}/?fail=1", timeout=5)
    assert r.status_code == 500
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == ERROR_BODY
    assert "Traceback" not in r.text and "boom" not in r.text
    deadline = time.monotonic() + 5  # the traceback is logged server-side instead
    while "RuntimeError: boom" not in echo.output() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "Traceback" in echo.output() and "RuntimeError: boom" in echo.output()


def test_body_over_limit_is_413_json(echo: Process) -> None:
    r = requests.post(f"{echo.url}/", data=b"x" * 5000, timeout=5)
    assert r.status_code == 413
    assert r.json()["error"] == "body_too_large"
    assert "4096" in r.json()["message"]


def test_chunked_body_over_limit_is_413_json(echo: Process) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b"y" * 1000

    r = requests.post(f"{echo.url}/", data=chunks(), timeout=5)  # no Content-Length: Transfer-Encoding chunked
    assert r.status_code == 413
    assert r.json()["error"] == "body_too_large"


def test_body_at_limit_is_accepted(echo: Process) -> None:
    r = requests.post(f"{echo.url}/", data=b"z" * 4096, timeout=5)
    assert r.status_code == 200
    assert len(base64.b64decode(r.json()["body_b64"])) == 4096


def test_unsupported_method_is_405_json(echo: Process) -> None:
    r = requests.request("TRACE", f"{echo.url}/", timeout=5)
    assert r.status_code == 405
    assert r.json()["error"] == "method_not_allowed"
    assert "POST" in r.headers["Allow"]


def test_lock_file_exists_while_serving_and_goes_on_sigterm(tmp_path: Path) -> None:
    process = start_function(tmp_path, function_dir=None)  # the template's own example handler
    lock = next(tmp_path.glob("lock-*"))
    try:
        assert lock.exists()
        r = requests.get(process.url, timeout=5)
        assert (r.status_code, r.json()) == (200, {"hello": "world"})
        process.proc.send_signal(signal.SIGTERM)
        assert process.proc.wait(10) == 0
        assert not lock.exists()
    finally:
        stop(process.proc)


# --- in-process, with Flask's test client -----------------------------------------------------------------------


@pytest.fixture
def index(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """index.py imported by path, as a fresh module; sys.path/sys.modules changes are undone after the test."""
    monkeypatch.delenv("FUNCTION_DIR", raising=False)
    monkeypatch.setenv("MAX_BODY_BYTES", "64")
    return import_template(monkeypatch)


def test_default_function_dir_is_the_example_handler(index: ModuleType) -> None:
    assert index.FUNCTION_DIR == INDEX.parent / "function"
    client = index.create_app(index.load_handler(index.FUNCTION_DIR)).test_client()
    r = client.get("/")
    assert (r.status_code, r.get_json()) == (200, {"hello": "world"})


def test_event_and_context_building(index: ModuleType) -> None:
    seen: list[tuple[object, object]] = []

    class Handler:
        @staticmethod
        def handle(event: object, context: object) -> None:
            seen.append((event, context))

    client = index.create_app(Handler).test_client()
    r = client.patch("/a/b?k=1&k=2&j=", data=b"\x00\xffraw", headers={"X-Mixed-Case": "V"})
    assert (r.status_code, r.data) == (200, b"")
    event, context = seen[0]
    assert isinstance(event, index.Event) and isinstance(context, index.Context)
    assert event.body == b"\x00\xffraw"
    assert event.method == "PATCH"
    assert event.path == "/a/b"
    assert event.query == {"k": "1", "j": ""}
    assert event.headers["x-mixed-case"] == "V"
    assert isinstance(event.headers, dict) and all(isinstance(v, str) for v in event.headers.values())
    assert context.hostname


@pytest.mark.parametrize(
    ("result", "status", "body", "content_type"),
    [
        ({"body": [1, 2]}, 200, b"[1, 2]", "application/json"),
        ({"statusCode": 202, "body": {"a": 1}}, 202, b'{"a": 1}', "application/json"),
        ({"body": {"a": 1}, "headers": {"content-type": "application/vnd.x+json"}}, 200, b'{"a": 1}',
         "application/vnd.x+json"),
        ({"statusCode": 204}, 204, b"", None),
        ({"body": b"\x01\x02"}, 200, b"\x01\x02", None),
        ({"body": "text"}, 200, b"text", None),
        ({"body": 42}, 200, b"42", None),
        ("plain", 200, b"plain", None),
        (b"bytes", 200, b"bytes", None),
        (None, 200, b"", None),
    ],
)
def test_result_mapping(index: ModuleType, result: object, status: int, body: bytes, content_type: str | None) -> None:
    class Handler:
        @staticmethod
        def handle(event: object, context: object) -> object:
            return result

    r = index.create_app(Handler).test_client().post("/")
    assert (r.status_code, r.data) == (status, body)
    if content_type:
        assert r.headers["Content-Type"] == content_type


@pytest.mark.parametrize("result", [{"statusCode": "200"}, {"body": {"not": {1, 2}}}])
def test_malformed_result_is_500_json(index: ModuleType, result: object) -> None:
    class Handler:
        @staticmethod
        def handle(event: object, context: object) -> object:
            return result

    r = index.create_app(Handler).test_client().get("/")
    assert r.status_code == 500
    assert json.loads(r.data) == ERROR_BODY


def test_in_process_limits_and_methods(index: ModuleType) -> None:
    client = index.create_app(index.load_handler(ECHO)).test_client()
    r = client.post("/", data=b"x" * 65)
    assert (r.status_code, r.get_json()["error"]) == (413, "body_too_large")
    r = client.open("/", method="PROPFIND")
    assert (r.status_code, r.get_json()["error"]) == (405, "method_not_allowed")
    r = client.get("/?fail=1")
    assert (r.status_code, r.get_json()) == (500, ERROR_BODY)
