"""A local OpenFaaS-compatible gateway: the subset of the gateway HTTP API that faas-cli and callers use.

It lets the local stack (function processes started from the python3-llama template) be driven exactly like a
cluster: ``/function/<name>`` proxies synchronously, ``/async-function/<name>`` answers 202 and delivers the function's
answer to ``X-Callback-Url`` like the queue-worker (once: the header is the gateway's and does not travel on), and
``/system/*`` answer ``faas-cli list``/``describe`` behind the same basic auth. Function names may carry the
namespace (``translate.openfaas-fn``) because faas-cli sends it that way.
"""

from __future__ import annotations

import hmac
import json
import logging
import platform
import threading
import time
import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import quote

import requests
from flask import Flask, Response, request

from text2pixi.core.errors import (
    BasicAuthRequired,
    CallbackRefused,
    FunctionNotFound,
    FunctionTimeout,
    FunctionUnavailable,
    QueueFull,
    Text2PixiError,
)
from text2pixi.service.callbacks import check_callback_url
from text2pixi.service.callbacks import post as post_callback
from text2pixi.settings import OPENFAAS_NAMESPACE, GatewaySettings
from text2pixi.web import openapi
from text2pixi.web.errors import check_body_size, install_error_handlers

logger = logging.getLogger(__name__)

GatewayConfig = GatewaySettings
"""The gateway's settings under the name its callers know: every field has a ``TEXT2PIXI_GATEWAY_*`` variable."""
CALLBACK_TIMEOUT = 5.0
ASYNC_RETRY_AFTER = 5
"""Seconds a caller turned away by a full async backlog is asked to wait (``Retry-After``)."""
STREAM_CHUNK = 64 * 1024
METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]
HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection", "te", "trailer",
     "trailers", "transfer-encoding", "upgrade"}
)
"""RFC 9110 §7.6.1 connection-specific headers, never forwarded; Host and Content-Length are recomputed too."""
PATH_SAFE = "/:@!$&'()*+,;=-._~"
"""RFC 3986 pchar delimiters kept as they are when the decoded path is quoted again for the upstream."""


def release() -> str:
    """The installed package version, for ``/system/info`` (faas-cli prints it as the gateway version)."""
    try:
        return version("text2pixi")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "dev"


def forwardable(headers: Iterable[tuple[str, str]], *drop: str) -> list[tuple[str, str]]:
    """Headers minus hop-by-hop ones (and those named in ``Connection``), keeping repeated headers."""
    pairs = list(headers)
    named = {t.strip().lower() for k, v in pairs if k.lower() == "connection" for t in v.split(",")}
    skip = HOP_BY_HOP | named | {d.lower() for d in drop}
    return [(k, v) for k, v in pairs if k.lower() not in skip]


@dataclass
class Call:
    """One request to forward, detached from Flask so async calls can run after the response is sent."""

    name: str
    method: str
    url: str
    headers: dict[str, str]
    body: bytes
    call_id: str
    start_ns: int


class Gateway:
    """Function table, connection pool, async pool and counters shared by all requests."""

    def __init__(self, config: GatewaySettings) -> None:
        self.config = config
        self.created_at = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        self.session = requests.Session()
        self.session.headers.clear()  # forward the caller's headers only, not requests' defaults
        adapter = requests.adapters.HTTPAdapter(pool_connections=max(len(config.functions), 1),
                                                pool_maxsize=config.threads + config.async_workers)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.executor = ThreadPoolExecutor(config.async_workers, thread_name_prefix="gateway-async")
        self.slots = threading.BoundedSemaphore(config.async_queue)
        self.counts = dict.fromkeys(config.functions, 0)
        self.lock = threading.Lock()

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)  # do not hold shutdown for a minute-long call
        self.session.close()

    def resolve(self, name: str) -> str | None:
        """``translate`` or ``translate.<namespace>`` -> the function name, if we serve it in that namespace."""
        base, dot, namespace = name.partition(".")
        if dot and namespace not in {OPENFAAS_NAMESPACE, self.config.namespace}:
            return None
        return base if base in self.config.functions else None

    def count(self, name: str) -> None:
        with self.lock:
            self.counts[name] += 1

    def status(self, name: str) -> dict[str, object]:
        """One ``FunctionStatus`` as faas-provider defines it (what ``faas-cli list``/``describe`` decode)."""
        with self.lock:
            invocations = self.counts[name]
        return {
            "name": name,
            "image": f"text2pixi-{name}:local",
            "namespace": self.config.namespace,
            "invocationCount": invocations,
            "replicas": 1,
            "availableReplicas": 1,
            "envProcess": "python index.py",
            "labels": {"faas_function": name},
            "annotations": {"text2pixi/upstream": self.config.functions[name]},
            "createdAt": self.created_at,
        }

    def authorized(self) -> bool:
        if self.config.basic_auth is None:
            return True
        auth = request.authorization
        if auth is None or auth.type != "basic":
            return False
        user, _, password = self.config.basic_auth.partition(":")
        ok_user = hmac.compare_digest((auth.username or "").encode(), user.encode())
        ok_password = hmac.compare_digest((auth.password or "").encode(), password.encode())
        return ok_user & ok_password

    def make_call(self, name: str, rest: str, call_id: str, start_ns: int, *drop: str) -> Call:
        """Capture the current request as a Call to ``<upstream>/<rest>?<query>`` with OpenFaaS' tracing headers,
        minus the headers named in ``drop``."""
        url = f"{self.config.functions[name]}/{quote(rest, safe=PATH_SAFE)}"
        if request.query_string:
            url += "?" + request.query_string.decode("latin-1")
        # The body is already read here, so Expect: 100-continue is answered and must not travel on.
        forwarded = forwardable(request.headers.items(), "host", "content-length", "expect", *drop)
        forwarded_for = ", ".join(filter(None, [request.headers.get("X-Forwarded-For"), request.remote_addr]))
        ours = {"X-Call-Id": call_id, "X-Start-Time": str(start_ns), "X-Forwarded-For": forwarded_for,
                "X-Forwarded-Host": request.host}
        # WSGI has already merged repeated request headers into one value each, so a dict loses nothing.
        headers = {k: v for k, v in forwarded if k.lower() not in {o.lower() for o in ours}} | ours
        return Call(name, request.method, url, headers, request.get_data(cache=False), call_id, start_ns)

    def send(self, call: Call, *, stream: bool) -> requests.Response:
        self.count(call.name)
        return self.session.request(call.method, call.url, headers=call.headers, data=call.body,
                                    timeout=self.config.timeout, stream=stream, allow_redirects=False)

    def proxy(self, call: Call) -> Response:
        """Forward synchronously and stream the answer back, bytes untouched (Content-Encoding included)."""
        try:
            upstream = self.send(call, stream=True)
        except requests.Timeout:
            logger.warning("call %s to %s timed out after %.0f s", call.call_id, call.name, self.config.timeout)
            raise FunctionTimeout(f"function {call.name!r} did not answer in {self.config.timeout:g} s") from None
        except requests.RequestException as exc:
            logger.warning("call %s to %s failed: %s", call.call_id, call.name, exc)
            raise FunctionUnavailable(f"function {call.name!r} is not reachable") from None
        headers = forwardable(upstream.raw.headers.items())
        headers += [("X-Call-Id", call.call_id), ("X-Start-Time", str(call.start_ns))]
        duration = (time.time_ns() - call.start_ns) / 1e9
        headers.append(("X-Duration-Seconds", f"{duration:f}"))
        response = Response(upstream.raw.stream(STREAM_CHUNK, decode_content=False), upstream.status_code, headers,
                            direct_passthrough=True)
        response.call_on_close(upstream.close)
        return response

    def submit(self, call: Call, callback_url: str | None) -> bool:
        """Queue an async call; False when the bounded backlog is full."""
        if not self.slots.acquire(blocking=False):
            return False
        try:
            self.executor.submit(self.run_async, call, callback_url)
        except RuntimeError:  # shutting down
            self.slots.release()
            return False
        return True

    def run_async(self, call: Call, callback_url: str | None) -> None:
        """Body of an async call: invoke, then POST the result to the callback; logs, never raises."""
        try:
            status, body, content_type = self.invoke_buffered(call)
            duration = (time.time_ns() - call.start_ns) / 1e9
            logger.info("async call %s to %s: %d in %.3f s", call.call_id, call.name, status, duration)
            if callback_url:
                self.callback(call, callback_url, status, body, content_type, duration)
        except Exception:  # the worker's one catch-all: a bug here must not kill the pool thread silently
            logger.exception("async call %s to %s failed", call.call_id, call.name)
        finally:
            self.slots.release()

    def invoke_buffered(self, call: Call) -> tuple[int, bytes, str]:
        """The function's answer, or the gateway's error for it, as the callback will carry it."""
        failure: Text2PixiError
        try:
            with self.send(call, stream=False) as upstream:
                return upstream.status_code, upstream.content, upstream.headers.get("Content-Type", "")
        except requests.Timeout:
            logger.warning("async call %s to %s timed out", call.call_id, call.name)
            failure = FunctionTimeout(f"function {call.name!r} did not answer in time")
        except requests.RequestException as exc:
            logger.warning("async call %s to %s failed: %s", call.call_id, call.name, exc)
            failure = FunctionUnavailable(f"function {call.name!r} is not reachable")
        return failure.http_status, json.dumps(failure.to_dict()).encode(), "application/json"

    def callback(self, call: Call, url: str, status: int, body: bytes, content_type: str, duration: float) -> None:
        """Deliver like the queue-worker: POST the function's body with the X-Function-* headers.

        Through :func:`text2pixi.service.callbacks.post`: checked again for SSRF (DNS may have changed since
        the call was accepted), no redirects followed, one short deadline."""
        headers = {"X-Call-Id": call.call_id, "X-Function-Status": str(status), "X-Duration-Seconds": f"{duration:f}",
                   "X-Function-Name": call.name, "X-Start-Time": str(call.start_ns)}
        if content_type:
            headers["Content-Type"] = content_type
        try:
            status = post_callback(url, data=body, headers=headers, timeout=CALLBACK_TIMEOUT,
                                   allow_private=self.config.callback_allow_private)
            logger.info("async call %s: callback answered %d", call.call_id, status)
        except CallbackRefused as exc:
            logger.warning("async call %s: callback refused: %s", call.call_id, exc)
        except requests.RequestException as exc:
            logger.warning("async call %s: callback failed: %s", call.call_id, type(exc).__name__)


def create_app(gateway: Gateway) -> Flask:
    """The gateway's routes; ``gateway`` holds the state so tests can build several apps side by side."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = gateway.config.max_body
    app.url_map.redirect_defaults = False  # else /function/x is 308-redirected to its twin rule /function/x/
    app.url_map.merge_slashes = False  # else /function//x is 308-redirected, with an HTML body
    install_error_handlers(app)

    def served(name: str) -> str:
        """The function ``name`` resolves to, or 404 ``function_not_found``."""
        resolved = gateway.resolve(name)
        if resolved is None:
            raise FunctionNotFound(f"function {name!r} not found")
        return resolved

    @app.route("/function/<name>", defaults={"rest": ""}, methods=METHODS)
    @app.route("/function/<name>/", defaults={"rest": ""}, methods=METHODS)
    @app.route("/function/<name>/<path:rest>", methods=METHODS)
    def function(name: str, rest: str) -> Response:
        resolved = served(name)
        check_body_size()
        return gateway.proxy(gateway.make_call(resolved, rest, str(uuid.uuid4()), time.time_ns()))

    @app.route("/async-function/<name>", defaults={"rest": ""}, methods=["POST"])
    @app.route("/async-function/<name>/", defaults={"rest": ""}, methods=["POST"])
    @app.route("/async-function/<name>/<path:rest>", methods=["POST"])
    def async_function(name: str, rest: str) -> Response:
        resolved = served(name)
        check_body_size()
        callback_url = request.headers.get("X-Callback-Url")
        if callback_url:
            check_callback_url(callback_url, allow_private=gateway.config.callback_allow_private)
        call_id, start_ns = str(uuid.uuid4()), time.time_ns()
        # One delivery per call: the gateway POSTs the function's answer to the URL, so the function must not
        # see it too (translate would register it for the job's result: a second delivery).
        call = gateway.make_call(resolved, rest, call_id, start_ns, "X-Callback-Url")
        if not gateway.submit(call, callback_url):
            raise QueueFull("the async queue is full; retry later", retry_after=ASYNC_RETRY_AFTER)
        logger.info("async call %s to %s accepted", call_id, resolved)
        return Response(b"", 202, {"X-Call-Id": call_id, "X-Start-Time": str(start_ns)})

    @app.before_request
    def basic_auth() -> None:
        """Only ``/system/*`` is protected, as in OpenFaaS: functions do their own auth."""
        if request.path.startswith("/system/") and not gateway.authorized():
            raise BasicAuthRequired("basic auth required for /system/*")

    def namespace_ok() -> bool:
        return request.args.get("namespace", "") in {"", OPENFAAS_NAMESPACE, gateway.config.namespace}

    @app.get("/system/functions")
    def list_functions() -> Response:
        items = [gateway.status(name) for name in gateway.config.functions] if namespace_ok() else []
        return Response(json.dumps(items), 200, mimetype="application/json")

    @app.get("/system/function/<name>")
    def get_function(name: str) -> Response:
        resolved = served(name)
        if not namespace_ok():
            raise FunctionNotFound(f"function {name!r} not found")
        return Response(json.dumps(gateway.status(resolved)), 200, mimetype="application/json")

    @app.get("/system/namespaces")
    def list_namespaces() -> Response:
        return Response(json.dumps(sorted({gateway.config.namespace})), 200, mimetype="application/json")

    @app.get("/system/info")
    def info() -> Response:
        build = {"release": release(), "sha": "", "commit_message": ""}
        body = {
            "provider": {"provider": "text2pixi-local", "orchestration": "local", "version": build},
            "version": build,
            "arch": platform.machine() or "x86_64",
        }
        return Response(json.dumps(body), 200, mimetype="application/json")

    @app.get("/openapi.json")
    def openapi_document() -> Response:
        """The functions' OpenAPI 3.1 description (public, like ``/healthz``: it holds no secrets)."""
        return Response(openapi.document_json(), 200, mimetype="application/json")

    @app.get("/healthz")
    def healthz() -> Response:
        return Response("OK", 200, mimetype="text/plain")

    return app

