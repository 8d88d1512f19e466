"""``X-Callback-Url`` delivery that cannot be turned into server-side request forgery.

A callback URL must be http(s) and resolve only to public addresses, unless the operator allows
private targets (``TEXT2PIXI_CALLBACK_ALLOW_PRIVATE=true``, e.g. for the local stack). It is
checked when the job is accepted (so the client gets a 400 at once) and again right before
delivery; the delivery then connects to the address that requests-hardened resolved and vetted
for that very connection, so a DNS answer that changes in between (rebinding) cannot redirect it.
Redirects are not followed, and one deadline bounds the whole exchange.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import threading
from contextvars import ContextVar
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests_hardened.ip_filter_adapter import IPFilterAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.connection import HTTPConnection, HTTPSConnection

from text2pixi.core.errors import CallbackRefused

log = logging.getLogger(__name__)

MAX_URL_CHARS = 2048


def check_callback_url(url: str, *, allow_private: bool) -> str:
    """Return ``url`` if it is an acceptable callback target, else raise :class:`CallbackRefused`."""
    if len(url) > MAX_URL_CHARS:
        raise CallbackRefused(f"X-Callback-Url is longer than {MAX_URL_CHARS} characters")
    try:  # urlsplit and .port raise ValueError on a bad IPv6 literal or port: a caller's mistake, not a crash
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise CallbackRefused("X-Callback-Url is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CallbackRefused("X-Callback-Url must be an absolute http or https URL")
    if parts.username or parts.password:
        raise CallbackRefused("X-Callback-Url must not carry credentials")
    if any(ord(c) < 33 or ord(c) == 127 for c in url):
        raise CallbackRefused("X-Callback-Url must not contain spaces or control characters")
    if allow_private:
        return url
    try:
        infos = socket.getaddrinfo(parts.hostname, port or (443 if parts.scheme == "https" else 80),
                                   proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise CallbackRefused(f"X-Callback-Url host {parts.hostname!r} does not resolve") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global or address.is_multicast:
            raise CallbackRefused(
                f"X-Callback-Url host {parts.hostname!r} resolves to a private, loopback, link-local or multicast "
                "address"
            )
    return url


class _Deadline:
    """Ends one exchange at a fixed time, in the caller's thread: requests' timeouts bound each socket read,
    so a target that drips its answer a byte at a time would otherwise hold the caller indefinitely.

    Each connection's socket is duplicated when it opens; at the deadline a short-lived timer shuts the
    socket down through its duplicate (which works after TLS wrapped the original), the blocked read returns
    at once and the exchange fails. On exit the timer is joined and the duplicates closed: nothing outlives it.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        self._timer.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._timer.cancel()
        self._timer.join()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()

    def watch(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sockets.append(sock.dup())
            if self.expired:
                _shut(self._sockets[-1])
        return sock

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shut(sock)


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:  # already closed by the peer or by us
        pass


_current: ContextVar[_Deadline | None] = ContextVar("callback_deadline", default=None)


def _watched(sock: socket.socket) -> socket.socket:
    deadline = _current.get()
    return deadline.watch(sock) if deadline is not None else sock


class _HTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _watched(super()._new_conn())


class _HTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _watched(super()._new_conn())


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _HTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _HTTPSConnection


def _session(allow_private: bool) -> requests.Session:
    """A one-exchange session: vetted, pinned connections (unless private targets are allowed), no proxies."""
    session = requests.Session()
    session.trust_env = False  # callbacks go straight to their target; egress is the network policy's business
    for scheme in ("http://", "https://"):
        adapter = HTTPAdapter() if allow_private else IPFilterAdapter(is_https_proto=scheme == "https://")
        adapter.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
        session.mount(scheme, adapter)
    return session


def post(url: str, *, data: bytes, headers: dict[str, str], allow_private: bool, timeout: float) -> int:
    """POST ``data`` to a checked ``url`` and return the status; raises CallbackRefused or RequestException.

    ``timeout`` bounds the whole exchange (connect, send, status line and headers); the answer's body is
    never read. Runs in the caller's thread and closes its connection before returning.
    """
    check_callback_url(url, allow_private=allow_private)
    deadline = _Deadline(timeout)
    token = _current.set(deadline)
    try:
        with deadline, _session(allow_private) as session, session.post(
                url, data=data, headers=headers, timeout=timeout, allow_redirects=False, stream=True) as answer:
            return answer.status_code
    except requests.RequestException:
        if deadline.expired:
            raise requests.Timeout(f"no complete answer within {timeout:g} s") from None
        raise
    finally:
        _current.reset(token)


def deliver(url: str, body: dict[str, Any], headers: dict[str, str], *, allow_private: bool,
            timeout: float) -> int | None:
    """POST ``body`` as JSON to ``url``; returns the status, or ``None`` when refused or unreachable.

    Never raises: a broken callback must not fail the job whose result is already stored.
    """
    try:
        status = post(url, data=json.dumps(body).encode("utf-8"),
                      headers={"Content-Type": "application/json", **headers},
                      allow_private=allow_private, timeout=timeout)
        log.info("callback to %s answered %s", urlsplit(url).hostname, status)
        return status
    except CallbackRefused as exc:
        log.warning("callback refused: %s", exc)
    except requests.RequestException as exc:
        log.warning("callback to %s failed: %s", urlsplit(url).hostname, type(exc).__name__)
    return None
