"""A remote generation backend: any OpenAI-compatible server (llama-server, vLLM, Ollama).

``TEXT2PIXI_BACKEND=openai``. The worker sends what the in-process engine decodes: the same messages
(:func:`text2pixi.core.prompt.build_messages` or, with ``scene_language`` v2,
:func:`text2pixi.core.v2.prompt.build_v2_messages`; or the refinement turn), the same scene schema as
``response_format`` ``json_schema`` (instructor's ``JSON_SCHEMA`` mode, so the server constrains its
output to it), and the same re-ask loop (instructor, ``max_retries`` re-asks with the validation error,
later attempts at ``retry_temperature`` with the next seed). Replies are streamed so that the time to
first token and the decode rate are measured here, on the client side, for every attempt.

A server that is down, slower than ``openai_timeout`` or refuses the call raises
:class:`~text2pixi.core.errors.BackendUnavailable`: the job raises and RQ retries it. KV checkpoints and
the primed prefix are llama.cpp-local, so :meth:`OpenAIBackend.prime` and
:meth:`OpenAIBackend.prepare_refinement` do nothing here (a server's own prompt cache plays their part).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Sized
from typing import Any, cast

import instructor
import openai
from instructor.core.hooks import Hooks
from openai.types.chat import ChatCompletion, ChatCompletionMessage, ChatCompletionMessageParam
from openai.types.chat.chat_completion import Choice
from openai.types.completion_usage import CompletionUsage
from openai.types.shared_params import ResponseFormatJSONSchema

from text2pixi.core.errors import BackendUnavailable, ContextFull
from text2pixi.core.prompt import build_messages, build_refinement_messages, check_prompt
from text2pixi.core.refine_prompt import ordered_json
from text2pixi.core.scene import Scene
from text2pixi.core.v2 import V2Scene, from_v1
from text2pixi.core.v2.prompt import build_v2_messages
from text2pixi.core.v2.refine_prompt import build_patch_messages
from text2pixi.engine.backend import ProgressCallback, ask_within, error_line, finish
from text2pixi.engine.runaway import Bounds, estimate_tokens
from text2pixi.engine.translation import AttemptStats, Translation
from text2pixi.settings import Settings, get_settings

try:  # openai 3 sends through httpx2; openai 2 through httpx (pyproject allows both)
    from httpx2 import TimeoutException, TransportError
except ImportError:  # pragma: no cover - openai 2
    from httpx import TimeoutException, TransportError  # type: ignore[no-redef]

log = logging.getLogger(__name__)


class OpenAIBackend:
    """The :class:`~text2pixi.engine.backend.Translator` of a remote OpenAI-compatible server."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or get_settings()
        self.model_id = self.settings.openai_model or self.settings.model
        self.base_url = self.settings.openai_base_url.rstrip("/")
        self.load_s = 0.0  # the server loaded the model
        self.prefix_tokens = 0  # the server caches prompts itself
        self.max_draft = 0
        self.checkpoints: Sized = ()
        self.timeout = self.settings.openai_timeout
        # Retries are RQ's (the whole job) and instructor's (re-asks); the client itself never repeats a call.
        self._client = openai.OpenAI(base_url=self.base_url, api_key=self.settings.resolved_openai_api_key or "none",
                                     timeout=self.timeout, max_retries=0)
        self._create = instructor.patch(create=self._chat_completion, mode=instructor.Mode.JSON_SCHEMA)
        self._hooks = Hooks()
        self._hooks.on("parse:error", self._record_rejection)
        self._lock = threading.Lock()
        self._attempts: list[AttemptStats] = []
        self._temperature = self.settings.temperature
        self._seed = self.settings.seed
        self._progress: ProgressCallback | None = None
        self._bounds: Bounds | None = None  # the current translate() call's budget and deadline (engine.runaway)
        self.primed = False

    def prime(self) -> float:
        """Nothing to prime here: the prefix's KV state lives in the server (its own prompt cache)."""
        log.info("backend %s at %s: nothing to prime in the worker", self.model_id, self.base_url)
        self.primed = True
        return 0.0

    def prepare_refinement(self, base: Scene, cancel: threading.Event | None = None, *,
                           base_source: V2Scene | None = None) -> bool:
        """Always False: refinement heads are kept as llama.cpp KV checkpoints, which a remote server does not take."""
        return False

    @property
    def last_attempts(self) -> list[AttemptStats]:
        """The attempts of the last :meth:`translate` call, failed ones included."""
        return list(self._attempts)

    def _record_rejection(self, error: Exception) -> None:
        if self._attempts:
            self._attempts[-1] = self._attempts[-1].model_copy(update={"error": error_line(error)})

    def _chat_completion(self, *, messages: list[dict[str, Any]], response_format: dict[str, Any],
                         max_tokens: int | None = None, **_: Any) -> ChatCompletion:
        """One streamed call of the server, returned as one completion (what instructor validates)."""
        temperature = self._temperature if not self._attempts else max(self._temperature,
                                                                        self.settings.retry_temperature)
        t0 = time.perf_counter()
        first: float | None = None
        parts: list[str] = []
        progress, attempt, text_so_far = self._progress, len(self._attempts) + 1, ""
        if progress is not None:
            progress(attempt, "", 0)
        finish = "stop"
        usage: CompletionUsage | None = None
        # Repetition and time are checked as the reply streams in; a stop closes the stream (the server stops).
        guard = self._bounds.guard() if self._bounds is not None else None
        try:
            stream = self._client.chat.completions.create(
                model=self.model_id, messages=cast("list[ChatCompletionMessageParam]", messages),
                response_format=cast("ResponseFormatJSONSchema", response_format),
                max_tokens=max_tokens or self.settings.max_tokens, temperature=temperature,
                seed=self._seed + len(self._attempts), stream=True, stream_options={"include_usage": True},
            )
            with stream:
                for chunk in stream:
                    usage = chunk.usage or usage
                    for choice in chunk.choices:
                        if choice.delta.content:
                            first = first or time.perf_counter()
                            parts.append(choice.delta.content)
                            text_so_far += choice.delta.content
                            if progress is not None:  # a server streams about one token per chunk
                                progress(attempt, text_so_far, len(parts))
                        finish = choice.finish_reason or finish
                    if guard is not None and guard(text_so_far) is not None:
                        finish = "runaway"
                        break
                    if time.perf_counter() - t0 > self.timeout:
                        raise BackendUnavailable(f"{self._where()} did not finish a reply within {self.timeout:g} s")
        except (openai.APITimeoutError, TimeoutException):
            raise BackendUnavailable(f"{self._where()} did not answer within {self.timeout:g} s") from None
        except (openai.APIConnectionError, TransportError) as exc:
            # openai wraps a failed request; a reply broken off mid-stream surfaces as the transport's own error.
            raise BackendUnavailable(f"{self._where()} is unreachable: {_cause(exc)}") from None
        except openai.APIStatusError as exc:
            message = _status_message(exc)
            if exc.status_code == 400 and "context" in message.lower():
                raise ContextFull(f"the prompt does not fit the server's context window: {message}",
                                  attempts=len(self._attempts)) from None
            raise BackendUnavailable(f"{self._where()} answered {exc.status_code}: {message}") from None
        end = time.perf_counter()
        text = "".join(parts)
        prompt_tokens = usage.prompt_tokens if usage else 0
        output_tokens = usage.completion_tokens if usage else len(parts)
        details = usage.prompt_tokens_details if usage else None
        decode_s = end - (first or end)
        self._attempts.append(AttemptStats(
            prompt_tokens=prompt_tokens,
            cached_tokens=(details.cached_tokens or 0) if details else 0,
            output_tokens=output_tokens,
            full_passes=0,
            ttft_s=round((first or end) - t0, 4),
            decode_s=round(decode_s, 4),
            decode_tps=round((output_tokens - 1) / decode_s, 2) if decode_s > 0 and output_tokens > 1 else 0.0,
            finish_reason=finish,
            error=guard.reason if guard is not None else None,
        ))
        if guard is not None and guard.reason is not None:
            raise guard.error(tokens=output_tokens, attempts=len(self._attempts), text=text)
        return ChatCompletion(
            id=f"t2p-{uuid.uuid4().hex}", object="chat.completion", created=int(time.time()), model=self.model_id,
            choices=[Choice(index=0, finish_reason=finish,
                            message=ChatCompletionMessage(role="assistant", content=text))],
            usage=CompletionUsage(prompt_tokens=prompt_tokens, completion_tokens=output_tokens,
                                  total_tokens=prompt_tokens + output_tokens),
        )

    def _where(self) -> str:
        return f"the generation backend at {self.base_url} ({self.model_id})"

    def translate(self, prompt: str, *, max_tokens: int | None = None, temperature: float | None = None,
                  seed: int | None = None, base: Scene | None = None, base_source: V2Scene | None = None,
                  progress: ProgressCallback | None = None) -> Translation:
        """Turn a description into a validated scene, re-asking on validation errors (as the engine does, in
        ``settings.scene_language``: the server gets the v1 or v2 schema, or a v2 refinement's patch schema).

        Raises what :meth:`text2pixi.engine.translator.Engine.translate` raises, plus
        :class:`BackendUnavailable` when the server cannot be used; never returns an invalid scene.
        """
        text = check_prompt(prompt, self.settings.max_prompt_chars)
        budget = max_tokens or self.settings.max_tokens
        language = self.settings.scene_language
        if language == "v2" and base is not None and base_source is None:
            base_source = from_v1(base)
        if base is None:
            messages = build_v2_messages(text) if language == "v2" else build_messages(text)
            base_text = None
        elif language == "v2" and base_source is not None:
            messages, base_text = build_patch_messages(base_source, text), base_source.to_json()
        else:
            messages, base_text = build_refinement_messages(base, text), ordered_json(base)
        with self._lock:
            self._attempts = []
            self._temperature = self.settings.temperature if temperature is None else temperature
            self._seed = self.settings.seed if seed is None else seed
            t0 = time.perf_counter()
            self._progress = progress
            # No tokenizer here: the base scene's tokens are estimated from its characters (generously).
            bounds = self._bounds = Bounds.of(
                text, cap=budget, job_timeout=self.settings.job_timeout, language=language,
                base_tokens=None if base_text is None else estimate_tokens(base_text),
                base_objects=0 if base is None else len(base.objects))
            try:
                asked = ask_within(self._create, messages, bounds=bounds, hooks=self._hooks,
                                   attempts=lambda: len(self._attempts), max_retries=self.settings.max_retries,
                                   prompt=text, base=base, base_source=base_source, language=language)
            finally:
                self._progress = None
                self._bounds = None
            fields = finish(asked, base=base, prompt=text)
            return Translation(**fields, model=self.model_id, attempts=list(self._attempts), prime_s=0.0,
                               wall_s=round(time.perf_counter() - t0, 4))


def _cause(exc: Exception) -> str:
    """The innermost reason of a connection failure ("Connection refused"), not the client's generic words."""
    inner: BaseException = exc
    while inner.__cause__ is not None:
        inner = inner.__cause__
    return str(inner) or type(inner).__name__


def _status_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    if isinstance(body, dict):
        return " ".join(str(body.get("message") or body.get("error") or body).split())[:300]
    return " ".join(str(exc.message).split())[:300]
