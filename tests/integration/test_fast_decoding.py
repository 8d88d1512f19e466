"""The fast decoder (sample first + forced tokens in batches) against the reference grammar path.

The reference masks the whole vocabulary with llama.cpp's grammar at every step, as
llama-cpp-python's own ``response_format`` path does. At temperature 0 the fast path must produce
exactly the same document; a fast path that changes output is a bug, not a trade-off.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from text2pixi import registry
from text2pixi.core.prompt import build_messages
from text2pixi.core.scene import scene_json_schema
from text2pixi.core.v2.prompt import build_v2_messages
from text2pixi.engine.fastforward import ordered_schema
from text2pixi.engine.grammar import compact_gbnf
from text2pixi.engine.replies import grammar_schema

PROMPTS_FILE = Path(__file__).resolve().parents[2] / "bench" / "prompts.txt"
PROMPTS = [p for p in (line.strip() for line in PROMPTS_FILE.read_text().splitlines()) if p and not p.startswith("#")]


@pytest.fixture(scope="module")
def one_thread_engine(small_settings):
    """SmolLM2 on one thread: the output does not depend on threads, and one thread never waits for another
    (two threads on a busy host spend most of their time in llama.cpp's barriers)."""
    from text2pixi.engine import Engine

    return Engine(small_settings.model_copy(update={"n_threads": 1}))


def _decode_both(engine, prompt: str, max_tokens: int):
    """Both decoders on ``prompt`` in the engine's language (its primed prefix is that language's)."""
    v2 = engine.language == "v2"
    schema = grammar_schema() if v2 else scene_json_schema()
    gbnf = compact_gbnf(schema)
    if not engine.prefix_tokens:
        engine.prime()
    tokens = engine._tokens(build_v2_messages(prompt) if v2 else build_messages(prompt))
    decoder = engine._decoder
    reference = decoder.generate(tokens, gbnf, max_tokens=max_tokens, sample_first=False,
                                 max_reuse=engine.prefix_tokens)
    forced = engine._fast_forward.start(schema)
    fast = decoder.generate(tokens, gbnf, max_tokens=max_tokens, forced=forced, max_draft=engine.max_draft,
                            max_reuse=engine.prefix_tokens)
    return reference, fast, forced


def test_ordered_schema_puts_required_properties_first():
    schema = {"type": "object", "properties": {"a": {}, "b": {}, "c": {"type": "object", "properties": {
        "x": {}, "y": {}}, "required": ["y"]}}, "required": ["c", "b"]}
    out = ordered_schema(schema)
    assert list(out["properties"]) == ["b", "c", "a"]
    assert list(out["properties"]["c"]["properties"]) == ["y", "x"]
    assert list(schema["properties"]) == ["a", "b", "c"]  # the input is left alone


@pytest.mark.model
def test_forced_drafts_spell_the_schema_dictated_text(small_engine):
    """Fed a valid scene token by token, every draft is a continuation of the remaining text."""
    doc = json.dumps({"objects": [{"type": "circle", "id": "ball", "x": 100, "y": 200, "r": 30}],
                      "anims": [{"type": "move", "target": "ball", "x": 500, "y": 200}]}, separators=(",", ":"))
    llm = small_engine.llm
    tokens = llm.tokenize(doc.encode(), add_bos=False, special=False)
    forced = small_engine._fast_forward.start(scene_json_schema())
    assert forced is not None
    drafted = 0
    for i, token in enumerate(tokens):
        draft = forced.draft(16)
        done = llm.detokenize(tokens[:i]).decode()
        assert doc.startswith(done + llm.detokenize(draft).decode()), (done, draft)
        drafted += len(draft)
        forced.advance(token)
    assert forced.in_sync
    assert drafted >= 10  # keys, '":', '","' and brackets are forced in this document
    assert forced.draft(16) == []  # the document is complete: nothing more is forced


@pytest.mark.model
def test_fast_path_equals_reference_on_the_prompt_set(one_thread_engine):
    """At temperature 0 the fast path writes exactly the reference's document, on >= 30 prompts."""
    assert len(PROMPTS) >= 30
    forced_total = output_total = 0
    different = []
    for prompt in PROMPTS:
        reference, fast, forced = _decode_both(one_thread_engine, prompt, max_tokens=64)
        if fast.text != reference.text or fast.finish_reason != reference.finish_reason:
            different.append((prompt, reference.text, fast.text))
        assert forced is not None and forced.in_sync, prompt
        stats = fast.stats
        assert stats.forced_tokens + stats.sampled_tokens == stats.output_tokens
        assert stats.forced_tokens <= stats.drafted_tokens
        forced_total += stats.forced_tokens
        output_total += stats.output_tokens
    assert not different, different[:3]
    # The fast path really fast-forwards: a good share of a scene document is dictated by the schema.
    assert forced_total >= 0.2 * output_total, (forced_total, output_total)


def _qwen(language: str):
    """Qwen on one thread, as each worker of the default 2 x 1-thread stack runs it, primed for ``language``."""
    from text2pixi.engine import Engine
    from text2pixi.settings import Settings

    engine = Engine(Settings(model=registry.DEFAULT_MODEL, n_threads=1, max_retries=1, scene_language=language))
    engine.prime()
    return engine


@pytest.fixture(scope="module")
def one_thread_qwen():
    return _qwen("v1")


@pytest.mark.slow
def test_fast_path_equals_reference_on_the_default_model(one_thread_qwen):
    """Qwen's Q4_K weights switch to other matmul kernels from 4 rows; the measured cap keeps drafts below."""
    assert one_thread_qwen.exact_batch is not None and one_thread_qwen.max_draft >= 1
    for prompt in PROMPTS[:3]:
        reference, fast, _ = _decode_both(one_thread_qwen, prompt, max_tokens=400)
        assert fast.text == reference.text, prompt
        assert fast.finish_reason == reference.finish_reason == "stop"
        assert fast.stats.forced_tokens > 0
        assert fast.stats.plain_rounds + fast.stats.draft_rounds < fast.stats.output_tokens  # fewer model calls


@pytest.mark.slow
def test_fast_path_equals_reference_under_the_v2_grammar():
    """The default language: the v2 grammar (its keys in the language's order, ``anyOf`` unions) forces
    tokens that llguidance and llama.cpp's grammar agree on, so the fast path stays exact and in sync."""
    engine = _qwen("v2")
    forced_total = 0
    for prompt in PROMPTS[:6]:
        reference, fast, forced = _decode_both(engine, prompt, max_tokens=200)
        assert fast.text == reference.text, prompt
        assert fast.finish_reason == reference.finish_reason == "stop"
        assert forced is not None and forced.in_sync, prompt
        forced_total += fast.stats.forced_tokens
    assert forced_total > 0


@pytest.mark.model
def test_the_exact_batch_is_measured_and_bounds_the_drafts(small_engine):
    """Whatever the threads give (two threads split single-token attention, so often no drafts at all),
    the fast path still writes the reference's document, and never drafts past the measured batch."""
    if not small_engine.prefix_tokens:
        small_engine.prime()
    assert small_engine.exact_batch is not None and 1 <= small_engine.exact_batch <= small_engine.settings.max_draft + 1
    assert small_engine.max_draft == min(small_engine.settings.max_draft, small_engine.exact_batch - 1)
    for prompt in PROMPTS[:2]:
        reference, fast, _ = _decode_both(small_engine, prompt, max_tokens=48)
        assert fast.text == reference.text, prompt
        if small_engine.max_draft == 0:
            assert fast.stats.drafted_tokens == 0


@pytest.mark.model
def test_largest_exact_batch_returns_a_batch_that_is_exact(one_thread_engine):
    """The contract, checked from outside: batches up to the answer give one-token logits bit for bit,
    and the KV cache is left where it was."""
    import numpy as np

    from text2pixi.engine.invariance import PROBE_TEXT, largest_exact_batch

    engine = one_thread_engine
    if not engine.prefix_tokens:
        engine.prime()
    llm, decoder = engine.llm, engine._decoder
    start = llm.n_tokens
    exact = largest_exact_batch(decoder, 6)
    assert llm.n_tokens == start
    probe = llm.tokenize(PROBE_TEXT.encode(), add_bos=False)[:exact]
    singles = [decoder.eval_batch([t])[0].copy() for t in probe]
    llm.n_tokens = start
    batch = [row.copy() for row in decoder.eval_batch(probe)]
    llm.n_tokens = start
    assert all(np.array_equal(a, b) for a, b in zip(singles, batch, strict=True))
