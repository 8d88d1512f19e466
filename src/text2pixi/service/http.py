"""The functions' HTTP edge: the template's event and answer, the API key, CORS, request parsing, errors.

``functions/<name>/handler.py`` hands the template's ``event`` (body, headers, method, query, path) to
:class:`Gate.run`, which checks the method, the key and the body size around the function's own handler
and returns what the template sends (``statusCode``, ``body``, ``headers``). Handlers raise named errors
(:mod:`text2pixi.core.errors`); :func:`error_response` turns them into answers from the error's own
code, status and headers, as the Flask apps do (:mod:`text2pixi.web.errors`). Nothing here raises to
the template: an unexpected exception becomes a logged 500 without a stack trace in the body.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

from text2pixi.core.contracts import TranslateRequest
from text2pixi.core.errors import (
    BadJson,
    BodyTooLarge,
    InternalError,
    InvalidRequest,
    MethodNotAllowed,
    OriginNotAllowed,
    ServiceUnavailable,
    Text2PixiError,
    Unauthorized,
    UnknownOption,
)
from text2pixi.core.prompt import check_prompt
from text2pixi.service import metrics
from text2pixi.settings import Settings, get_settings

log = logging.getLogger(__name__)

RequestT = TypeVar("RequestT", bound=BaseModel)

Response = dict[str, Any]
"""What a handler returns to the template: ``statusCode``, ``body`` (JSON-able or text/bytes), ``headers``."""
ALLOWED_HEADERS = "Content-Type, X-API-Key, Idempotency-Key, X-Callback-Url"


class Event(Protocol):
    """What the template passes in: plain types, so handlers never import Flask."""

    body: bytes
    headers: Mapping[str, str]
    method: str
    query: Mapping[str, str]
    path: str


def header(event: Event, name: str) -> str | None:
    """A request header, whatever its case."""
    name = name.lower()
    for key, value in event.headers.items():
        if key.lower() == name:
            return value
    return None


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return {"statusCode": status, "body": body, "headers": {"Content-Type": "application/json", **(headers or {})}}


def error_response(exc: Text2PixiError) -> Response:
    """The one place where an error becomes a function's answer: its status, body and headers."""
    return json_response(exc.http_status, exc.to_dict(), exc.headers())


def metrics_response() -> Response:
    body, content_type = metrics.exposition()
    return {"statusCode": 200, "body": body, "headers": {"Content-Type": content_type}}


class Gate:
    """The checks every function shares: method, API key, CORS, body size; and the parsing of its request."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self._origins = [o.strip() for o in self.settings.cors_origins.split(",") if o.strip()]

    def allowed_origin(self, origin: str | None) -> str | None:
        """The origin to echo in CORS headers, or ``None``; '*' in a pattern matches one DNS label."""
        if not origin:
            return None
        for pattern in self._origins:
            regex = re.escape(pattern).replace(r"\*", r"[A-Za-z0-9-]+")
            if pattern == "*" or re.fullmatch(regex, origin):
                return origin
        return None

    def authenticate(self, event: Event) -> None:
        expected = self.settings.resolved_api_key
        if not expected:
            raise ServiceUnavailable("the service has no API key configured (secret text2pixi-api-key)")
        given = header(event, "X-API-Key") or ""
        if not hmac.compare_digest(given.encode("utf-8"), expected.encode("utf-8")):
            raise Unauthorized("missing or wrong X-API-Key")

    def run(self, function: str, event: Event, handler: Callable[[Event], Response],
            methods: tuple[str, ...]) -> Response:
        """Auth, CORS, method checks, error mapping and metrics around one function's handler."""
        origin = self.allowed_origin(header(event, "Origin"))
        method = (event.method or "GET").upper()
        try:
            if method == "OPTIONS":
                response = self._preflight(event, origin, methods)
            elif event.path.rstrip("/") == "/healthz" and method == "GET":
                response = json_response(200, {"status": "ok", "function": function})
            elif event.path.rstrip("/") == "/metrics" and method == "GET":
                self.authenticate(event)
                response = metrics_response()
            else:
                if method not in methods:
                    raise MethodNotAllowed(method, methods + ("OPTIONS",))
                self.authenticate(event)
                if len(event.body or b"") > self.settings.max_body_bytes:
                    raise BodyTooLarge(f"the body has {len(event.body)} bytes; the limit is "
                                       f"{self.settings.max_body_bytes}")
                response = handler(event)
        except Text2PixiError as exc:
            response = error_response(exc)
        except Exception:  # noqa: BLE001 - the last line of defence: log it, never leak it
            log.exception("%s: unexpected error", function)
            response = error_response(InternalError())
        if origin:
            response.setdefault("headers", {}).update({"Access-Control-Allow-Origin": origin, "Vary": "Origin"})
        metrics.REQUESTS.labels(function, str(response["statusCode"])).inc()
        return response

    def _preflight(self, event: Event, origin: str | None, methods: tuple[str, ...]) -> Response:
        if header(event, "Origin") and not origin:
            raise OriginNotAllowed("this origin is not allowed to call the API")
        return {"statusCode": 204, "body": "", "headers": {
            "Access-Control-Allow-Methods": ", ".join(methods + ("OPTIONS",)),
            "Access-Control-Allow-Headers": ALLOWED_HEADERS,
            "Access-Control-Max-Age": "600",
        }}

    def parse_translate(self, event: Event) -> TranslateRequest:
        """A JSON body ``{"prompt", "options"}`` or a plain-text prompt (what faas-cli sends)."""
        raw = event.body or b""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise InvalidRequest("the body is not valid UTF-8") from None
        content_type = (header(event, "Content-Type") or "").lower()
        if "json" in content_type or text.lstrip().startswith("{"):
            request = json_object(text, TranslateRequest, '{"prompt": "..."}')
        else:
            request = TranslateRequest(prompt=text)
        prompt = check_prompt(request.prompt, self.settings.max_prompt_chars)
        return request.model_copy(update={"prompt": prompt})

    def wait_seconds(self, event: Event) -> float:
        """``?wait=SECONDS``, within ``TEXT2PIXI_MAX_WAIT``; 0 when absent."""
        raw = event.query.get("wait")
        if raw in (None, ""):
            return 0.0
        try:
            value = float(raw)
        except ValueError:
            raise InvalidRequest("wait must be a number of seconds") from None
        if not 0 <= value <= self.settings.max_wait:
            raise InvalidRequest(f"wait must be between 0 and {self.settings.max_wait:g} seconds")
        return value


def json_object(text: str, model: type[RequestT], example: str) -> RequestT:
    """Parse a JSON object body into ``model``: 400 ``bad_json`` or the field's own error otherwise."""
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError):
        raise BadJson("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise BadJson(f"the JSON body must be an object like {example}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise request_error(exc, tuple(model.model_fields)) from None


def request_error(exc: ValidationError, fields: tuple[str, ...]) -> Text2PixiError:
    """Map pydantic's complaints about the request body (whose known ``fields`` these are) to our named errors."""
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden" and loc.startswith("options."):
            return UnknownOption(f"unknown option {loc.split('.', 1)[1]!r}; known: max_tokens, temperature, seed")
        if err["type"] == "extra_forbidden":
            return InvalidRequest(f"unknown field {loc!r}; the body's fields are {', '.join(fields)}")
        if loc == "prompt" and err["type"] == "missing":
            return InvalidRequest('the body needs a "prompt"')
        return InvalidRequest(f"{loc or 'body'}: {err['msg']}")
    return InvalidRequest("the request body is not valid")
