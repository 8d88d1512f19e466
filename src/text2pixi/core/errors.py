"""The error hierarchy, designed once: every error class of the package lives here.

User mistakes (bad prompt, unknown model) derive from :class:`UserError`; runtime failures (model
could not produce a valid scene, corrupt model file) derive from :class:`Text2PixiError` directly.
Each class carries everything an HTTP answer needs: :attr:`Text2PixiError.code` (the stable
``error`` of the JSON body), :attr:`Text2PixiError.http_status`, :meth:`Text2PixiError.to_dict`
(the body) and :meth:`Text2PixiError.headers` (``Retry-After``, ``Allow``, ...). The functions
(:func:`text2pixi.service.http.error_response`) and every Flask app (:mod:`text2pixi.web.errors`)
read these and nothing else, so one error has one answer everywhere; the CLI prints ``str(error)``
on one line.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


class Text2PixiError(Exception):
    """Base of every error this package raises on purpose."""

    code: str = "internal_error"
    http_status: int = 500

    def to_dict(self) -> dict[str, Any]:
        """The JSON error body: a stable machine code and a human message."""
        return {"error": self.code, "message": str(self)}

    def headers(self) -> dict[str, str]:
        """HTTP headers that belong to this error's answer (none unless a subclass says so)."""
        return {}


def validation_message(exc: ValidationError, *, limit: int = 5, root: str = "scene") -> str:
    """Pydantic's complaints as one line, ``path: message; ...`` for the first ``limit`` of them.

    The one wording of an invalid scene, whoever validated it (an edit, the playground, the viewer);
    ``root`` names the document when the complaint is about the whole of it.
    """
    return "; ".join(f"{'.'.join(str(p) for p in e['loc']) or root}: {e['msg']}" for e in exc.errors()[:limit])


class InternalError(Text2PixiError):
    """An unexpected failure: logged where it happened, while the caller learns nothing more."""

    def __init__(self, message: str = "internal error") -> None:
        super().__init__(message)


class HttpError(Text2PixiError):
    """An HTTP status the web server itself chose (e.g. werkzeug's) that no named error describes."""

    code = "http_error"

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.http_status = status


class UserError(Text2PixiError):
    """The caller asked for something we cannot do; retrying the same request will not help."""

    code = "bad_request"
    http_status = 400


class EmptyPrompt(UserError):
    code = "empty_prompt"


class PromptTooLong(UserError):
    code = "prompt_too_long"
    http_status = 413


class UnknownModel(UserError):
    code = "unknown_model"


class ModelError(Text2PixiError):
    """A model file is missing, partial or corrupt; it is never loaded in that state."""

    code = "model_unavailable"
    http_status = 503


class GenerationError(Text2PixiError):
    """The model ran but did not yield a valid scene."""

    code = "generation_failed"
    http_status = 422

    def __init__(self, message: str, *, attempts: int = 0, last_output: str = "") -> None:
        super().__init__(message)
        self.attempts = attempts
        self.last_output = last_output

    def to_dict(self) -> dict[str, Any]:
        body = super().to_dict()
        body["attempts"] = self.attempts
        return body


class OutputTruncated(GenerationError):
    """Generation hit ``max_tokens`` before the JSON document was complete."""

    code = "output_truncated"


class ContextFull(GenerationError):
    """The prompt plus the re-ask history no longer fits in the model's context window."""

    code = "context_full"


class GenerationFailed(GenerationError):
    """Every attempt (first try plus retries) produced JSON that failed validation."""

    code = "generation_failed"


class RunawayGeneration(GenerationError):
    """The model was stopped mid-reply: it repeated itself, or the job's time budget for generating ran out.

    Greedy decoding repeats the same runaway when run again, so the job fails with this reason instead of
    being retried (one re-ask with the reason may come first, :mod:`text2pixi.engine.runaway`). ``rule`` says
    which bound stopped it: ``repeated_id``, ``repeated_element``, ``near_copies`` or ``time``.
    """

    code = "runaway_generation"

    def __init__(self, message: str, *, rule: str, attempts: int = 0, last_output: str = "") -> None:
        super().__init__(message, attempts=attempts, last_output=last_output)
        self.rule = rule


# --- HTTP-facing errors of the service (each maps to exactly one status code) ----------------


class BadJson(UserError):
    code = "bad_json"


class UnknownOption(UserError):
    code = "unknown_option"


class InvalidRequest(UserError):
    code = "invalid_request"


class Unauthorized(UserError):
    code = "unauthorized"
    http_status = 401


class BasicAuthRequired(Unauthorized):
    """The gateway's ``/system/*`` API wants HTTP basic auth (as OpenFaaS' does)."""

    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": 'Basic realm="OpenFaaS API"'}


class OriginNotAllowed(UserError):
    code = "origin_not_allowed"
    http_status = 403


class NotFound(UserError):
    code = "not_found"
    http_status = 404


class MethodNotAllowed(UserError):
    code = "method_not_allowed"
    http_status = 405

    def __init__(self, method: str, allowed: tuple[str, ...], *, message: str | None = None) -> None:
        super().__init__(message or f"method {method} is not allowed here; use {', '.join(allowed)}")
        self.allowed = allowed

    def headers(self) -> dict[str, str]:
        return {"Allow": ", ".join(self.allowed)}


class IdempotencyConflict(UserError):
    code = "idempotency_key_reused"
    http_status = 409


class BodyTooLarge(UserError):
    code = "body_too_large"
    http_status = 413


class CallbackRefused(UserError):
    code = "callback_url_refused"


# --- refinement and edits: the base a new version continues from ---------------------------


class BaseNotFound(UserError):
    """The ``base`` id names no stored result (never existed, or expired)."""

    code = "base_not_found"
    http_status = 404


class BaseNotFinished(UserError):
    """The ``base`` job is still queued or generating: there is no scene to continue from yet."""

    code = "base_not_finished"
    http_status = 409


class BaseFailed(UserError):
    """The ``base`` job ended without a scene (a generation error), so it cannot be refined."""

    code = "base_failed"
    http_status = 409


class InvalidScene(UserError):
    """A client-edited scene fails the scene schema or its semantic checks; nothing is stored."""

    code = "invalid_scene"

    @classmethod
    def from_validation(cls, exc: ValidationError) -> InvalidScene:
        return cls(f"the scene is not valid: {validation_message(exc)}")


class SceneCompileError(InvalidScene):
    """A v2 scene is well-formed JSON of the language but cannot be compiled (an unknown ``of`` id, a cyclic
    ``after``, a step that can never start, an impossible value). The message names the item and step, says
    what is wrong and what would be valid, so it can go back to the model as a re-ask unchanged."""

    def __init__(self, message: str, *, item: str | None = None, step: int | None = None) -> None:
        where = "" if item is None else f"item {item!r}" + ("" if step is None else f" step {step + 1}") + ": "
        super().__init__(where + message)
        self.item = item
        self.step = step


class InvalidExport(UserError):
    """An export asked for a format, frame rate, size, duration or time outside what is supported."""

    code = "invalid_export"


class ExportFailed(Text2PixiError):
    """Rendering or encoding an export failed (the Lottie renderer or the ffmpeg encoder refused it)."""

    code = "export_failed"
    http_status = 500


class QueueFull(Text2PixiError):
    """A bounded queue is full: more jobs are waiting than the configured depth, or the gateway's
    async backlog is; the client should come back after ``retry_after`` seconds.

    The stack's only 429, and its only code for one.
    """

    code = "queue_full"
    http_status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class ServiceUnavailable(Text2PixiError):
    """A backend (Redis, S3) or a configuration the service needs is missing."""

    code = "service_unavailable"
    http_status = 503


class BackendUnavailable(ServiceUnavailable):
    """The remote generation backend (``TEXT2PIXI_BACKEND=openai``) is down, too slow or refused the call.

    A :class:`ServiceUnavailable`, so the job raises and RQ re-runs it (``TEXT2PIXI_JOB_RETRIES``); the
    message names the server and what went wrong, and becomes the failed job's reason once retries run out.
    """

    code = "backend_unavailable"


class PixiNotInstalled(Text2PixiError):
    """No local copy of pixi.js to inline into a standalone page (``make setup`` installs it)."""

    code = "pixi_not_installed"
    http_status = 503


# --- the gateway, between a caller and a function -----------------------------------------------


class FunctionNotFound(NotFound):
    """The gateway serves no function of that name (in that namespace)."""

    code = "function_not_found"


class FunctionUnavailable(Text2PixiError):
    """The function process is not reachable (restarting, or down)."""

    code = "function_unavailable"
    http_status = 502


class FunctionTimeout(Text2PixiError):
    """The function did not answer within the gateway's timeout."""

    code = "function_timeout"
    http_status = 504


# --- the playground's same-origin proxy ----------------------------------------------------------


class HostNotAllowed(UserError):
    """The request names a host other than loopback while the playground is local-only (DNS rebinding)."""

    code = "host_not_allowed"
    http_status = 403


class UnsupportedMediaType(UserError):
    """The proxy takes JSON only: a cross-site HTML form cannot send it without a CORS preflight."""

    code = "unsupported_media_type"
    http_status = 415


class PlaygroundModeInvalid(Text2PixiError, ValueError):
    """``TEXT2PIXI_PLAYGROUND`` holds something other than auto, on or off: the gateway does not start."""

    code = "invalid_setting"


# --- clients of the service (the CLI, ``text2pixi invoke``) ---------------------------------------


class ServiceError(Text2PixiError):
    """The service answered with an error body; carries its status and stable code."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(f"{status} {body.get('error', 'error')}: {body.get('message', '')}")
        self.http_status = status
        self.code = str(body.get("error", "error"))
        self.body = body


class InvokeError(Text2PixiError):
    """The gateway answered outside 2xx; carries what it said so callers can report or branch on it.

    Worded as ``faas-cli invoke`` words it, since ``text2pixi invoke`` stands in for that command.
    """

    code = "unexpected_status"

    def __init__(self, status: int, body: bytes) -> None:
        self.status = status
        self.http_status = status
        self.body = body
        text = " ".join(body.decode("utf-8", "replace").split())
        text = text if len(text) <= 500 else text[:500] + "..."
        super().__init__(f"server returned unexpected status code: {status} - {text}")


class SceneSourceInvalid(UserError):
    """The argument is neither a job id nor a readable JSON file holding a valid scene."""

    code = "scene_source_invalid"
