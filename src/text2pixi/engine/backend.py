"""What a worker needs from a generation backend, whichever one ``TEXT2PIXI_BACKEND`` picks.

:class:`Translator` is the interface the worker (``text2pixi.worker``) calls: the in-process llama.cpp
:class:`~text2pixi.engine.translator.Engine` and the remote
:class:`~text2pixi.engine.openai_backend.OpenAIBackend` both satisfy it, so the job code, validation,
compilation, rendering and storage do not depend on where the tokens come from.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Sized
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from instructor.core.exceptions import IncompleteOutputException, InstructorRetryException
from instructor.core.hooks import Hooks
from pydantic import ValidationError

from text2pixi.core.errors import GenerationFailed, OutputTruncated, Text2PixiError
from text2pixi.core.preserve import preserve
from text2pixi.core.sanity import ReviewedScene, SanityContext, review
from text2pixi.core.scene import STAGE_BOUNDS, Scene
from text2pixi.core.v2 import V2Scene, from_v1
from text2pixi.core.v2.patch import source_changes
from text2pixi.engine.replies import (
    PATCHED,
    ReviewedPatch,
    ReviewedV2Scene,
    source_json,
    validating_with,
    with_context,
)
from text2pixi.engine.runaway import Bounds, ask_bounded
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

    def prepare_refinement(self, base: Scene, cancel: threading.Event | None = None, *,
                           base_source: V2Scene | None = None) -> bool:
        """Keep a future refinement's head ready (v2: of a patch of ``base_source``, else of ``from_v1(base)``);
        False when nothing was kept."""

    def translate(self, prompt: str, *, max_tokens: int | None = None, temperature: float | None = None,
                  seed: int | None = None, base: Scene | None = None, base_source: V2Scene | None = None,
                  progress: ProgressCallback | None = None) -> Translation:
        """A validated scene for ``prompt`` (or ``base`` refined by it), re-asking on validation errors.

        With ``settings.scene_language`` v2 the model writes a v2 scene (a refinement: a patch of
        ``base_source``, else of ``from_v1(base)``); the result's ``scene`` is always the compiled scene.
        ``progress`` hears of each attempt and of the text as it grows (:data:`ProgressCallback`)."""


def _ask(create: Callable[..., Any], model: type[Any], messages: list[dict[str, Any]], context: dict[str, Any], *,
         max_retries: int, budget: int, hooks: Hooks, attempts: Callable[[], int]) -> Any:
    """One instructor call with re-asks, its failures mapped to ours (the same for every backend and language).

    The validation context goes through :func:`~text2pixi.engine.replies.validating_with`, never instructor's
    ``context=``, which would render every message as a Jinja template (the user's words must reach the model
    verbatim). Raises :class:`OutputTruncated` (the reply did not fit ``budget``), :class:`GenerationFailed` (no
    attempt validated) or whatever the backend raised that is not a bad scene (a timeout, a server down, a bug).
    """
    try:
        with validating_with(context):
            return create(response_model=with_context(model), messages=messages, max_retries=max_retries,
                          max_tokens=budget, strict=False, hooks=hooks)
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


def ask_for_scene(create: Callable[..., Any], messages: list[dict[str, Any]], *, max_retries: int, budget: int,
                  hooks: Hooks, attempts: Callable[[], int], prompt: str | None = None,
                  base: Scene | None = None) -> Scene:
    """A v1 scene from one instructor call with re-asks (:func:`_ask`).

    ``create`` is an ``instructor.patch``-ed completion function; ``attempts`` counts the calls made so far.
    With ``prompt`` (the sentence, or a refinement's instruction on ``base``), the sanity problems the sentence
    speaks of (:mod:`text2pixi.core.sanity`) are re-asked like schema errors, except on the last attempt, whose
    scene is kept with them (:func:`sanity_fixes` records them).
    """
    model: type[Scene] = Scene if prompt is None else ReviewedScene
    context: dict[str, Any] = {STAGE_BOUNDS: True}  # what the model writes as v1 stays on the stage
    if prompt is not None:
        context["sanity"] = SanityContext(prompt, base, last_attempt=lambda: attempts() > max_retries)
    scene: Scene = _ask(create, model, messages, context, max_retries=max_retries, budget=budget, hooks=hooks,
                        attempts=attempts)
    if type(scene) is not Scene:  # the plain model, so that it compares equal to scenes read back
        scene = Scene.model_construct(scene.model_fields_set, **dict(scene))
    return scene


def ask_for_v2(create: Callable[..., Any], messages: list[dict[str, Any]], *, max_retries: int, budget: int,
               hooks: Hooks, attempts: Callable[[], int], prompt: str) -> tuple[V2Scene, Scene, list[str]]:
    """A v2 scene and its compiled scene from one instructor call with re-asks (:func:`_ask`).

    A reply that does not compile, or whose compiled scene has a sanity problem the sentence speaks of, is
    re-asked with the reason (:class:`~text2pixi.engine.replies.ReviewedV2Scene`); the last attempt keeps its
    sanity problems, as in v1.
    """
    context = {"sanity": SanityContext(prompt, None, last_attempt=lambda: attempts() > max_retries)}
    reply: ReviewedV2Scene = _ask(create, ReviewedV2Scene, messages, context, max_retries=max_retries,
                                  budget=budget, hooks=hooks, attempts=attempts)
    return reply.plain()


def ask_for_patch(create: Callable[..., Any], messages: list[dict[str, Any]], *, max_retries: int, budget: int,
                  hooks: Hooks, attempts: Callable[[], int], prompt: str, base: Scene,
                  base_source: V2Scene) -> Asked:
    """A v2 refinement from one instructor call with re-asks (:func:`_ask`): the patch the model wrote, applied
    to ``base_source`` and compiled; a patch that does not apply or compile is re-asked with the reason, and the
    compiled scene is reviewed against the compiled ``base`` (what was wrong there is not the patch's doing)."""
    context = {PATCHED: base_source,
               "sanity": SanityContext(prompt, base, last_attempt=lambda: attempts() > max_retries)}
    reply: ReviewedPatch = _ask(create, ReviewedPatch, messages, context, max_retries=max_retries, budget=budget,
                                hooks=hooks, attempts=attempts)
    patch, source, scene, fixes = reply.plain()
    return Asked(scene, source, json.loads(patch.to_json()), source_changes(base_source, source), fixes,
                 reply.reverted)


@dataclass(frozen=True)
class Asked:
    """What one request's generation gave: the compiled scene, and for v2 the source (and a refinement's patch)."""

    scene: Scene
    source: V2Scene | None = None
    patch: dict[str, Any] | None = None
    source_changed: list[str] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)
    """Fixes made to the v2 source before compiling (:mod:`text2pixi.core.v2.reading.clash`)."""
    reverted: list[str] = field(default_factory=list)
    """A v2 refinement's source paths set back to the base's value (:mod:`text2pixi.core.v2.keep`)."""


def ask_within(create: Callable[..., Any], messages: list[dict[str, Any]], *, bounds: Bounds, hooks: Hooks,
               attempts: Callable[[], int], max_retries: int, prompt: str, base: Scene | None,
               base_source: V2Scene | None = None, language: Literal["v1", "v2"] = "v1") -> Asked:
    """A request's generation within its :class:`~text2pixi.engine.runaway.Bounds` (every backend's loop).

    Each attempt may take ``bounds.budget`` tokens; a runaway stop is re-asked once with its reason
    (:func:`~text2pixi.engine.runaway.ask_bounded`). ``attempts`` counts the request's model calls so far.
    v2: a fresh scene (:func:`ask_for_v2`), or with ``base`` a patch of ``base_source`` (:func:`ask_for_patch`).
    """

    def ask(asked: list[dict[str, Any]], retries: int, offset: int) -> Asked:
        def count() -> int:
            return attempts() - offset
        if language == "v2" and base is None:
            source, scene, fixes = ask_for_v2(create, asked, max_retries=retries, budget=bounds.budget,
                                              hooks=hooks, attempts=count, prompt=prompt)
            return Asked(scene, source, fixes=fixes)
        if language == "v2" and base is not None:
            return ask_for_patch(create, asked, max_retries=retries, budget=bounds.budget, hooks=hooks,
                                 attempts=count, prompt=prompt, base=base,
                                 base_source=base_source if base_source is not None else from_v1(base))
        return Asked(ask_for_scene(create, asked, max_retries=retries, budget=bounds.budget, hooks=hooks,
                                   attempts=count, prompt=prompt, base=base))

    return ask_bounded(ask, messages, max_retries=max_retries, attempts=attempts)


def finish(asked: Asked, *, base: Scene | None, prompt: str) -> dict[str, Any]:
    """The :class:`Translation` fields of a generated scene: a v1 refinement's kept fields put back
    (:func:`keep_base`), the sanity fixes (:func:`sanity_fixes`), and a v2 scene's source.

    A v2 scene is not passed through :func:`keep_base`: its source would no longer compile to it.
    """
    scene, model_scene_json, reverted = (asked.scene, None, asked.reverted) if asked.source is not None else keep_base(
        base, asked.scene, prompt)
    scene, fixes = sanity_fixes(base, scene, prompt)
    fixes = asked.fixes + fixes
    fields: dict[str, Any] = {"scene": scene, "scene_json": scene.to_json(), "model_scene_json": model_scene_json,
                              "reverted": reverted, "fixes": fixes}
    if asked.source is not None:
        fields |= {"language": "v2", "source": source_json(asked.source), "patch": asked.patch,
                   "source_changed": asked.source_changed}
    return fields


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


def sanity_fixes(base: Scene | None, scene: Scene, prompt: str) -> tuple[Scene, list[str]]:
    """The scene with the deterministic sanity fixes applied, and what was done (for the result document).

    Runs after :func:`keep_base`, so that a refinement's preserved fields are reviewed as they will be shown.
    Problems the re-asks did not resolve are listed too (the last attempt's scene is kept with them).
    """
    found = review(scene, prompt, base)
    return found.scene, found.fixes + [f"left after the last re-ask: {p.message}" for p in found.problems]


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
