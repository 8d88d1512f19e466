"""Look-up drafts for refinements: propose the base scene's next tokens while the model copies it.

A refinement's output is mostly the base scene written again ("make the circle blue" changes one
value of a few hundred tokens). Prompt look-up decoding exploits that: when the last few tokens the
model wrote also occur in the base scene, the tokens that follow them there are a cheap guess for
what comes next. The decoder (``decoding.py``) evaluates a draft in one batch with the token before
it and keeps each drafted token only if the model's own pick at that position is that very token,
so the output is exactly what token-by-token decoding writes; drafts only save model calls.

The decoder takes its drafts from a :class:`text2pixi.engine.fastforward.Drafter`: usually the schema's
forced bytes (:class:`~text2pixi.engine.fastforward.ForcedText`, jump-forward). :class:`LookupDraft` is
another drafter that wraps the schema's tracker: forced bytes first (they are certain), the base
scene's continuation otherwise.
"""

from __future__ import annotations

from llama_cpp import Llama

from text2pixi.engine.fastforward import Drafter

NGRAM_SIZES = (4, 3, 2)
"""Longest match first: a 2-token tail such as ``":`` occurs everywhere, a 4-token one rarely."""
MAX_LOOKUP_DRAFT = 12
"""A refused draft still costs its share of a batch; a dozen tokens covers one object's run of keys."""


class LookupDraft:
    """Drafts from the schema's forced text, else from the reference (base scene) tokens.

    A :class:`~text2pixi.engine.fastforward.Drafter`; the schema part is delegated to ``inner`` (``None``
    when the fast decoder is off).
    """

    def __init__(self, llm: Llama, reference: str, inner: Drafter | None) -> None:  # noqa: D107
        self._inner = inner
        self._reference = llm.tokenize(reference.encode("utf-8"), add_bos=False, special=False)
        self._index: dict[tuple[int, ...], list[int]] = {}
        for n in NGRAM_SIZES:
            for end in range(n, len(self._reference)):
                self._index.setdefault(tuple(self._reference[end - n:end]), []).append(end)
        self._written: list[int] = []
        self._cursor = 0  # where the last used match ended: the copy usually moves forward
        self.proposed = 0

    def advance(self, token: int) -> None:
        self._written.append(token)
        if self._inner is not None:
            self._inner.advance(token)

    def draft(self, limit: int) -> list[int]:
        if limit <= 0:
            return []
        forced = self._inner.draft(limit) if self._inner is not None else []
        if forced:
            return forced
        for n in NGRAM_SIZES:
            if len(self._written) < n:
                continue
            ends = self._index.get(tuple(self._written[-n:]))
            if not ends:
                continue
            # The first occurrence at or after the cursor (the copy advances), else the first one.
            end = next((e for e in ends if e >= self._cursor), ends[0])
            self._cursor = end
            proposal = self._reference[end:end + min(limit, MAX_LOOKUP_DRAFT)]
            self.proposed += len(proposal)
            return proposal
        return []
