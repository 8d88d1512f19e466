"""KV checkpoints: saved llama.cpp states of evaluated token sequences, restored instead of re-evaluated.

A refinement's prompt carries the whole base scene, a few hundred tokens that a fresh request does not
have to evaluate. The engine splits that prompt at a fixed point (after the base scene, before the
instruction) and evaluates the head always the same way, as one call after the primed system prefix;
the state after the head is kept here, keyed by its tokens. Restoring it is a memory copy, and since the
copy holds exactly the KV that evaluating the head computes, a restored refinement writes the same scene
as one evaluated from scratch: a checkpoint changes the speed, never the output.

The worker fills the cache ahead of time: after a job, while it has nothing queued, it evaluates the
head of a refinement of the scene it just wrote (``Engine.prepare_refinement``), so a user's "make it
slower" starts after the base scene instead of before it.
"""

from __future__ import annotations

import ctypes
from collections import OrderedDict
from collections.abc import Sequence

import llama_cpp
from llama_cpp import Llama

SEQ_ID = 0
"""The one sequence the engine decodes on."""


class Checkpoints:
    """A bounded LRU of KV states of one :class:`~llama_cpp.Llama`, keyed by the tokens they hold.

    A state is the KV cells of the sequence, without logits (the call after a restore makes them). Not
    thread-safe: callers hold the engine's lock. ``capacity`` 0 keeps nothing.
    """

    def __init__(self, llm: Llama, capacity: int) -> None:  # noqa: D107
        self._llm = llm
        self.capacity = capacity
        self._states: OrderedDict[tuple[int, ...], bytes] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def __contains__(self, tokens: Sequence[int]) -> bool:
        return tuple(tokens) in self._states

    def __len__(self) -> int:
        return len(self._states)

    @property
    def nbytes(self) -> int:
        return sum(len(data) for data in self._states.values())

    def clear(self) -> None:
        """Drop every checkpoint (benchmarks measure the cold path with it)."""
        self._states.clear()

    def save(self, tokens: Sequence[int]) -> None:
        """Keep the model's current KV state, which must hold exactly ``tokens`` (and nothing after)."""
        llm = self._llm
        if self.capacity <= 0:
            return
        if llm.n_tokens != len(tokens) or list(llm.input_ids[: llm.n_tokens]) != list(tokens):
            raise ValueError("the model's KV cache does not hold exactly these tokens")
        ctx = llm._ctx.ctx
        size = llama_cpp.llama_state_seq_get_size(ctx, SEQ_ID)
        buffer = (ctypes.c_uint8 * size)()
        written = llama_cpp.llama_state_seq_get_data(ctx, buffer, size, SEQ_ID)
        if written == 0 or written > size:
            raise RuntimeError(f"llama_state_seq_get_data wrote {written} of {size} bytes")
        key = tuple(tokens)
        self._states[key] = ctypes.string_at(buffer, written)
        self._states.move_to_end(key)
        while len(self._states) > self.capacity:
            self._states.popitem(last=False)

    def restore(self, tokens: Sequence[int]) -> bool:
        """Load the state saved for exactly ``tokens``; False (and the model untouched) if there is none."""
        key = tuple(tokens)
        data = self._states.get(key)
        if data is None:
            self.misses += 1
            return False
        self._states.move_to_end(key)
        self.hits += 1
        llm = self._llm
        ctx = llm._ctx.ctx
        llm._ctx.kv_cache_seq_rm(SEQ_ID, 0, -1)
        buffer = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
        read = llama_cpp.llama_state_seq_set_data(ctx, buffer, len(data), SEQ_ID)
        if read != len(data):
            llm.n_tokens = 0  # the cache is in an unknown state: make the next call evaluate everything
            raise RuntimeError(f"llama_state_seq_set_data read {read} of {len(data)} bytes")
        llm.input_ids[: len(key)] = key
        llm.n_tokens = len(key)
        return True
