"""The one Flask error handler of the stack: the functions' template, the gateway and the playground.

Views raise named errors (:mod:`text2pixi.core.errors`); werkzeug raises its own for what no view
handles (no route, a method a route does not take, a body over ``MAX_CONTENT_LENGTH``). Both become
the stack's one error shape, ``{"error": code, "message": ...}`` as JSON with the error's status and
headers (``Allow``, ``Retry-After``, ``WWW-Authenticate``), and anything else a logged 500 whose body
tells nothing. The functions' pure handlers build the same answer from the same error attributes
(:func:`text2pixi.service.http.error_response`), without Flask.
"""

from __future__ import annotations

import json
import logging

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException

from text2pixi.core.errors import (
    BodyTooLarge,
    HttpError,
    InternalError,
    MethodNotAllowed,
    NotFound,
    Text2PixiError,
    UserError,
)

logger = logging.getLogger(__name__)


def error_response(exc: Text2PixiError) -> Response:
    """A named error as the JSON answer every app of the stack gives."""
    return Response(json.dumps(exc.to_dict()), exc.http_status, exc.headers(), mimetype="application/json")


def body_too_large() -> BodyTooLarge:
    return BodyTooLarge(f"request body is larger than {current_app.config['MAX_CONTENT_LENGTH']} bytes")


def check_body_size() -> None:
    """Refuse a declared ``Content-Length`` over the app's ``MAX_CONTENT_LENGTH`` before reading a byte of it."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH")
    if limit is not None and (request.content_length or 0) > limit:
        raise body_too_large()


def named(exc: HTTPException) -> Text2PixiError:
    """werkzeug's own refusals as the named errors they are (its message kept, except the 413's)."""
    status = exc.code or 500
    message = str(exc.description)
    if status == 413:
        return body_too_large()
    if status == 405:
        allowed = tuple(getattr(exc, "valid_methods", None) or ())
        return MethodNotAllowed(request.method, allowed, message=message)
    if status == 404:
        return NotFound(message)
    if status == 400:
        return UserError(message)
    return HttpError(status, message)


def _http_error(exc: HTTPException) -> Response:
    return error_response(named(exc))


def _unexpected(exc: Exception) -> Response:
    """The last line of defence: log the traceback here, never send it."""
    logger.error("%s %s: unexpected error", request.method, request.path, exc_info=exc)
    return error_response(InternalError())


def install_error_handlers(app: Flask) -> None:
    """Answer every error ``app`` raises with the stack's JSON error shape."""
    app.register_error_handler(Text2PixiError, error_response)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected)
