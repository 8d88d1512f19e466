"""Callbacks as the OpenFaaS queue-worker sends them, on real loopback sockets (issue 18).

One delivery per call with a numeric ``X-Function-Status`` and ``X-Call-Id`` (the gateway's side is in
test_gateway.py: ``/async-function`` does not pass ``X-Callback-Url`` on); a DNS answer that changes between
the check and the connection never reaches the private address; a target that drips its answer a byte per
second never holds the caller past its deadline, and leaves no thread and no socket behind.
"""

from __future__ import annotations

import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import psutil
import pytest
import requests
from redis import Redis
from rq.job import Job

from tests.integration.test_gateway import Delivery, callbacks  # noqa: F401 - the loopback receiver fixture
from text2pixi.service.callbacks import deliver, post
from text2pixi.settings import Settings
from text2pixi.worker import translation

Receiver = tuple[str, "queue.Queue[Delivery]"]
PUBLIC = "93.184.215.14"  # a global address: passes the check; nothing here can reach it (no internet)


def test_one_delivery_with_the_queue_workers_headers(callbacks: Receiver) -> None:  # noqa: F811
    """The worker's delivery of a finished or failed job: one POST each, numeric status, the job id as call id."""
    url, received = callbacks
    job = Job.create(print, connection=Redis(port=1), id="job-1")  # never saved: no Redis server needed
    job.meta["callback_url"] = f"{url}/hook"
    settings = Settings(callback_allow_private=True)
    for body, status in [({"id": "job-1", "status": "finished"}, 200),
                         ({"id": "job-1", "status": "failed", "error": {"error": "no_valid_scene"}}, 422)]:
        translation._callback(job, body, status, time.perf_counter(), settings)
        delivery = received.get(timeout=5)
        assert delivery.path == "/hook"
        assert delivery.headers["X-Call-Id"] == "job-1"
        assert delivery.headers["X-Function-Status"] == str(status)
        assert delivery.headers["X-Function-Name"] == "translate"
        assert float(delivery.headers["X-Duration-Seconds"]) >= 0
        time.sleep(0.3)
        assert received.empty(), "a second delivery arrived"


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str, list[str]], list[str]]]:
    """The one seam: ``socket.getaddrinfo`` answers a test name from a script (one address per lookup,
    the last repeated); every other name and every IP literal goes to the real resolver."""
    real = socket.getaddrinfo
    asked: list[str] = []
    scripts: dict[str, list[str]] = {}

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(host, str) and host in scripts:
            answers = scripts[host]
            address = answers[min(len(asked), len(answers) - 1)]
            asked.append(address)
            return real(address, port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    def script(name: str, answers: list[str]) -> list[str]:
        scripts[name] = answers
        return asked

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    yield script


def test_a_rebinding_name_never_reaches_the_private_address(callbacks: Receiver, dns: Any) -> None:  # noqa: F811
    """Public when checked, loopback when connecting: refused at the connection, nothing delivered."""
    url, received = callbacks
    port = url.rsplit(":", 1)[1]
    asked = dns("rebind.test", [PUBLIC, "127.0.0.1"])
    assert deliver(f"http://rebind.test:{port}/hook", {"id": "x"}, {}, allow_private=False, timeout=2) is None
    assert asked == [PUBLIC, "127.0.0.1"], "the connection must vet the answer it connects to"
    assert received.empty()


def test_the_connection_goes_to_the_vetted_address(callbacks: Receiver, dns: Any) -> None:  # noqa: F811
    """Public at the check and at the connection, loopback afterwards: the name is not resolved a third time,
    so the loopback receiver is never reached (the public address is unreachable here: the POST fails)."""
    url, received = callbacks
    port = url.rsplit(":", 1)[1]
    asked = dns("pinned.test", [PUBLIC, PUBLIC, "127.0.0.1"])
    assert deliver(f"http://pinned.test:{port}/hook", {"id": "x"}, {}, allow_private=False, timeout=1) is None
    assert asked == [PUBLIC, PUBLIC]
    assert received.empty()


DRIPS = {  # what a slow target sends, one byte per second
    "http": b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",  # the status line and headers
    "https": b"\x16\x03\x03\x40\x00\x02" + bytes(32),  # a TLS handshake record: the socket TLS took over
}


@pytest.fixture(params=sorted(DRIPS))
def dripping(request: pytest.FixtureRequest) -> Iterator[tuple[str, int]]:
    """A target that accepts, reads what comes and answers one byte per second."""
    drip = DRIPS[request.param]
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                for byte in drip:
                    if stop.wait(1.0):
                        break
                    try:
                        conn.sendall(bytes([byte]))
                    except OSError:  # the client hung up, as it should
                        break

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield request.param, listener.getsockname()[1]
    stop.set()
    thread.join(5)
    listener.close()


def client_sockets(port: int) -> list[Any]:
    return [c for c in psutil.Process().net_connections(kind="tcp") if c.raddr and c.raddr.port == port]


def test_a_dripping_target_is_cut_at_the_deadline_without_leaks(dripping: tuple[str, int]) -> None:
    scheme, port = dripping
    threads = threading.active_count()
    t0 = time.monotonic()
    with pytest.raises(requests.Timeout):
        post(f"{scheme}://127.0.0.1:{port}/hook", data=b"{}", headers={}, allow_private=True, timeout=1.5)
    elapsed = time.monotonic() - t0
    assert elapsed < 4, f"held for {elapsed:.1f} s; the full drip takes over 30 s"  # a bound, not a benchmark
    assert threading.active_count() == threads, "a thread outlived the POST"
    assert client_sockets(port) == [], "a socket outlived the POST"
    assert deliver(f"{scheme}://127.0.0.1:{port}/", {"id": "x"}, {}, allow_private=True, timeout=1) is None
    assert threading.active_count() == threads and client_sockets(port) == []
