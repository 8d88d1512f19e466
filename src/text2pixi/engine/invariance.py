"""How many tokens one model call may hold while every logit stays what one-token calls give.

The fast decoder verifies schema-forced drafts in one batch with the token before them, and it must
write exactly what the one-token-at-a-time loop writes. llama.cpp switches matmul kernels with the
number of rows in a batch, and the kernels round differently: on this x86 build the CPU_REPACK gemm
takes over Q4_K/Q4_0 weights from 4 rows and the tiled K-quant matmul (unrepacked weights) from 8;
flash attention splits the KV range across threads for single tokens only. Which sizes are safe
therefore depends on the model's quant types, the thread count and the llama.cpp build, so it is
measured on the loaded model rather than assumed: :func:`largest_exact_batch` evaluates a probe
document token by token, then in growing batches, and returns the largest batch whose logits are
bit-identical row for row. Drafts are capped one below it (a batch is the sampled token plus drafts).
"""

from __future__ import annotations

import logging
import time

import numpy as np

from text2pixi.engine.decoding import ConstrainedDecoder

log = logging.getLogger(__name__)

# A scene document in the compact form the grammar produces: the probe runs on the kind of text
# the decoder verifies, right after the primed system prefix (so at the production KV length).
PROBE_TEXT = (
    '{"background":"#101020","objects":[{"type":"rect","id":"box","x":120,"y":200,"w":80,"h":80,'
    '"color":"#3366ff"}],"anims":[{"type":"rotate","target":"box","turns":1,"duration":2}]}'
)


def largest_exact_batch(decoder: ConstrainedDecoder, limit: int) -> int:
    """The largest batch size ``b <= limit`` such that batches of 1..b give one-token logits exactly.

    Runs from the model's current position (callers prime the system prefix first) and leaves the
    KV cache at that position. Returns 1 when even two rows differ: the decoder then drafts nothing.
    """
    llm = decoder.llm
    start = llm.n_tokens
    probe = llm.tokenize(PROBE_TEXT.encode("utf-8"), add_bos=False, special=False)[:limit]
    t0 = time.perf_counter()
    try:
        single = [decoder.eval_batch([token])[0].copy() for token in probe]
        exact = 1
        for size in range(2, len(probe) + 1):
            llm.n_tokens = start
            rows = decoder.eval_batch(probe[:size])
            if not all(np.array_equal(row, one) for row, one in zip(rows, single, strict=False)):
                break
            exact = size
    finally:
        llm.n_tokens = start
        llm._ctx.kv_cache_seq_rm(-1, start, -1)
    log.info("batches of up to %d tokens give one-token logits exactly (probe took %.1f s)", exact,
             time.perf_counter() - t0)
    return exact
