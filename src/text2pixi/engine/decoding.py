"""Grammar-constrained decoding over llama-cpp-python's low-level API, sample first.

llama-cpp-python's own sampler chain runs the grammar over the whole vocabulary (~150k tokens for
Qwen) at every step, which costs about a third of the decode rate on CPU. Like llama.cpp's
``common_sampler_sample``, this loop picks the token from the raw logits first and asks the grammar
about that one token; only when the grammar rejects it does it pay for a full-vocabulary pass and
pick again among the allowed tokens. At temperature 0 this yields exactly the tokens the
full-vocabulary path would (the argmax of the masked logits is the argmax of the raw logits
whenever the latter is allowed).

The loop also reuses the KV cache across calls: the longest common token prefix with the previous
call (the system prompt and examples) is kept and only the rest is evaluated. It stops as soon as
the top-level JSON value closes, without sampling an end-of-text token, and never evaluates that
final token since nothing will be generated after it.
"""

from __future__ import annotations

import ctypes
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import llama_cpp
import numpy as np
from llama_cpp import Llama

from text2pixi.core.errors import ContextFull
from text2pixi.engine.fastforward import Drafter

log = logging.getLogger(__name__)

_TOKEN_DTYPE = np.dtype([("id", np.intc), ("logit", np.single), ("p", np.single)], align=True)


@dataclass
class DecodeStats:
    """What one generation cost; all times in seconds."""

    prompt_tokens: int = 0
    cached_tokens: int = 0
    output_tokens: int = 0
    full_passes: int = 0
    forced_tokens: int = 0  # drafts kept: evaluated in a batch with the token before them
    drafted_tokens: int = 0  # drafts proposed (kept or not)
    plain_rounds: int = 0  # model calls of one token (and the picks after them)
    plain_s: float = 0.0
    draft_rounds: int = 0  # model calls that also carried drafts
    draft_s: float = 0.0
    prefill_s: float = 0.0
    decode_s: float = 0.0

    @property
    def ttft_s(self) -> float:
        """Time to first token: prompt evaluation plus the first pick."""
        return self.prefill_s

    @property
    def sampled_tokens(self) -> int:
        """Output tokens that needed a model call of their own (the rest were kept drafts)."""
        return self.output_tokens - self.forced_tokens

    @property
    def sampled_tps(self) -> float:
        """Decode rate of one-token steps (model call plus pick): comparable to llama-bench's tg."""
        return self.plain_rounds / self.plain_s if self.plain_s > 0 else 0.0

    @property
    def forced_tps(self) -> float:
        """Rate of kept drafts: each draft round's time beyond a one-token step, per kept draft."""
        if not self.forced_tokens or not self.plain_rounds:
            return 0.0
        extra = self.draft_s - self.draft_rounds * (self.plain_s / self.plain_rounds)
        return self.forced_tokens / extra if extra > 0 else float("inf")

    @property
    def decode_tps(self) -> float:
        """Tokens per second after the first one (the first is part of time to first token)."""
        return (self.output_tokens - 1) / self.decode_s if self.decode_s > 0 else 0.0


@dataclass
class Decoded:
    text: str
    finish_reason: str  # "stop" (document complete), "length" (max_tokens reached) or "runaway" (``stop`` said so)
    stats: DecodeStats = field(default_factory=DecodeStats)


class _JsonEnd:
    """Tracks nesting depth of a JSON text byte by byte to see when the top-level value closes."""

    def __init__(self) -> None:
        self.depth = 0
        self.started = False
        self.in_string = False
        self.escaped = False

    def feed(self, data: bytes) -> bool:
        for byte in data:
            if self.in_string:
                if self.escaped:
                    self.escaped = False
                elif byte == 0x5C:  # backslash
                    self.escaped = True
                elif byte == 0x22:  # quote
                    self.in_string = False
            elif byte == 0x22:
                self.in_string = True
            elif byte in (0x7B, 0x5B):  # { [
                self.depth += 1
                self.started = True
            elif byte in (0x7D, 0x5D):  # } ]
                self.depth -= 1
        return self.started and self.depth == 0


class GrammarSampler:
    """A parsed llama.cpp grammar, reusable across generations (reset between them)."""

    def __init__(self, llm: Llama, gbnf: str) -> None:
        self._ptr = llama_cpp.llama_sampler_init_grammar(llm._model.vocab, gbnf.encode(), b"root")
        if not self._ptr:
            raise ValueError("llama.cpp could not parse the grammar")
        n_vocab = llm.n_vocab()
        self._one = np.zeros(1, dtype=_TOKEN_DTYPE)
        self._one_arr = llama_cpp.llama_token_data_array(
            data=self._one.ctypes.data_as(llama_cpp.llama_token_data_p), size=1, selected=-1, sorted=False
        )
        self._all = np.zeros(n_vocab, dtype=_TOKEN_DTYPE)
        self._all["id"] = np.arange(n_vocab, dtype=np.intc)
        self._all_arr = llama_cpp.llama_token_data_array(
            data=self._all.ctypes.data_as(llama_cpp.llama_token_data_p), size=n_vocab, selected=-1, sorted=False
        )

    def reset(self) -> None:
        llama_cpp.llama_sampler_reset(self._ptr)

    def accepts(self, token: int) -> bool:
        """Whether the grammar allows ``token`` next (one-token check, cheap)."""
        self._one["id"][0] = token
        self._one["logit"][0] = 0.0
        self._one_arr.size = 1
        self._one_arr.sorted = False
        llama_cpp.llama_sampler_apply(self._ptr, ctypes.byref(self._one_arr))
        return bool(np.isfinite(self._one["logit"][0]))

    def mask(self, logits: np.ndarray) -> np.ndarray:
        """Logits with every token the grammar forbids set to -inf (full-vocabulary pass)."""
        self._all["id"] = np.arange(len(self._all), dtype=np.intc)
        self._all["logit"] = logits
        self._all_arr.size = len(self._all)
        self._all_arr.sorted = False
        llama_cpp.llama_sampler_apply(self._ptr, ctypes.byref(self._all_arr))
        return np.array(self._all["logit"], copy=True)

    def accept(self, token: int) -> None:
        llama_cpp.llama_sampler_accept(self._ptr, token)

    def __del__(self) -> None:
        ptr = getattr(self, "_ptr", None)
        if ptr:
            llama_cpp.llama_sampler_free(ptr)
            self._ptr = None


def _pick(logits: np.ndarray, temperature: float, rng: np.random.Generator) -> int:
    if temperature <= 0.0:
        return int(np.argmax(logits))
    scaled = logits.astype(np.float64) / temperature
    scaled -= np.max(scaled)
    probs = np.exp(scaled)
    probs /= probs.sum()
    return int(rng.choice(len(probs), p=probs))


class ConstrainedDecoder:
    """Generates one grammar-conforming document at a time from a loaded :class:`Llama`."""

    def __init__(self, llm: Llama) -> None:
        self.llm = llm
        self.n_vocab = llm.n_vocab()
        self._samplers: dict[str, GrammarSampler] = {}

    def sampler(self, gbnf: str) -> GrammarSampler:
        """The parsed grammar for ``gbnf``, parsed once per process."""
        if gbnf not in self._samplers:
            self._samplers[gbnf] = GrammarSampler(self.llm, gbnf)
        return self._samplers[gbnf]

    def prefill(self, tokens: list[int], *, max_reuse: int | None = None) -> int:
        """Evaluate ``tokens``, reusing the longest prefix already in the KV cache.

        Returns how many tokens were reused. At least one token is always evaluated so that fresh
        logits exist for the next pick. ``max_reuse`` caps the reuse at a fixed boundary (the
        primed system prefix): the rest is then always evaluated as one batch from the same point,
        so a prompt gets the same logits, hence the same greedy output, whatever ran before it.
        """
        llm = self.llm
        if len(tokens) >= llm.n_ctx():
            raise ContextFull(f"the request needs {len(tokens)} prompt tokens; the context holds {llm.n_ctx()}")
        reuse = 0
        for a, b in zip(llm.input_ids[: llm.n_tokens], tokens, strict=False):
            if a != b:
                break
            reuse += 1
        reuse = min(reuse, len(tokens) - 1, len(tokens) if max_reuse is None else max_reuse)
        llm.n_tokens = reuse  # eval() drops KV entries from n_tokens on
        llm.eval(tokens[reuse:])
        return reuse

    def logits(self) -> np.ndarray:
        ptr = llama_cpp.llama_get_logits_ith(self.llm._ctx.ctx, -1)
        return np.ctypeslib.as_array(ptr, shape=(self.n_vocab,))

    def eval_batch(self, tokens: list[int]) -> list[np.ndarray]:
        """Evaluate ``tokens`` as one batch after the cached ones; returns the logits after each.

        Row ``i`` holds the model's prediction for the position after ``tokens[i]``, which is what
        verifying a draft needs. A batch of one is exactly ``Llama.eval`` of one token.
        """
        llm = self.llm
        if llm.n_tokens + len(tokens) >= llm.n_ctx():
            raise ContextFull(f"the document needs more than the {llm.n_ctx()} tokens the context holds")
        llm._ctx.kv_cache_seq_rm(-1, llm.n_tokens, -1)
        llm._batch.set_batch(batch=tokens, n_past=llm.n_tokens, logits_all=True)
        llm._ctx.decode(llm._batch)
        llm.input_ids[llm.n_tokens : llm.n_tokens + len(tokens)] = tokens
        llm.n_tokens += len(tokens)
        ctx = llm._ctx.ctx
        return [np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, i), shape=(self.n_vocab,))
                for i in range(len(tokens))]

    def _choose(self, logits: np.ndarray, grammar: GrammarSampler | None, temperature: float,
                rng: np.random.Generator, stats: DecodeStats, sample_first: bool) -> int:
        """One pick: from the raw logits first, from the grammar-masked ones if that is refused."""
        token = _pick(logits, temperature, rng) if sample_first or grammar is None else -1
        if grammar is not None and (token < 0 or not grammar.accepts(token)):
            stats.full_passes += 1
            masked = grammar.mask(logits)
            if not np.isfinite(masked).any():
                raise RuntimeError("grammar allows no token: the grammar and the text disagree")
            token = _pick(masked, temperature, rng)
        return token

    def generate(
        self,
        prompt_tokens: list[int],
        gbnf: str | None,
        *,
        max_tokens: int,
        temperature: float = 0.0,
        seed: int = 0,
        sample_first: bool = True,
        forced: Drafter | None = None,
        max_draft: int = 16,
        max_reuse: int | None = None,
        on_text: Callable[[str, int], None] | None = None,
        stop: Callable[[str], str | None] | None = None,
    ) -> Decoded:
        """Decode one document under ``gbnf``.

        ``sample_first=False`` masks the whole vocabulary at every step (what llama-cpp-python's
        own grammar path does); it is the reference the fast path must match token for token.
        ``gbnf=None`` decodes without constraint (the benchmark's baseline).

        ``forced`` (jump-forward) proposes the tokens the schema dictates next; they are evaluated
        in the same batch as the token before them, and each is kept only if the pick at its
        position (the same sample-first pick, from that batch's logits) is that very token. So the
        output is the token-by-token loop's output; drafts only change how many model calls it
        takes. A refused draft costs its share of one batch and nothing else.

        ``on_text(text, tokens)`` hears the text so far after each model call (a round: one sampled token
        plus the drafts it kept), not after each token: a few microseconds a round.

        ``stop(text)`` sees the same text after each round; when it returns a reason the decoding ends there with
        finish reason ``"runaway"`` (:mod:`text2pixi.engine.runaway`: repetition, time).
        """
        llm = self.llm
        grammar = self.sampler(gbnf) if gbnf is not None else None
        if grammar is not None:
            grammar.reset()
        rng = np.random.default_rng(seed)
        stats = DecodeStats(prompt_tokens=len(prompt_tokens))
        budget = min(max_tokens, llm.n_ctx() - len(prompt_tokens) - 1)

        t0 = time.perf_counter()
        stats.cached_tokens = self.prefill(prompt_tokens, max_reuse=max_reuse)
        rows = [self.logits()]
        drafts: list[int] = []
        out = bytearray()
        end = _JsonEnd()
        finish = "length"
        t_first: float | None = None
        done = budget <= 0
        round_start = time.perf_counter()
        while not done:
            # rows[j] predicts what follows the j-th token of the last batch; drafts[j] is the
            # proposal for that position (the batch's (j+1)-th token).
            for j, logits in enumerate(rows):
                token = self._choose(logits, grammar, temperature, rng, stats, sample_first)
                if t_first is None:
                    t_first = time.perf_counter()
                if grammar is not None:
                    grammar.accept(token)
                if forced is not None:
                    forced.advance(token)
                stats.output_tokens += 1
                kept = j < len(drafts) and token == drafts[j]
                stats.forced_tokens += kept
                if llama_cpp.llama_vocab_is_eog(llm._model.vocab, token):
                    finish, done = "stop", True
                else:
                    piece = llm.detokenize([token])
                    out += piece
                    if end.feed(piece):
                        finish, done = "stop", True
                    elif stats.output_tokens >= budget:
                        done = True
                if done or not kept:
                    # Forget the evaluated drafts after this position: the KV cache holds exactly
                    # the kept tokens (the last one too, if it was an evaluated draft).
                    llm.n_tokens -= len(drafts) - j - int(kept)
                    break
            now = time.perf_counter()
            if drafts:
                stats.draft_rounds += 1
                stats.draft_s += now - round_start
            elif t_first is not None and stats.output_tokens > 1:  # not the prompt's round
                stats.plain_rounds += 1
                stats.plain_s += now - round_start
            round_start = now
            if on_text is not None or stop is not None:
                # "ignore" drops an unfinished UTF-8 sequence at the end: each call's text extends the last one.
                so_far = out.decode("utf-8", errors="ignore")
                if on_text is not None:
                    on_text(so_far, stats.output_tokens)
                if not done and stop is not None and stop(so_far) is not None:
                    finish, done = "runaway", True
            if done:
                break
            draft = forced.draft(max_draft) if forced is not None and max_draft > 0 else []
            stats.drafted_tokens += len(draft)
            rows = self.eval_batch([token, *draft])
            drafts = draft
        t_end = time.perf_counter()
        stats.prefill_s = (t_first or t_end) - t0
        stats.decode_s = t_end - (t_first or t_end)
        text = out.decode("utf-8", errors="replace")
        log.debug("decoded %d tokens (%d forced, %d full passes), finish=%s", stats.output_tokens,
                  stats.forced_tokens, stats.full_passes, finish)
        return Decoded(text=text, finish_reason=finish, stats=stats)
