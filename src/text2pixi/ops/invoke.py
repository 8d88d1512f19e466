"""Call a function through an OpenFaaS gateway the way ``faas-cli invoke`` does, without needing faas-cli.

Same URL layout (``/function/<name>`` or ``/async-function/<name>``), same defaults (POST, ``text/plain``), same
``-H "K: V"`` and ``--query k=v`` flags and the same gateway precedence (``--gateway``, ``OPENFAAS_URL``,
``http://127.0.0.1:8080``: :func:`text2pixi.ops.endpoint.resolve_gateway`), so scripts and docs work against the
local gateway and a cluster alike.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from urllib.parse import quote, urlencode

import requests

from text2pixi.core.errors import InvokeError
from text2pixi.ops.endpoint import DEFAULT_GATEWAY, resolve_gateway

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
"""The methods faas-cli accepts for ``--method``."""
DEFAULT_TIMEOUT = 300.0
"""Generous on purpose: the gateway's own timeout is what should end a slow call."""
ASYNC_MESSAGE = "Function submitted asynchronously."


def parse_headers(values: Sequence[str]) -> list[tuple[str, str]]:
    """``"K: V"`` (faas-cli's form) or the older ``"K=V"``; empty keys or values are mistakes, as in faas-cli."""
    headers = []
    for value in values:
        key, sep, val = value.partition(":")
        if not sep:
            key, sep, val = value.partition("=")
        key, val = key.strip(), val.strip()
        if not sep or not key or not val:
            raise ValueError(f"the --header or -H flag must take the form of 'Key: Value', got {value!r}")
        headers.append((key, val))
    return headers


def parse_query(values: Sequence[str]) -> list[tuple[str, str]]:
    pairs = []
    for value in values:
        key, sep, val = value.partition("=")
        if not sep or not key or not val:
            raise ValueError(f"the --query flag must take the form of key=value, got {value!r}")
        pairs.append((key, val))
    return pairs


def invoke(
    name: str,
    body: bytes,
    gateway: str | None = None,
    *,
    async_: bool = False,
    headers: Sequence[str] = (),
    query: Sequence[str] = (),
    method: str = "POST",
    content_type: str = "text/plain",
    namespace: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
) -> tuple[int, bytes, dict[str, str]]:
    """Invoke ``name`` and return ``(status, body, headers)``; raise InvokeError for a non-2xx answer.

    A ``Content-Type`` given in ``headers`` wins over ``content_type``, as in faas-cli when ``--content-type`` is
    left at its default. Raises ValueError for malformed flags and requests.RequestException when the gateway
    cannot be reached.
    """
    method = method.upper()
    if method not in METHODS:
        raise ValueError(f"the --method flag must take one of these values ({'/'.join(METHODS)})")
    pairs = parse_headers(headers)
    request_headers: dict[str, str] = {}
    for key, val in pairs:
        request_headers[key] = f"{request_headers[key]}, {val}" if key in request_headers else val
    if not any(key.lower() == "content-type" for key in request_headers):
        request_headers["Content-Type"] = content_type
    request_headers.setdefault("User-Agent", "text2pixi-invoke (openfaas)")
    target = quote(name, safe="") + (f".{quote(namespace, safe='')}" if namespace else "")
    url = f"{resolve_gateway(gateway)}/{'async-function' if async_ else 'function'}/{target}"
    if query:
        url += "?" + urlencode(parse_query(query))
    with requests.request(method, url, data=body, headers=request_headers, timeout=timeout) as response:
        status, content, answer_headers = response.status_code, response.content, dict(response.headers)
    if not 200 <= status <= 299:
        raise InvokeError(status, content)
    return status, content, answer_headers


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m text2pixi.ops.invoke NAME``: body from stdin, response body to stdout, one-line error on failure."""
    parser = argparse.ArgumentParser(prog="text2pixi invoke", description=__doc__.splitlines()[0])
    parser.add_argument("name", help="function name, e.g. translate")
    parser.add_argument("-g", "--gateway", default=None,
                        help=f"gateway URL (default: $OPENFAAS_URL, else {DEFAULT_GATEWAY})")
    parser.add_argument("-a", "--async", dest="async_", action="store_true", help="invoke through /async-function/")
    parser.add_argument("-H", "--header", action="append", default=[], metavar="'K: V'", help="request header")
    parser.add_argument("--query", action="append", default=[], metavar="k=v", help="query-string option")
    parser.add_argument("-m", "--method", default="POST", help=f"HTTP method ({'/'.join(METHODS)})")
    parser.add_argument("--content-type", default="text/plain", help="Content-Type header (default: text/plain)")
    parser.add_argument("-n", "--namespace", default=None, help="function namespace, sent as NAME.NAMESPACE")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds to wait for the answer")
    args = parser.parse_args(argv)
    if sys.stdin.isatty():
        print("Reading from STDIN - hit (Control + D) to stop.", file=sys.stderr)
    body = sys.stdin.buffer.read()
    try:
        status, content, _ = invoke(args.name, body, args.gateway, async_=args.async_, headers=args.header,
                                    query=args.query, method=args.method, content_type=args.content_type,
                                    namespace=args.namespace, timeout=args.timeout)
    except InvokeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except requests.RequestException as exc:
        print(f"error: cannot connect to OpenFaaS on URL: {resolve_gateway(args.gateway)} ({exc})", file=sys.stderr)
        return 1
    if args.async_ and status == 202:
        print(ASYNC_MESSAGE, file=sys.stderr)
        return 0
    sys.stdout.buffer.write(content)
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
