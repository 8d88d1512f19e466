"""The error hierarchy, designed once.

User mistakes (bad prompt, unknown model) derive from :class:`UserError`; runtime failures (model
could not produce a valid scene, corrupt model file) derive from :class:`Text2PixiError` directly.
The HTTP layer maps each class to one status code via :attr:`Text2PixiError.code` and
:attr:`Text2PixiError.http_status`; the CLI prints ``str(error)`` on one line.
"""

from __future__ import annotations

from typing import Any


class Text2PixiError(Exception):
    """Base of every error this package raises on purpose."""

    code: str = "internal_error"
    http_status: int = 500

    def to_dict(self) -> dict[str, Any]:
        """The JSON error body: a stable machine code and a human message."""
        return {"error": self.code, "message": str(self)}


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


class OriginNotAllowed(UserError):
    code = "origin_not_allowed"
    http_status = 403


class NotFound(UserError):
    code = "not_found"
    http_status = 404


class MethodNotAllowed(UserError):
    code = "method_not_allowed"
    http_status = 405

    def __init__(self, method: str, allowed: tuple[str, ...]) -> None:
        super().__init__(f"method {method} is not allowed here; use {', '.join(allowed)}")
        self.allowed = allowed


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


class QueueFull(Text2PixiError):
    """More jobs are waiting than the configured depth; the client should come back later."""

    code = "queue_full"
    http_status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class ServiceUnavailable(Text2PixiError):
    """A backend (Redis, S3) or a configuration the service needs is missing."""

    code = "service_unavailable"
    http_status = 503
