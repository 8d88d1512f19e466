"""The engine: a warm model that turns one sentence into a validated :class:`Scene`.

One :class:`Engine` holds one loaded GGUF model (load once, serve many) and is used by one thread
at a time (a lock guards it). Generation goes through instructor in ``JSON_SCHEMA`` mode: instructor
supplies the schema, validates the reply with pydantic and re-asks with the validation error, up to
``max_retries`` times. Our ``create`` function underneath is a chat-completion look-alike that
decodes with the schema's whitespace-free grammar (``grammar.py``) in the sample-first loop
(``decoding.py``), so every attempt is syntactically valid JSON of the right shape and only the
semantic checks can fail.
"""

from __future__ import annotations

import ctypes
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import instructor
import llama_cpp
from instructor.core.hooks import Hooks
from llama_cpp import Llama
from llama_cpp.llama_chat_format import Jinja2ChatFormatter
from openai.types.chat import ChatCompletion, ChatCompletionMessage
from openai.types.chat.chat_completion import Choice
from openai.types.completion_usage import CompletionUsage

from text2pixi import registry
from text2pixi.core.prompt import build_messages, build_refinement_messages, check_prompt
from text2pixi.core.refine_prompt import ordered_json
from text2pixi.core.scene import Scene
from text2pixi.core.v2 import V2Scene, from_v1
from text2pixi.core.v2.prompt import build_v2_messages
from text2pixi.core.v2.refine_prompt import PATCH_SYSTEM_PROMPT, build_patch_messages
from text2pixi.engine.backend import ProgressCallback, ask_within, error_line, finish
from text2pixi.engine.checkpoints import Checkpoints
from text2pixi.engine.decoding import ConstrainedDecoder, DecodeStats
from text2pixi.engine.fastforward import Drafter, FastForward
from text2pixi.engine.grammar import compact_gbnf
from text2pixi.engine.invariance import largest_exact_batch
from text2pixi.engine.lookup import LookupDraft
from text2pixi.engine.runaway import AttemptGuard, Bounds
from text2pixi.engine.translation import AttemptStats, Translation
from text2pixi.settings import Settings, get_settings

log = logging.getLogger(__name__)

# Used when a GGUF file carries no chat template: ChatML, which most instruct models understand.
_CHATML = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


class Engine:
    """A loaded model plus everything needed to turn prompts into scenes with it."""

    def __init__(self, settings: Settings | None = None, *, model: str | None = None) -> None:
        self.settings = settings or get_settings()
        self.model_name = model or self.settings.model
        self.model_path: Path = registry.resolve(self.model_name, self.settings.models_dir)
        t0 = time.perf_counter()
        self.llm = Llama(
            model_path=str(self.model_path),
            n_ctx=self.settings.n_ctx,
            n_threads=self.settings.n_threads,
            n_threads_batch=self.settings.n_threads,
            n_batch=self.settings.n_batch,
            # The fast decoder evaluates forced tokens in batches and must write what the token-by-token
            # reference writes (tests/integration/test_fast_decoding.py). llama.cpp's default attention switches
            # kernels with the batch size; flash attention works row by row at every batch size. The
            # matmul kernels still switch (repacked gemm, tiled K-quants): prime() measures how
            # large a batch stays exact (text2pixi.engine.invariance) and drafts stay within it.
            flash_attn=True,
            seed=self.settings.seed,
            verbose=False,
        )
        self.load_s = time.perf_counter() - t0
        self.model_id = self.model_path.name if registry.is_path_like(self.model_name) else self.model_name
        self._decoder = ConstrainedDecoder(self.llm)
        # llguidance's view of the vocabulary (about 1 s to build): only the fast decoder needs it.
        self._fast_forward = FastForward(self.llm) if self.settings.decoder == "fast" else None
        self._formatter = self._make_formatter()
        self._lock = threading.Lock()
        self._attempts: list[AttemptStats] = []
        self._temperature = self.settings.temperature
        self._seed = self.settings.seed
        self._reference: str | None = None  # a refinement's base scene: the source of look-up drafts
        self._head: list[int] | None = None  # a refinement's head tokens: where its first attempt starts
        self._checkpoint: str | None = None  # how the current refinement's head got into the KV cache
        self._progress: ProgressCallback | None = None  # the current translate() call's listener
        self._bounds: Bounds | None = None  # the current translate() call's budget and deadline (engine.runaway)
        self.checkpoints = Checkpoints(self.llm, self.settings.refine_checkpoints)
        # v2 refinements have their own system prompt (the patch prompt), so they overwrite the primed prefix;
        # the KV states of both prefixes are kept here and restored instead of evaluated again.
        self._prefixes = Checkpoints(self.llm, 2 if self.settings.scene_language == "v2" else 0)
        self.lookup_drafts = True  # benchmarks switch it off to measure what the drafts save
        self.bounded = True  # budget and runaway stops (engine.runaway); benchmarks switch it off to compare
        self.language = self.settings.scene_language  # what the model writes (v2 is compiled by core.v2)
        self._create = instructor.patch(create=self._chat_completion, mode=instructor.Mode.JSON_SCHEMA)
        self._hooks = Hooks()
        self._hooks.on("parse:error", self._record_rejection)
        self.prefix_tokens = 0  # length of the primed system prefix; 0 until prime() ran
        self._system_prefixes: list[list[int]] = []  # the fixed prefixes prompts start with (see _shared)
        # The largest batch whose logits equal one-token logits on this model, threads and build
        # (text2pixi.engine.invariance); measured by prime(), and drafts stay one token below it.
        self.exact_batch: int | None = None
        log.info("loaded %s in %.1fs (%d threads, n_ctx %d)", self.model_id, self.load_s,
                 self.settings.n_threads, self.settings.n_ctx)

    def _make_formatter(self) -> Jinja2ChatFormatter:
        model = self.llm._model
        template = self.llm.metadata.get("tokenizer.chat_template") or _CHATML
        return Jinja2ChatFormatter(
            template=template,
            eos_token=model.token_get_text(self.llm.token_eos()),
            bos_token=model.token_get_text(self.llm.token_bos()),
            add_generation_prompt=True,
        )

    def _tokens(self, messages: list[dict[str, Any]]) -> list[int]:
        text = self._formatter(messages=messages).prompt  # type: ignore[arg-type]
        # The template writes the BOS token itself where the model wants one.
        return self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True)

    def prime(self) -> float:
        """Evaluate the fixed system prefix once so every request starts warm; returns seconds spent."""
        with self._lock:
            return self._prime()

    def _messages(self, prompt: str) -> list[dict[str, str]]:
        """A fresh request's messages in this engine's scene language (the primed prefix is theirs)."""
        return build_v2_messages(prompt) if self.language == "v2" else build_messages(prompt)

    def _prefix_of(self, messages: list[dict[str, str]]) -> list[int]:
        """The tokens of ``messages``' chat text before the last message's content (a ``\\x00`` marker)."""
        text = self._formatter(messages=messages).prompt  # type: ignore[arg-type]
        return self.llm.tokenize(text[: text.index("\x00")].encode("utf-8"), add_bos=False, special=True)

    def _prime(self) -> float:
        tokens = self._prefix_of(self._messages("\x00"))
        # v2 refinements start with the patch system prompt: its own fixed prefix (evaluated and kept on the
        # first refinement, then restored), so a base scene's tokens never count as part of a prefix.
        self._system_prefixes = [tokens] + ([self._prefix_of(
            [{"role": "system", "content": PATCH_SYSTEM_PROMPT}, {"role": "user", "content": "\x00"}])]
            if self.language == "v2" else [])
        t0 = time.perf_counter()
        # Evaluated on its own, always the same way, so that the prefix's KV state is identical
        # whether this is the first request or the thousandth (see ConstrainedDecoder.prefill).
        self.llm.n_tokens = 0
        self.llm.eval(tokens)
        self.prefix_tokens = len(tokens)
        self._prefixes.save(tokens)
        if self._fast_forward is not None and self.exact_batch is None:
            # Measured here, right after the prefix, so at the KV length requests decode at.
            self.exact_batch = largest_exact_batch(self._decoder, self.settings.max_draft + 1)
        return time.perf_counter() - t0

    def _chat_completion(self, *, messages: list[dict[str, Any]], response_format: dict[str, Any],
                         max_tokens: int | None = None, **_: Any) -> ChatCompletion:
        """A chat-completion call in OpenAI's shape, decoded under the schema's grammar."""
        schema = response_format["json_schema"]["schema"]
        gbnf = compact_gbnf(schema)
        tokens = self._tokens(messages)
        on_text = None
        if self._progress is not None:
            progress, attempt = self._progress, len(self._attempts) + 1
            progress(attempt, "", 0)

            def on_text(text: str, n: int) -> None:
                progress(attempt, text, n)
        guard: AttemptGuard | None = self._bounds.guard() if self._bounds is not None else None
        decoded = self._decoder.generate(
            tokens,
            gbnf,
            max_tokens=max_tokens or self.settings.max_tokens,
            # A re-ask at temperature 0 tends to repeat the same mistake; later attempts explore.
            temperature=self._temperature if not self._attempts else max(
                self._temperature, self.settings.retry_temperature
            ),
            seed=self._seed + len(self._attempts),
            sample_first=self.settings.decoder != "reference",
            forced=self._forced(schema),
            max_draft=self.max_draft,
            # First attempts restart right after the primed prefix, or a refinement's head, always
            # evaluated the same way (deterministic output); re-asks may also reuse the failed attempt
            # they extend.
            max_reuse=self._start(tokens) if not self._attempts else None,
            on_text=on_text,
            stop=guard,
        )
        stats: DecodeStats = decoded.stats
        self._attempts.append(
            AttemptStats(
                prompt_tokens=stats.prompt_tokens,
                cached_tokens=stats.cached_tokens,
                output_tokens=stats.output_tokens,
                full_passes=stats.full_passes,
                forced_tokens=stats.forced_tokens,
                sampled_tps=round(stats.sampled_tps, 2),
                forced_tps=round(stats.forced_tps, 2) if stats.forced_tokens and stats.forced_tps < 1e9 else None,
                ttft_s=round(stats.ttft_s, 4),
                decode_s=round(stats.decode_s, 4),
                decode_tps=round(stats.decode_tps, 2),
                finish_reason=decoded.finish_reason,
                error=guard.reason if guard is not None and guard.reason else None,
            )
        )
        if guard is not None and guard.reason is not None:
            raise guard.error(tokens=stats.output_tokens, attempts=len(self._attempts), text=decoded.text)
        return ChatCompletion(
            id=f"t2p-{uuid.uuid4().hex}",
            object="chat.completion",
            created=int(time.time()),
            model=self.model_id,
            choices=[
                Choice(
                    index=0,
                    finish_reason=decoded.finish_reason,
                    message=ChatCompletionMessage(role="assistant", content=decoded.text),
                )
            ],
            usage=CompletionUsage(
                prompt_tokens=stats.prompt_tokens,
                completion_tokens=stats.output_tokens,
                total_tokens=stats.prompt_tokens + stats.output_tokens,
            ),
        )

    def _start(self, tokens: list[int]) -> int:
        """Where a first attempt's evaluation starts: after the primed prefix, or after a refinement's head.

        A refinement's head (the prefix, then the user turn up to the end of the base scene) is restored
        from its checkpoint when one is kept, else evaluated now as one call and kept. Both leave the
        same KV state, so the output does not depend on which happened.
        """
        self._ensure_prefix(tokens)
        head = self._head
        if head is None or len(head) >= len(tokens) or tokens[: len(head)] != head:
            return self._shared(tokens)  # a fresh request, or a head the full prompt tokenizes differently
        if self.checkpoints.restore(head):
            self._checkpoint = "restored"
        else:
            self._evaluate_head(head)
            self._checkpoint = "evaluated"
        return len(head)

    def _shared(self, tokens: list[int]) -> int:
        """How many of ``tokens`` count as a primed prefix: the system prefix they start with (a fresh request's,
        or a v2 refinement's patch system prompt), else ``prefix_tokens``; never all of them (at least the
        last token is left to evaluate, to give the next logits)."""
        for prefix in self._system_prefixes:
            if len(tokens) > len(prefix) and tokens[: len(prefix)] == prefix:
                return len(prefix)
        return max(0, min(self.prefix_tokens, len(tokens) - 1))

    def _ensure_prefix(self, tokens: list[int]) -> None:
        """Make sure the KV cache starts with the primed prefix (``tokens[:prefix_tokens]``), evaluated as prime() does.

        It always does, except after a failed restore or a cancelled preparation cut into it, or after a v2
        refinement, whose prompt starts with another system prompt: each one's first ``prefix_tokens`` are then
        restored from their kept state (the very state evaluating them gives), else evaluated and kept.
        """
        llm, n = self.llm, self._shared(tokens)
        if llm.n_tokens < n or list(llm.input_ids[:n]) != tokens[:n]:
            if self._prefixes.restore(tokens[:n]):
                return
            llm.n_tokens = 0
            llm.eval(tokens[:n])
            self._prefixes.save(tokens[:n])

    def _evaluate_head(self, head: list[int]) -> None:
        """Evaluate ``head`` after the primed prefix as one call, always the same way, and keep its state."""
        self._ensure_prefix(head)
        n = self._shared(head)
        self.llm.n_tokens = n  # eval() drops KV entries from n_tokens on
        self.llm.eval(head[n:])
        self.checkpoints.save(head)

    def _refinement_messages(self, base: Scene, base_source: V2Scene | None, instruction: str) -> list[dict[str, str]]:
        """A refinement's messages: v1 the whole scene after the shared prefix, v2 a patch of the base source."""
        if self.language == "v2":
            return build_patch_messages(base_source if base_source is not None else from_v1(base), instruction)
        return build_refinement_messages(base, instruction)

    def _refinement_head(self, base: Scene, base_source: V2Scene | None = None) -> list[int]:
        """The tokens of a refinement of ``base`` up to the end of the base scene (before the instruction)."""
        marker = "\x00"
        messages = self._refinement_messages(base, base_source, marker)
        text = self._formatter(messages=messages).prompt  # type: ignore[arg-type]
        head = text[: text.index(marker)].rstrip(" ")  # the instruction's leading space belongs to its first token
        return self.llm.tokenize(head.encode("utf-8"), add_bos=False, special=True)

    def prepare_refinement(self, base: Scene, cancel: threading.Event | None = None, *,
                           base_source: V2Scene | None = None) -> bool:
        """Evaluate and keep the head of a future refinement of ``base`` (workers call it when idle).

        Takes about as long as the head's prefill (a few seconds on the default model and one thread), so
        an idle worker passes ``cancel`` and sets it when a translation arrives: llama.cpp then stops within
        one graph node (its abort callback) and nothing is kept. Returns False when checkpoints are off,
        this head is already kept, or the preparation was cancelled.
        """
        if self.checkpoints.capacity <= 0:
            return False
        with self._lock:
            if not self.prefix_tokens:
                self._prime()
            head = self._refinement_head(base, base_source)
            if head in self.checkpoints:
                return False
            if cancel is None:
                self._evaluate_head(head)
                return True
            with _abort_when(self.llm, cancel):
                try:
                    self._evaluate_head(head)
                except RuntimeError:  # llama_decode returned 2: aborted (llama.cpp dropped that batch's KV)
                    if not cancel.is_set():
                        raise
                    self.llm.n_tokens = min(self.llm.n_tokens, self._shared(head))
                    return False
            return True

    def _forced(self, schema: dict[str, Any]) -> Drafter | None:
        """The draft source: the schema's forced text, plus the base scene's tokens in a refinement."""
        inner = self._fast_forward.start(schema) if self._fast_forward is not None else None
        if self._reference is not None and self.lookup_drafts and self.settings.decoder == "fast":
            return LookupDraft(self.llm, self._reference, inner)
        return inner

    @property
    def primed(self) -> bool:
        return self.prefix_tokens > 0

    @property
    def max_draft(self) -> int:
        """Most drafts one model call verifies: ``TEXT2PIXI_MAX_DRAFT``, within the exact batch size."""
        return min(self.settings.max_draft, (self.exact_batch or 1) - 1)

    @property
    def last_attempts(self) -> list[AttemptStats]:
        """The attempts of the last :meth:`translate` call, failed ones included (for benchmarks)."""
        return list(self._attempts)

    def _record_rejection(self, error: Exception) -> None:
        """Keep each rejected attempt's reason next to its stats (instructor's parse:error hook)."""
        if self._attempts:
            last = self._attempts[-1]
            self._attempts[-1] = last.model_copy(update={"error": error_line(error)})

    def translate(self, prompt: str, *, max_tokens: int | None = None, temperature: float | None = None,
                  seed: int | None = None, base: Scene | None = None, base_source: V2Scene | None = None,
                  progress: ProgressCallback | None = None) -> Translation:
        """Turn a description into a validated scene, re-asking on validation errors.

        In the engine's scene language (``settings.scene_language``): v1, the model writes the scene itself; v2,
        a v2 scene that :func:`~text2pixi.core.v2.compile_scene` compiles (the result carries both). With
        ``base``, ``prompt`` is an instruction ("make it slower"): v1, the model writes the whole new scene
        from the base (in the user turn, after the cached prefix) and the fields the instruction gives no reason
        to change go back to their base values (:func:`text2pixi.core.preserve.preserve`); v2, it writes a patch
        of ``base_source`` (or of ``from_v1(base)``), which is applied and compiled.

        ``progress`` hears of each attempt and of the text as it is decoded (:data:`ProgressCallback`).

        Each attempt's ``max_tokens`` is the budget :class:`~text2pixi.engine.runaway.Bounds` derives from the
        request's size (within ``max_tokens``), and a reply that repeats itself or runs out of time is stopped.

        Raises :class:`EmptyPrompt`, :class:`PromptTooLong`, :class:`OutputTruncated` (the
        document did not fit in its budget), :class:`RunawayGeneration` (stopped, see
        :mod:`text2pixi.engine.runaway`) or :class:`GenerationFailed` (no attempt passed
        validation); never returns an invalid scene.
        """
        text = check_prompt(prompt, self.settings.max_prompt_chars)
        budget = max_tokens or self.settings.max_tokens
        v2 = self.language == "v2"
        if v2 and base is not None and base_source is None:
            base_source = from_v1(base)
        with self._lock:
            self._attempts = []
            self._temperature = self.settings.temperature if temperature is None else temperature
            self._seed = self.settings.seed if seed is None else seed
            # Look-up drafts copy the base; a v2 patch copies little of it, so it goes without them.
            self._reference = ordered_json(base) if base is not None and not v2 else None
            self._checkpoint = None
            self._progress = progress
            messages = self._messages(text) if base is None else self._refinement_messages(base, base_source, text)
            t0 = time.perf_counter()
            prime_s = 0.0 if self.prefix_tokens else self._prime()
            self._head = (self._refinement_head(base, base_source)
                          if base is not None and self.checkpoints.capacity > 0 else None)
            base_text = None if base is None else (
                base_source.to_json() if v2 and base_source is not None else ordered_json(base))
            bounds = Bounds.of(
                text, cap=budget, job_timeout=self.settings.job_timeout, language=self.language,
                base_tokens=None if base_text is None else len(self.llm.tokenize(
                    base_text.encode("utf-8"), add_bos=False, special=False)),
                base_objects=0 if base is None else len(base.objects))
            if self.bounded:
                self._bounds = bounds
            else:
                bounds.budget = budget
            try:
                asked = ask_within(self._create, messages, bounds=bounds, hooks=self._hooks,
                                   attempts=lambda: len(self._attempts), max_retries=self.settings.max_retries,
                                   prompt=text, base=base, base_source=base_source, language=self.language)
            finally:
                self._reference = None
                self._head = None
                self._progress = None
                self._bounds = None
            fields = finish(asked, base=base, prompt=text)
            return Translation(**fields, model=self.model_id, attempts=list(self._attempts),
                               prime_s=round(prime_s, 4), wall_s=round(time.perf_counter() - t0, 4),
                               checkpoint=self._checkpoint)


@contextmanager
def _abort_when(llm: Llama, cancel: threading.Event) -> Iterator[None]:
    """llama.cpp's abort callback, set only for this block: it runs after every graph node, a cost that the
    token-by-token decoding loop should not pay."""
    callback = llama_cpp.ggml_abort_callback(lambda _data: cancel.is_set())
    llama_cpp.llama_set_abort_callback(llm._ctx.ctx, callback, None)
    try:
        yield
    finally:
        llama_cpp.llama_set_abort_callback(llm._ctx.ctx, ctypes.cast(0, llama_cpp.ggml_abort_callback), None)
