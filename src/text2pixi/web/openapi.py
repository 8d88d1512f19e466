"""The OpenAPI 3.1 description of what the gateway serves, published at ``GET /openapi.json``.

Written once here, next to nothing else, so that three readers agree on it: callers (and their
generated clients), the HTTP fuzzer in ``tests/faults/`` (it derives its requests from this
document and checks that every answer is one of the statuses documented for that operation), and
the security tests (every operation but the health checks and this document needs ``X-API-Key``).
The request and job schemas come from the pydantic models the functions validate with, so they
cannot drift from the code.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from text2pixi.core.contracts import JOB_ID_PATTERN, EditRequest, JobView, ResultDocument, TranslateRequest
from text2pixi.service import downloads

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string", "description": "stable machine-readable code"},
                   "message": {"type": "string", "description": "one human-readable line, never a traceback"}},
}

# Every error the stack answers, by status: (codes in the JSON body, when it happens).
ERRORS: dict[int, tuple[tuple[str, ...], str]] = {
    400: (("bad_json", "empty_prompt", "invalid_request", "unknown_option", "callback_url_refused", "bad_request",
          "invalid_scene", "invalid_export"),
          "the request is malformed (the HTTP server itself answers 400 in plain text to unparseable HTTP)"),
    401: (("unauthorized",), "X-API-Key is missing or wrong"),
    403: (("origin_not_allowed",), "a CORS preflight from an origin that is not allowed"),
    404: (("not_found", "function_not_found", "base_not_found"), "no such function, path, job or base result"),
    405: (("method_not_allowed",), "the method is not served here; see Allow"),
    409: (("idempotency_key_reused", "base_not_finished", "base_failed"),
          "the Idempotency-Key was used with another body, or the base result is not finished or failed"),
    413: (("body_too_large", "prompt_too_long"), "the body or the prompt is too large (a Content-Length over "
          "1 GiB is refused by the HTTP server itself, in plain text)"),
    429: (("queue_full",), "the job queue (or the gateway's async backlog, or status's export slot) is full; come "
          "back after Retry-After seconds"),
    431: ((), "the request's headers are too large (answered by the HTTP server, plain text)"),
    502: (("function_unavailable",), "the function process is not reachable (restarting)"),
    503: (("service_unavailable",), "Redis or S3 is unavailable, or no worker answered"),
    504: (("function_timeout",), "the function did not answer within the gateway timeout"),
}
GATEWAY_ERRORS = (400, 404, 405, 413, 431, 502, 504)
"""Statuses the gateway itself may answer on any ``/function/...`` path, whatever the function."""
FUNCTION_ERRORS = (401, 403, 503)
"""Statuses every function may answer: auth, CORS preflight, a backend down."""
PUBLIC_PATHS = ("/healthz", "/openapi.json", "/function/{name}/healthz")
"""The only paths served without ``X-API-Key`` (``/system/*`` has the gateway's own basic auth)."""


def _error_response(status: int) -> dict[str, Any]:
    codes, when = ERRORS[status]
    content: dict[str, Any] = {"application/json": {"schema": ERROR_SCHEMA}} if codes else {"text/plain": {}}
    response: dict[str, Any] = {"description": when + (f" ({', '.join(codes)})" if codes else ""), "content": content}
    if status == 429:
        response["headers"] = {"Retry-After": {"schema": {"type": "integer", "minimum": 1}}}
    if status == 405:
        response["headers"] = {"Allow": {"schema": {"type": "string"}}}
    return response


def _responses(ok: dict[int, dict[str, Any]], *errors: int) -> dict[str, Any]:
    statuses = sorted(set(errors) | set(GATEWAY_ERRORS))
    return {str(k): v for k, v in ok.items()} | {str(s): {"$ref": f"#/components/responses/E{s}"} for s in statuses}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


KEY: list[dict[str, list[str]]] = [{"apiKey": []}]
NAME = {"name": "name", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[a-z0-9-]+"}}
JOB_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": JOB_ID_PATTERN}}
WAIT = {"name": "wait", "in": "query", "required": False, "description": "seconds to wait for the job (≤ MAX_WAIT)",
        "schema": {"type": "number", "minimum": 0}}


EXPORT_MEDIA = {"lottie": "application/json", "gif": "image/gif", "mp4": "video/mp4", "webm": "video/webm",
                "png": "image/png"}
EXPORT_PARAMETERS = {
    "fps": {"name": "fps", "in": "query", "description": f"frames per second (default {downloads.DEFAULT_FPS}; "
            f"at most {downloads.MAX_GIF_FPS} for GIF)",
            "schema": {"type": "integer", "minimum": downloads.MIN_FPS, "maximum": downloads.MAX_FPS}},
    "size": {"name": "size", "in": "query", "description": f"WIDTHxHEIGHT in pixels, {downloads.MIN_SIDE} to "
             f"{downloads.MAX_SIDE} each (default: the stage's)", "schema": {"type": "string",
                                                                          "pattern": "^[0-9]+x[0-9]+$"}},
    "duration": {"name": "duration", "in": "query", "description": "seconds (default: the scene's own, or one full "
                 "cycle of a scene that loops forever)",
                 "schema": {"type": "number", "exclusiveMinimum": 0, "maximum": downloads.MAX_DURATION}},
    "t": {"name": "t", "in": "query", "description": "the poster's time in seconds (default 0)",
          "schema": {"type": "number", "minimum": 0, "maximum": downloads.MAX_DURATION}},
}


def _export(fmt: str) -> dict[str, Any]:
    """``GET /status/{id}/<fmt>``: the finished result as a file, made once, then served from S3."""
    headers = {name: {"schema": {"type": "string"}} for name in ("ETag", "Cache-Control", "Content-Disposition")}
    ok = {200: {"description": f"the {fmt} file (Content-Disposition: attachment; text2pixi-<id>.<ext>), made on "
                "the first request and served from S3 after", "headers": headers,
                "content": {EXPORT_MEDIA[fmt]: {}}},
          304: {"description": "If-None-Match names the ETag: not modified", "headers": headers}}
    return {"get": {"summary": f"the finished result as {fmt} (400 for a bad option or an export over the "
                               "size budget; 404 while the job is not finished; 429 while this function makes "
                               "another export)", "security": KEY,
                    "parameters": [JOB_ID, *(EXPORT_PARAMETERS[o] for o in downloads.OPTIONS[fmt])],
                    "responses": _responses(ok, 400, 429, *FUNCTION_ERRORS)},
            "options": _preflight()}


def _preflight() -> dict[str, Any]:
    return {"summary": "CORS preflight (no key needed)", "security": [],
            "responses": _responses({204: {"description": "allowed; Access-Control-Allow-* headers"}}, 403)}


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    """The whole document (built once; schemas from the pydantic models)."""
    job = JobView.model_json_schema(ref_template="#/components/schemas/{model}")
    request = TranslateRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    edit = EditRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    result = ResultDocument.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = {**request.pop("$defs", {}), **job.pop("$defs", {}), **result.pop("$defs", {}),
                               "TranslateRequest": request, "JobView": job, "EditRequest": edit,
                               "ResultDocument": result, "Error": ERROR_SCHEMA}
    history = {"type": "object", "required": ["id", "versions"], "properties": {
        "id": {"type": "string"},
        "versions": {"type": "array", "description": "oldest first; each with id, parent, kind, prompt, scene",
                     "items": {"type": "object"}}}}
    accepted = {"type": "object", "required": ["id", "status", "status_url"], "properties": {
        "id": {"type": "string"}, "status": {"type": "string", "enum": ["queued", "started"]},
        "status_url": {"type": "string"}, "queue_position": {"type": ["integer", "null"]},
        "created": {"type": "boolean"}}}
    view = {"$ref": "#/components/schemas/JobView"}
    translate = {
        "post": {
            "summary": "Queue a translation: a JSON request or a plain-text prompt",
            "security": KEY,
            "parameters": [WAIT,
                           {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string", "maxLength": 200}},
                           {"name": "X-Callback-Url", "in": "header", "schema": {"type": "string", "format": "uri"},
                            "description": "called once, when the job ends: its result document as JSON, with "
                                           "X-Call-Id (the job id), X-Function-Name, X-Function-Status (200, or "
                                           "the error's HTTP status) and X-Duration-Seconds"}],
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/TranslateRequest"}},
                "text/plain": {"schema": {"type": "string", "minLength": 1}}}},
            "responses": _responses({200: _json(view, "the job ended within ?wait="),
                                     202: _json(accepted, "queued; poll status_url")},
                                    400, 404, 409, 413, 429, *FUNCTION_ERRORS),
        },
        "options": _preflight(),
    }
    edit_op = {
        "post": {
            "summary": "Store a hand-edited scene (validated like a model's) as a new version of base",
            "description": "Give exactly one of `scene` (a compiled/v1 scene, as a result's `scene`; stored with "
                           "language v1) and `source` (a v2 scene, as a v2 result's `source`; compiled, and stored "
                           "with language v2 and its source). 400 `invalid_request` for both or neither, "
                           "`invalid_scene` when the scene fails validation or the v2 scene cannot be compiled "
                           "(the message names the item and step); nothing is stored then. The result's `changed` "
                           "lists the compiled scene's paths that differ from base's.",
            "security": KEY,
            "requestBody": {"required": True, "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/EditRequest"}}}},
            "responses": _responses({201: _json(view, "stored: a finished result whose parent is base")},
                                    400, 404, 409, 413, *FUNCTION_ERRORS),
        },
        "options": _preflight(),
    }
    status_ok = {200: _json(view, "the job's state, with the result or the error")}
    paths: dict[str, Any] = {
        "/healthz": {"get": {"summary": "gateway health", "security": [], "responses": _responses(
            {200: {"description": "OK", "content": {"text/plain": {}}}})}},
        "/openapi.json": {"get": {"summary": "this document", "security": [],
                                  "responses": _responses({200: _json({"type": "object"}, "OpenAPI 3.1")})}},
        "/function/translate": translate,
        "/function/translate/edit": edit_op,
        "/function/status": {
            "get": {"summary": "a job's state by ?id=", "security": KEY,
                    "parameters": [{"name": "id", "in": "query", "required": True, "schema": JOB_ID["schema"]}],
                    "responses": _responses(status_ok, 400, *FUNCTION_ERRORS)},
            "options": _preflight()},
        "/function/status/{id}": {
            "get": {"summary": "a job's state", "security": KEY, "parameters": [JOB_ID],
                    "responses": _responses(status_ok, 400, *FUNCTION_ERRORS)},
            "options": _preflight()},
        "/function/status/{id}/html": {
            "get": {"summary": "the finished job's standalone page (gzip, strict CSP)", "security": KEY,
                    "parameters": [JOB_ID],
                    "responses": _responses({200: {"description": "the page", "content": {"text/html": {}}}},
                                            400, *FUNCTION_ERRORS)},
            "options": _preflight()},
        "/function/status/{id}/history": {
            "get": {"summary": "the chain of versions (refinements, edits) ending at this result", "security": KEY,
                    "parameters": [JOB_ID],
                    "responses": _responses({200: _json(history, "versions, oldest first")},
                                            400, *FUNCTION_ERRORS)},
            "options": _preflight()},
        "/function/status/{id}/events": {
            "get": {"summary": "the job's progress as Server-Sent Events, until it ends", "security": KEY,
                    "description": "Each message is `id: <stream id>`, `event: <type>`, `data: <one-line JSON>`; "
                    "types: queued {position} (no id), started {worker, expected_tokens}, attempt {attempt}, "
                    "tokens {attempt, tokens, expected_tokens, elapsed_s} (about 4 a second), object {attempt, "
                    "index, object} (each scene object once complete), stage {w, h, bg}, reask {attempt, reason}, "
                    "then finished {id, status} or failed {id, status, error}, after which the stream ends. A "
                    "`: keep-alive` comment every 15 s; each stream ends after TEXT2PIXI_EVENTS_MAX_SECONDS and "
                    "resumes with Last-Event-ID. Send `Accept: text/event-stream` (OpenFaaS streams only then).",
                    "parameters": [JOB_ID,
                                   {"name": "Last-Event-ID", "in": "header", "schema": {"type": "string"},
                                    "description": "resume after this event id (what EventSource sends)"},
                                   {"name": "last_event_id", "in": "query", "schema": {"type": "string"},
                                    "description": "the same, for clients that cannot set headers"}],
                    "responses": _responses({200: {"description": "the event stream",
                                                   "content": {"text/event-stream": {}}}}, 400, *FUNCTION_ERRORS)},
            "options": _preflight()},
        **{f"/function/status/{{id}}/{fmt}": _export(fmt) for fmt in downloads.EXPORT_FORMATS},
        "/function/warmup": {
            op: {"summary": "load and prime the model on a worker", "security": KEY, "parameters": [WAIT],
                 "responses": _responses({200: _json({"type": "object"}, "the worker's model and timings"),
                                          202: _json({"type": "object"}, "workers are busy (so warm); queued")},
                                         400, *FUNCTION_ERRORS)}
            for op in ("get", "post")
        } | {"options": _preflight()},
        "/function/{name}/healthz": {"get": {"summary": "a function's health", "security": [], "parameters": [NAME],
                                             "responses": _responses({200: _json({"type": "object"}, "up")})}},
        "/function/{name}/metrics": {"get": {"summary": "Prometheus metrics of one function", "security": KEY,
                                             "parameters": [NAME],
                                             "responses": _responses({200: {"description": "text exposition"}},
                                                                     *FUNCTION_ERRORS)}},
        "/async-function/{name}": {"post": {
            "summary": "OpenFaaS async invocation; the function's answer goes to X-Callback-Url",
            "security": [], "parameters": [NAME, {
                "name": "X-Callback-Url", "in": "header", "schema": {"type": "string", "format": "uri"},
                "description": "called once, by the gateway, with the function's answer (for translate: the "
                               "accepted job, not its result) and the queue-worker's headers X-Call-Id, "
                               "X-Function-Name, X-Function-Status (numeric) and X-Duration-Seconds; the header "
                               "is not passed on to the function"}],
            "requestBody": {"content": {"*/*": {}}},
            "responses": _responses({202: {"description": "accepted; X-Call-Id"}}, 400, 429)}},
        "/system/functions": {"get": {"summary": "faas-cli list", "security": [{"basicAuth": []}],
                                      "responses": _responses({200: _json({"type": "array"}, "functions")}, 401)}},
        "/system/function/{name}": {"get": {"summary": "faas-cli describe", "security": [{"basicAuth": []}],
                                            "parameters": [NAME],
                                            "responses": _responses({200: _json({"type": "object"}, "one")}, 401)}},
        "/system/namespaces": {"get": {"summary": "namespaces", "security": [{"basicAuth": []}],
                                       "responses": _responses({200: _json({"type": "array"}, "names")}, 401)}},
        "/system/info": {"get": {"summary": "gateway version", "security": [{"basicAuth": []}],
                                 "responses": _responses({200: _json({"type": "object"}, "info")}, 401)}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "text2pixi", "version": "1",
                 "description": "A sentence in, a validated Pixi.js v8 animation out. Errors are JSON "
                                "{\"error\", \"message\"}; see the E<status> responses."},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": {f"E{s}": _error_response(s) for s in ERRORS},
            "securitySchemes": {"apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"},
                                "basicAuth": {"type": "http", "scheme": "basic"}},
        },
    }


@lru_cache(maxsize=1)
def document_json() -> str:
    return json.dumps(document(), separators=(",", ":"))


def documented_statuses(path_template: str, method: str) -> frozenset[int]:
    """The statuses ``method path_template`` may answer per the document (the fuzzer's oracle)."""
    paths = document()["paths"]
    operation = paths.get(path_template, {}).get(method.lower())
    if operation is not None:
        return frozenset(int(s) for s in operation["responses"])
    if path_template.startswith("/function/"):  # a function sees every path under it: any of its answers
        return frozenset(int(s) for t, item in paths.items() if t.startswith("/function/")
                         for op in item.values() for s in op["responses"])
    return frozenset(GATEWAY_ERRORS)  # not an operation: the gateway's generic answers only
