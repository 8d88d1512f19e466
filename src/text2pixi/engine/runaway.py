"""Bounds on one generation: a token budget from the scene's size, and a stop when the model repeats itself.

A runaway (the same object written again and again until the grammar's item limit) used to run into the job
timeout, and RQ then re-ran the same deterministic runaway. Three bounds stop it early, for every backend:

- **budget**: the output tokens one attempt may take, from the size the sentence asks for (the copies it
  counts, with a generous floor) or, for a refinement, from the base scene's own length plus a margin. It is
  the attempt's ``max_tokens`` (:class:`~text2pixi.core.errors.OutputTruncated` when passed).
- **repetition** (:class:`RepetitionGuard`): an object that repeats an earlier object's id (the scene can never
  validate), the same array element written more often than the copies asked for, or near copies (only
  numbers differ) past them. Checked on the text as it is decoded: the stop comes as that element closes.
- **time**: the generation as a whole ends by :data:`TIME_SHARE` of the job timeout, re-asks included, so a
  job ends with its reason before RQ's timeout kills it.

A stop raises :class:`~text2pixi.core.errors.RunawayGeneration`; :func:`ask_bounded` re-asks once with its
reason when attempts remain and the stop was not the time bound (a re-ask samples at ``retry_temperature``, so
it does not replay the greedy loop); the re-ask is one of the ``max_retries``, never an extra attempt.

Figures (default model, ``docs/eval-qwen.json``): a v1 scene costs 48-91 output tokens for one object, 363
for five circles with animations and 378 for six stars with animations (the largest legitimate scene of the
eval), about 64 tokens per object and animation pair.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from text2pixi.core.edit_words import NUMBER_WORDS
from text2pixi.core.errors import GenerationError, RunawayGeneration
from text2pixi.core.progress import CLOSE, INSIDE, OPEN, JsonStrings

FLOOR_TOKENS = 384
"""Budget of a fresh scene that counts nothing: 4x the largest one- or two-object scene of the eval (91)."""
PER_COPY_TOKENS = 64
"""Budget per copy the sentence asks for: one v1 object plus its animation (six stars: 378 tokens)."""
REFINE_MARGIN_TOKENS = 192
"""A refinement's budget beyond the base scene's own tokens (at least; a quarter of the base when larger)."""
V2_FLOOR_TOKENS = 192
"""Budget of a fresh v2 scene that counts nothing: 2.5x the longest one-sentence example of docs/scene-v2.md (75)."""
V2_PER_COPY_TOKENS = 24
"""Budget per copy in v2, where copies are usually one item's ``n``: one more item with a place and a step."""
V2_PATCH_TOKENS = 128
"""Least budget of a v2 refinement's patch (at least half the base source's tokens): patches write only the change."""
VAGUE_COPIES = 8
"""Copies assumed for "stars", "a grid of dots", "several": a plural without a number."""
MAX_COPIES = 32
CHARS_PER_TOKEN = 2.0
"""Estimate for compact scene JSON when no tokenizer is at hand (measured 2.3-2.4 on the default model):
lower than measured, so the estimate of a base scene's tokens errs on the generous side."""
TIME_SHARE = 0.75
"""Share of the job timeout the generation of one scene may take (re-asks included); the rest renders and stores."""
EXACT_REPEATS = 3
"""Identical elements of one array allowed (when the sentence asks for fewer copies): "blink, wait, blink"."""
NEAR_SLACK = 2
"""Near copies allowed beyond the copies asked for (a model adds a shadow or a second row)."""

_NUMBER_WORDS = NUMBER_WORDS | {
    "twenty": 20, "pair": 2, "couple": 2, "dozen": 12,
    # The eval's other languages: French, Spanish, German, Italian, Portuguese.
    "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "dix": 10, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5,
    "seis": 6, "diez": 10, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "zehn": 10, "due": 2,
    "tre": 3, "quattro": 4, "cinque": 5, "dieci": 10, "duas": 2, "três": 3,
}
_VAGUE = re.compile(r"\b(several|many|some|few|lots|multiple|bunch|grid|rows?|columns?|ring|circle of|"
                    r"scattered|crowd|field of|sky full|confetti|particles|snow|rain|stars|dots|bubbles)\b")
_MEASURE = re.compile(r"\b\d+(?:\.\d+)?\s*(?:%|°|x\b|px|pixels?|s\b|secs?|seconds?|ms|degrees?|deg|times|"
                      r"turns?|fps|percent)")
"""Numbers that measure (durations, angles, distances, repeats) rather than count shapes."""
_GRID = re.compile(r"\b(\d{1,2})\s*(?:x|×|by)\s*(\d{1,2})\b")
_DIGITS = re.compile(r"-?\d+(?:\.\d+)?")
_LIST_KEYS = frozenset({"objects", "items"})
"""Arrays of scene objects: their elements carry ids and their copies are what a runaway repeats."""


def asked_copies(text: str) -> int:
    """How many shapes the sentence asks for, generously: counts summed (or multiplied, "two rows of four"),
    a grid's cells, :data:`VAGUE_COPIES` for a plural without a number; 0 when it counts nothing."""
    lower = text.lower()
    counts: list[int] = []
    for a, b in _GRID.findall(lower):
        counts.append(int(a) * int(b))
    lower = _MEASURE.sub(" ", _GRID.sub(" ", lower))
    counts += [int(n) for n in re.findall(r"\b\d{1,3}\b", lower) if int(n) >= 2]
    counts += [_NUMBER_WORDS[w] for w in re.findall(r"[^\W\d_]+", lower) if w in _NUMBER_WORDS]
    asked = max(sum(counts), math.prod(counts)) if len(counts) > 1 else sum(counts)
    if _VAGUE.search(lower):
        asked = max(asked, VAGUE_COPIES)
    return min(asked, MAX_COPIES)


def fresh_budget(prompt: str, cap: int, language: str = "v1") -> int:
    """Output tokens one attempt at a new scene may take: the floor plus the copies asked for, within ``cap``."""
    if language == "v2":
        return min(cap, V2_FLOOR_TOKENS + V2_PER_COPY_TOKENS * asked_copies(prompt))
    return min(cap, FLOOR_TOKENS + PER_COPY_TOKENS * asked_copies(prompt))


def refine_budget(instruction: str, base_tokens: int, cap: int, language: str = "v1") -> int:
    """Output tokens one attempt at a refinement may take: the base scene again, a margin, and what is added;
    in v2 a patch: at least :data:`V2_PATCH_TOKENS` or half the base source, and what is added."""
    if language == "v2":
        return min(cap, max(V2_PATCH_TOKENS, base_tokens // 2) + V2_PER_COPY_TOKENS * asked_copies(instruction))
    margin = max(REFINE_MARGIN_TOKENS, base_tokens // 4)
    return min(cap, base_tokens + margin + PER_COPY_TOKENS * asked_copies(instruction))


def estimate_tokens(text: str) -> int:
    """Tokens of compact JSON ``text`` without a tokenizer (an over-estimate: :data:`CHARS_PER_TOKEN`)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


@dataclass
class _Frame:
    """One open JSON container while scanning: where it starts, its key, and what its elements were."""

    kind: str  # "{" or "["
    start: int
    key: str | None
    exact: Counter[str] = field(default_factory=Counter)
    near: Counter[str] = field(default_factory=Counter)
    ids: set[str] = field(default_factory=set)


class RepetitionGuard:
    """Watches the reply as it grows and names the first repetition a valid scene cannot contain.

    ``copies`` is what the request asks for (:func:`asked_copies`, plus a refinement's base objects): up to
    that many identical or near-identical elements are legitimate ("three blue squares" writes three squares
    that differ only in their numbers). A repeated object id is never legitimate. Feed it the text so far,
    any number of times; it scans each character once.
    """

    def __init__(self, copies: int) -> None:
        self.copies = copies
        self.exact_limit = max(EXACT_REPEATS, copies)
        self.near_limit = max(copies, 2) + NEAR_SLACK
        self._text = ""
        self._stack: list[_Frame] = []
        self._strings = JsonStrings()
        self._string_start = 0
        self._last_string: str | None = None  # the last complete string: a key when a ":" follows
        self._key: str | None = None
        self.reason: str | None = None
        self.rule: str | None = None

    def feed(self, text: str) -> str | None:
        """Scan what ``text`` adds to the text seen so far; returns the reason to stop, once there is one."""
        if self.reason is not None:
            return self.reason
        start = len(self._text)
        self._text = text
        for i in range(start, len(text)):
            ch = text[i]
            kind = self._strings.step(ch)
            if kind == INSIDE:
                continue
            if kind == CLOSE:
                self._last_string = text[self._string_start:i]
            elif kind == OPEN:
                self._string_start = i + 1
            elif ch == ":":
                self._key = self._last_string
            elif ch in "{[":
                self._stack.append(_Frame(ch, i, self._key))
                self._key = None
            elif ch in "}]" and self._stack:
                frame = self._stack.pop()
                self._key = None
                if frame.kind == "{" and self._stack and self._stack[-1].kind == "[":
                    self._element(self._stack[-1], text[frame.start:i + 1])
                    if self.reason is not None:
                        return self.reason
        return None

    def _element(self, array: _Frame, element: str) -> None:
        """Check one complete object inside an array against its siblings."""
        where = array.key or "array"
        try:
            value: Any = json.loads(element)
        except ValueError:
            return
        ident = value.get("id") if isinstance(value, dict) else None
        if array.key in _LIST_KEYS and isinstance(ident, str):
            if ident in array.ids:
                self._stop("repeated_id", f"the reply wrote a second {where[:-1]} with id {ident!r}; ids must be "
                           f"unique, so the scene could never be valid: write each {where[:-1]} once")
                return
            array.ids.add(ident)
        array.exact[element] += 1
        if array.exact[element] > self.exact_limit:
            self._stop("repeated_element", f"the reply wrote the same {where} element {array.exact[element]} times "
                       f"({_short(element)}); write it once" + self._asked())
            return
        if array.key in _LIST_KEYS and isinstance(value, dict):
            shape = _DIGITS.sub("#", json.dumps({k: v for k, v in value.items() if k != "id"}, sort_keys=True))
            array.near[shape] += 1
            if array.near[shape] > self.near_limit:
                self._stop("near_copies", f"the reply wrote {array.near[shape]} {where} that differ only in their "
                           f"numbers ({_short(element)})" + self._asked())

    def _asked(self) -> str:
        return f", the request asks for about {self.copies}" if self.copies else ", the request asks for one of each"

    def _stop(self, rule: str, reason: str) -> None:
        self.rule, self.reason = rule, reason


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class Bounds:
    """The bounds of one translate call: its token budget per attempt, its copies and its deadline."""

    budget: int
    copies: int
    deadline: float  # a time.monotonic() value

    @classmethod
    def of(cls, prompt: str, *, cap: int, job_timeout: float, base_tokens: int | None = None,
           base_objects: int = 0, language: str = "v1") -> Bounds:
        """The bounds for a new scene from ``prompt``, or for a refinement of a base of ``base_tokens`` tokens
        (in ``language``: v2 scenes and patches are shorter, and so are their budgets)."""
        copies = asked_copies(prompt)
        if base_tokens is None:
            budget = fresh_budget(prompt, cap, language)
        else:
            budget = refine_budget(prompt, base_tokens, cap, language)
            copies += base_objects
        return cls(budget=budget, copies=min(copies, MAX_COPIES),
                   deadline=time.monotonic() + TIME_SHARE * job_timeout)

    def guard(self) -> AttemptGuard:
        """A fresh stop check for one attempt."""
        return AttemptGuard(self)


class AttemptGuard:
    """The stop check of one attempt: call it with the reply so far; it returns the reason to stop, or None."""

    def __init__(self, bounds: Bounds) -> None:
        self.bounds = bounds
        self._repeats = RepetitionGuard(bounds.copies)
        self.rule: str | None = None
        self.reason: str | None = None

    def __call__(self, text: str) -> str | None:
        if self.reason is None:
            reason = self._repeats.feed(text)
            if reason is not None:
                self.rule, self.reason = self._repeats.rule, reason
            elif time.monotonic() > self.bounds.deadline:
                self.rule, self.reason = "time", "the generation ran past its time budget"
        return self.reason

    def error(self, *, tokens: int, attempts: int, text: str) -> RunawayGeneration:
        """The named error of this stop, worded for the user (and for a re-ask)."""
        return RunawayGeneration(f"stopped after {tokens} tokens: {self.reason}", rule=self.rule or "time",
                                 attempts=attempts, last_output=text)


T = TypeVar("T")

REASK = "Your reply was {reason}. Write the whole scene again as one JSON document."


def ask_bounded(ask: Callable[[list[dict[str, Any]], int, int], T], messages: list[dict[str, Any]], *,
                max_retries: int, attempts: Callable[[], int]) -> T:
    """``ask(messages, max_retries, offset)`` once, and once more after a repetition stop when attempts remain.

    The second call carries the stopped reply and its reason (as instructor's own re-asks do) and the re-asks
    left, so a job makes at most ``1 + max_retries`` attempts in all; ``offset`` is the attempts made before
    it. A time stop, or a stop on the last attempt, raises :class:`RunawayGeneration` at once.
    """
    try:
        return ask(messages, max_retries, 0)
    except RunawayGeneration as exc:
        used = attempts()
        if exc.rule == "time" or used > max_retries:
            raise
        reask = [*messages, {"role": "assistant", "content": exc.last_output},
                 {"role": "user", "content": REASK.format(reason=str(exc))}]
        try:
            return ask(reask, max_retries - used, used)
        except GenerationError as again:  # counted from the re-ask: count the whole request's attempts
            again.attempts = attempts()
            message = re.sub(r"after \d+ attempts", f"after {again.attempts} attempts", str(again), count=1)
            again.args = (f"{message} (attempt {used} was {exc})",)
            raise
