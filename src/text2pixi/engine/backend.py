"""What a worker needs from a generation backend, whichever one ``TEXT2PIXI_BACKEND`` picks.

:class:`Translator` is the interface the worker (``text2pixi.worker``) calls: the in-process llama.cpp
:class:`~text2pixi.engine.translator.Engine` and the remote
:class:`~text2pixi.engine.openai_backend.OpenAIBackend` both satisfy it, so the job code, validation,
compilation, rendering and storage do not depend on where the tokens come from.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sized
from typing import Any, Protocol

from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException
from instructor.core.hooks import Hooks
from pydantic import ValidationError

from text2pixi.core.errors import GenerationFailed, OutputTruncated, Text2PixiError
from text2pixi.core.preserve import preserve
from text2pixi.core.scene import Scene
from text2pixi.engine.translation import AttemptStats, Translation
from text2pixi.settings import Settings

ProgressCallback = Callable[[int, str, int], None]
"""Called while a reply is written: (attempt number from 1, the reply's text so far, its tokens so far).

Called once with ``("", 0)`` as each attempt starts, then after each model call that added text. It runs
in the decoding thread: it must be cheap (the worker throttles what it publishes) and must not raise."""


class Translator(Protocol):
    """A warm generation backend: prompts (or a base scene and an instruction) in, validated scenes out."""

    @property
    def settings(self) -> Settings: ...

    @property
    def model_id(self) -> str:
        """The model name results record."""

    @property
    def load_s(self) -> float:
        """Seconds the model took to load in this process (0 for a remote server)."""

    @property
    def prefix_tokens(self) -> int:
        """Length of the primed system prefix; 0 until :meth:`prime` ran, and always for a remote server."""

    @property
    def primed(self) -> bool:
        """True once :meth:`prime` has made the system prefix ready (a warm-up then has nothing to do)."""

    @property
    def max_draft(self) -> int: ...

    @property
    def checkpoints(self) -> Sized:
        """The KV checkpoints of refinement heads kept here (none for a remote server)."""

    @property
    def last_attempts(self) -> list[AttemptStats]: ...

    def prime(self) -> float:
        """Get the system prefix ready; returns the seconds spent."""

    def prepare_refinement(self, base: Scene, cancel: threading.Event | None = None) -> bool:
        """Keep a future refinement's head ready; False when nothing was kept."""

    def translate(self, prompt: str, *, max_tokens: int | None = None, temperature: float | None = None,
                  seed: int | None = None, base: Scene | None = None,
                  progress: ProgressCallback | None = None) -> Translation:
        """A validated scene for ``prompt`` (or ``base`` refined by it), re-asking on validation errors.

        ``progress`` hears of each attempt and of the text as it grows (:data:`ProgressCallback`)."""


def ask_for_scene(create: Callable[..., Any], messages: list[dict[str, Any]], *, max_retries: int, budget: int,
                  hooks: Hooks, attempts: Callable[[], int]) -> Scene:
    """One instructor call with re-asks, its failures mapped to ours (the same for every backend).

    ``create`` is an ``instructor.patch``-ed completion function; ``attempts`` counts the calls made so far.
    Raises :class:`OutputTruncated` (the reply did not fit ``budget``), :class:`GenerationFailed` (no attempt
    validated) or whatever the backend raised that is not a bad scene (a timeout, a server down, a bug).
    """
    try:
        scene: Scene = create(response_model=Scene, messages=messages, max_retries=max_retries, max_tokens=budget,
                              strict=False, hooks=hooks)
        return scene
    except IncompleteOutputException as exc:
        raise OutputTruncated(f"the model's reply did not finish within {budget} tokens", attempts=attempts(),
                              last_output=reply_text(exc.last_completion)) from None
    except InstructorRetryException as exc:
        cause = exc.__cause__
        if isinstance(cause, Text2PixiError):  # ours (ContextFull, BackendUnavailable): pass it on as is
            raise cause from None
        if cause is not None and not isinstance(cause, (ValidationError, ValueError)):
            raise cause from None  # not a bad scene: a timeout, an interrupt, a bug; let it surface
        raise GenerationFailed(f"no valid scene after {exc.n_attempts} attempts; last error: {error_line(exc)}",
                               attempts=exc.n_attempts, last_output=reply_text(exc.last_completion)) from None


def keep_base(base: Scene | None, scene: Scene, instruction: str) -> tuple[Scene, str | None, list[str]]:
    """For a refinement, put back what the instruction gives no reason to change.

    Returns the scene, the model's own scene JSON when something was reverted (else None) and the reverted paths.
    """
    if base is None:
        return scene, None, []
    kept = preserve(base, scene, instruction)
    if not kept.reverted:
        return scene, None, []
    return kept.scene, scene.to_json(), kept.reverted


def reply_text(completion: Any) -> str:
    """The text of a chat completion, or "" when there is none."""
    try:
        return str(completion.choices[0].message.content or "")
    except (AttributeError, IndexError):
        return ""


_PYDANTIC_NOISE = re.compile(r"\s*\[type=.*?, input_type=\w+\]|\s*For further information visit \S+", re.DOTALL)


def error_line(exc: Exception) -> str:
    """The validation error in one readable line, without pydantic's input echo and links."""
    cause = exc.__cause__ or exc
    text = _PYDANTIC_NOISE.sub("", str(cause))
    return " ".join(line.strip() for line in text.splitlines() if line.strip())[:500]
