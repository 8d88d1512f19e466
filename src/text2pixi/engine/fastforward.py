"""Forced continuations of a JSON-schema document (jump-forward), from llguidance.

With a fixed key order and no optional whitespace, much of a scene document is dictated by the
schema, not chosen by the model: the keys, ``":``, ``,"``, closing brackets, the tail of an enum
value once its prefix is unique. llguidance tracks the document against the schema token by token
and tells which bytes are forced next; :class:`ForcedText` turns them into draft tokens that the
decoder evaluates together as one batch instead of one model call per token.

This module only *proposes* tokens. llama.cpp's grammar (``grammar.py``) stays the authority on
what is allowed, and the decoder verifies every draft token against the model's own pick at that
position before keeping it, so the output is the one the token-by-token loop would produce: a
forced text may have several tokenizations, and the model, not the tokenizer, decides which one
it writes.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any, Protocol

import llguidance
import llguidance.llamacpp
from llama_cpp import Llama

log = logging.getLogger(__name__)


def ordered_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with each object's required properties first, as llama.cpp's converter orders them.

    llama.cpp's GBNF lists required properties before optional ones; llguidance keeps the
    ``properties`` order. Reordering makes both describe the same documents.
    """

    def visit(node: Any) -> Any:
        if isinstance(node, list):
            return [visit(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {key: visit(value) for key, value in node.items()}
        props = out.get("properties")
        if isinstance(props, dict):
            required = [key for key in props if key in set(out.get("required", []))]
            optional = [key for key in props if key not in required]
            out["properties"] = {key: props[key] for key in required + optional}
        return out

    result = visit(schema)
    assert isinstance(result, dict)
    return result


class Drafter(Protocol):
    """What the decoder asks of a draft source: told each kept token, asked for the next guesses."""

    def advance(self, token: int) -> None: ...

    def draft(self, limit: int) -> list[int]: ...


class ForcedText:
    """Tracks one document being decoded and proposes the tokens the schema forces next."""

    def __init__(self, matcher: llguidance.LLMatcher, llm: Llama) -> None:
        self._matcher = matcher
        self._llm = llm
        self.in_sync = True  # False once the document left what llguidance's grammar admits

    def advance(self, token: int) -> None:
        """Record the token the decoder kept."""
        if self.in_sync and not self._matcher.consume_token(token):
            # A difference between the two grammars: drafting stops for this document (the
            # decoder's output is unaffected, it just loses the speed-up).
            log.warning("fast-forward lost sync with the grammar: %s", self._matcher.get_error())
            self.in_sync = False

    def draft(self, limit: int) -> list[int]:
        """Up to ``limit`` tokens spelling the bytes the schema forces from here (maybe none).

        The forced bytes are tokenized as the model's tokenizer would write them fresh; where the
        model would split them differently, the decoder's verification drops the rest.
        """
        if not self.in_sync or limit <= 0:
            return []
        forced = self._matcher.compute_ff_bytes()
        if not forced:
            return []
        return self._llm.tokenize(forced, add_bos=False, special=False)[:limit]


class FastForward:
    """llguidance's view of one model's vocabulary plus compiled schemas; build once per model."""

    def __init__(self, llm: Llama) -> None:
        self._llm = llm
        self._tokenizer = llguidance.llamacpp.lltokenizer_from_vocab(llm._model.vocab)
        self._grammars: dict[str, str] = {}
        self._lock = threading.Lock()

    def start(self, schema: dict[str, Any]) -> ForcedText | None:
        """A fresh tracker for one document of ``schema``, or None if llguidance cannot compile it."""
        key = json.dumps(schema, sort_keys=True)
        with self._lock:
            grammar = self._grammars.get(key)
            if grammar is None:
                grammar = llguidance.LLMatcher.grammar_from_json_schema(
                    ordered_schema(schema), defaults={"whitespace_flexible": False}
                )
                self._grammars[key] = grammar
        matcher = llguidance.LLMatcher(self._tokenizer, grammar, log_level=0)
        if matcher.is_error():
            log.warning("fast-forward disabled for this schema: %s", matcher.get_error())
            return None
        return ForcedText(matcher, self._llm)
