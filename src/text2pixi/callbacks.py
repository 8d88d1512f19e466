"""``X-Callback-Url`` delivery that cannot be turned into server-side request forgery.

A callback URL must be http(s) and resolve only to public addresses, unless the operator allows
private targets (``TEXT2PIXI_CALLBACK_ALLOW_PRIVATE=true``, e.g. for the local stack). It is
checked when the job is accepted (so the client gets a 400 at once) and again right before
delivery (DNS may have changed). Redirects are not followed and timeouts are short.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from typing import Any
from urllib.parse import urlsplit

import requests

from text2pixi.errors import CallbackRefused

log = logging.getLogger(__name__)

MAX_URL_CHARS = 2048


def check_callback_url(url: str, *, allow_private: bool) -> str:
    """Return ``url`` if it is an acceptable callback target, else raise :class:`CallbackRefused`."""
    if len(url) > MAX_URL_CHARS:
        raise CallbackRefused(f"X-Callback-Url is longer than {MAX_URL_CHARS} characters")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CallbackRefused("X-Callback-Url must be an absolute http or https URL")
    if parts.username or parts.password:
        raise CallbackRefused("X-Callback-Url must not carry credentials")
    if allow_private:
        return url
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80),
                                   proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        raise CallbackRefused(f"X-Callback-Url host {parts.hostname!r} does not resolve") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise CallbackRefused(
                f"X-Callback-Url host {parts.hostname!r} resolves to a private, loopback or link-local address"
            )
    return url


def deliver(url: str, body: dict[str, Any], headers: dict[str, str], *, allow_private: bool,
            timeout: float) -> int | None:
    """POST ``body`` as JSON to ``url``; returns the status, or ``None`` when refused or unreachable.

    Never raises: a broken callback must not fail the job whose result is already stored.
    """
    try:
        check_callback_url(url, allow_private=allow_private)
        response = requests.post(url, json=body, headers=headers, timeout=timeout, allow_redirects=False)
        log.info("callback to %s answered %s", urlsplit(url).hostname, response.status_code)
        return response.status_code
    except CallbackRefused as exc:
        log.warning("callback refused: %s", exc)
    except requests.RequestException as exc:
        log.warning("callback to %s failed: %s", urlsplit(url).hostname, exc)
    return None
