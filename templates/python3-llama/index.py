#!/usr/bin/env python
"""OpenFaaS python3-llama runtime: a tiny Flask shim that turns each HTTP request into ``handle(event, context)``.

The same file runs in the container under of-watchdog (``mode=http``, upstream ``127.0.0.1:5000``) and in the local
stack (``FUNCTION_DIR=functions/translate python templates/python3-llama/index.py``), so it loads the handler from a
directory instead of a fixed package. It needs Flask, waitress and the installed ``text2pixi`` package, whose one
error handler (:mod:`text2pixi.web.errors`) answers its errors as the gateway's and the handlers' own: JSON
``{"error": code, "message": ...}``, never an HTML page or a traceback.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import signal
import site
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

from flask import Flask, Response, request

from text2pixi.web.errors import check_body_size, install_error_handlers

# Function dependencies installed to a fixed path stay importable when the platform runs us as another uid.
if os.path.isdir("/home/app/python"):
    site.addsitedir("/home/app/python")

METHODS = ["GET", "PUT", "POST", "PATCH", "DELETE", "OPTIONS"]
FUNCTION_DIR = Path(os.environ.get("FUNCTION_DIR") or Path(__file__).resolve().parent / "function")
MAX_BODY_BYTES = int(os.environ.get("MAX_BODY_BYTES", str(1024 * 1024)))
LOCK_FILE = Path(os.environ.get("LOCK_FILE", "/tmp/.lock"))

logger = logging.getLogger("python3-llama")


@dataclass(frozen=True)
class Event:
    """What the handler sees of the request: plain types, so handlers never import Flask."""

    body: bytes
    headers: dict[str, str]
    method: str
    query: dict[str, str]
    path: str


@dataclass(frozen=True)
class Context:
    hostname: str = field(default_factory=lambda: os.environ.get("HOSTNAME") or socket.gethostname())


def load_handler(function_dir: Path) -> ModuleType:
    """Import ``handler.py`` by path; its directory goes on sys.path so it can import its sibling modules."""
    path = function_dir / "handler.py"
    sys.path.insert(0, str(function_dir))
    spec = importlib.util.spec_from_file_location("handler", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["handler"] = module
    spec.loader.exec_module(module)
    return module


def build_event() -> Event:
    return Event(
        body=request.get_data(cache=False),
        headers={name.lower(): value for name, value in request.headers.items()},
        method=request.method,
        query=request.args.to_dict(flat=True),
        path=request.path,
    )


class StreamedBody:
    """A handler's iterator body as the server sends it: chunk by chunk, chunked transfer, nothing buffered.

    Empty chunks are not sent; between chunks it asks waitress whether the client is still there (with
    ``channel_request_lookahead`` it notices a closed connection without writing), and ``close()`` always
    reaches the handler's iterator, even when it was never started, so it can free what it holds.
    """

    def __init__(self, body: Iterator[Any], disconnected: Callable[[], bool] | None) -> None:
        self._body = body
        self._disconnected = disconnected

    def __iter__(self) -> StreamedBody:
        return self

    def __next__(self) -> bytes:
        while True:
            if self._disconnected is not None and self._disconnected():
                raise StopIteration
            chunk = next(self._body)
            if chunk:
                return chunk.encode("utf-8") if isinstance(chunk, str) else bytes(chunk)

    def close(self) -> None:
        close = getattr(self._body, "close", None)
        if close is not None:
            close()


def format_response(result: Any) -> Response:
    """Map the handler's return value the way python3-http does, but with JSON for lists too and typed checks.

    A body that is an iterator (not str, bytes, dict or list) is streamed (:class:`StreamedBody`).
    """
    if result is None:
        return Response(b"", 200)
    if not isinstance(result, dict):
        return Response(result if isinstance(result, str | bytes) else str(result), 200)
    status = result.get("statusCode", 200)
    if not isinstance(status, int) or isinstance(status, bool):
        raise TypeError(f"statusCode must be an int, not {type(status).__name__}")
    body = result.get("body")
    headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
    if isinstance(body, dict | list):
        if not any(key.lower() == "content-type" for key in headers):
            headers["Content-Type"] = "application/json"
        return Response(json.dumps(body), status, headers)
    if body is None:
        return Response(b"", status, headers)
    if isinstance(body, Iterator):
        disconnected = request.environ.get("waitress.client_disconnected")
        return Response(StreamedBody(body, disconnected), status, headers, direct_passthrough=True)
    return Response(body if isinstance(body, str | bytes) else str(body), status, headers)


def create_app(handler: ModuleType) -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    install_error_handlers(app)  # a handler bug is logged there and answered 500 without its traceback

    @app.route("/", defaults={"path": ""}, methods=METHODS)
    @app.route("/<path:path>", methods=METHODS)
    def call_handler(path: str) -> Response:
        check_body_size()  # a declared Content-Length over the limit: 413 before reading a byte of it
        event = build_event()  # a streamed body past the limit raises 413 here, answered by the error handler
        return format_response(handler.handle(event, Context()))

    return app


def main() -> None:
    """Serve with waitress; the lock file tells of-watchdog's HEALTHCHECK we are up, and goes when we stop."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from waitress import create_server

    app = create_app(load_handler(FUNCTION_DIR))
    host, port = os.environ.get("HOST", "0.0.0.0"), int(os.environ.get("PORT", "5000"))
    # A lookahead of 1 keeps each connection readable while its request runs, so a streamed answer
    # (StreamedBody) learns that its client left without having to write to it first.
    server = create_server(app, host=host, port=port, threads=int(os.environ.get("WAITRESS_THREADS", "4")),
                           channel_request_lookahead=1)

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(0)  # waitress' run() catches it and shuts its threads down

    signal.signal(signal.SIGTERM, stop)
    try:
        LOCK_FILE.touch()
    except OSError as exc:
        logger.warning("cannot create lock file %s: %s", LOCK_FILE, exc)
    logger.info("serving %s on http://%s:%s", FUNCTION_DIR, host, port)
    try:
        server.run()
    finally:
        LOCK_FILE.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
