"""``X-Callback-Url`` delivery that cannot be turned into server-side request forgery.

A callback URL must be http(s) and resolve only to public addresses, unless the operator allows
private targets (``TEXT2PIXI_CALLBACK_ALLOW_PRIVATE=true``, e.g. for the local stack). It is
checked when the job is accepted (so the client gets a 400 at once) and again right before
delivery (DNS may have changed). Redirects are not followed and timeouts are short.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import threading
from typing import Any
from urllib.parse import urlsplit

import requests

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


def post(url: str, *, data: bytes, headers: dict[str, str], allow_private: bool, timeout: float) -> int:
    """POST ``data`` to a checked ``url`` and return the status; raises CallbackRefused or RequestException.

    The answer's body is never read (``stream=True``) and the whole exchange runs against one
    deadline of twice ``timeout`` in a side thread: requests' timeouts bound each socket read, so
    a target that drips its answer a byte at a time would otherwise hold a worker indefinitely.
    """
    check_callback_url(url, allow_private=allow_private)
    outcome: list[int | BaseException] = []

    def exchange() -> None:
        try:
            with requests.post(url, data=data, headers=headers, timeout=timeout, allow_redirects=False,
                               stream=True) as answer:
                outcome.append(answer.status_code)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread below
            outcome.append(exc)

    thread = threading.Thread(target=exchange, name="callback", daemon=True)
    thread.start()
    thread.join(2 * timeout)
    if not outcome:
        raise requests.Timeout(f"no complete answer within {2 * timeout:g} s")
    if isinstance(outcome[0], BaseException):
        raise outcome[0]
    return outcome[0]


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
