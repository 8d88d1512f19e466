"""The real engine on SmolLM2: plumbing, error paths, grammar, prefix cache, decoding equivalence."""

from __future__ import annotations

import json

import pytest

from text2pixi.core.errors import (
    EmptyPrompt,
    GenerationError,
    GenerationFailed,
    OutputTruncated,
    PromptTooLong,
    RunawayGeneration,
)
from text2pixi.core.prompt import EXAMPLES, build_messages
from text2pixi.core.scene import Scene, scene_json_schema
from text2pixi.engine import Engine
from text2pixi.engine.decoding import GrammarSampler
from text2pixi.engine.grammar import compact_gbnf

pytestmark = pytest.mark.model

PROMPTS = [
    "a red circle in the centre moves to the right",
    "three blue squares spinning in a row",
    "a green star fades out slowly",
    "the text Welcome grows bigger",
    "two yellow lines cross the stage",
]


def test_grammar_has_no_optional_whitespace() -> None:
    gbnf = compact_gbnf(scene_json_schema())
    assert 'space ::= ""' in gbnf.splitlines()
    assert '" "?' not in gbnf and "[ \\t\\n]" not in gbnf


@pytest.mark.parametrize("answer", [a for _, a in EXAMPLES])
def test_grammar_accepts_the_examples_token_by_token(small_engine: Engine, answer: str) -> None:
    sampler = GrammarSampler(small_engine.llm, compact_gbnf(scene_json_schema()))
    for token in small_engine.llm.tokenize(answer.encode(), add_bos=False):
        assert sampler.accepts(token), small_engine.llm.detokenize([token])
        sampler.accept(token)
    # the document is complete: only end-of-text may follow
    assert sampler.accepts(small_engine.llm.token_eos())


def test_grammar_rejects_whitespace_and_unknown_keys(small_engine: Engine) -> None:
    llm = small_engine.llm
    for text in ('{ "objects"', '{"objects": ', '{"background"', '{"objects":[{"type":"hexagon"',
                 '{"bg":"red","objects"'):
        sampler = GrammarSampler(llm, compact_gbnf(scene_json_schema()))
        ok = True
        for token in llm.tokenize(text.encode(), add_bos=False):
            if not sampler.accepts(token):
                ok = False
                break
            sampler.accept(token)
        assert not ok, text


def test_translate_returns_a_valid_scene_or_a_named_error(small_engine: Engine) -> None:
    outcomes = []
    for prompt in PROMPTS:
        try:
            result = small_engine.translate(prompt)
        except GenerationError as exc:
            assert exc.attempts >= 1
            assert str(exc) and "Traceback" not in str(exc)
            outcomes.append(type(exc).__name__)
            continue
        Scene.model_validate_json(result.scene_json)
        json.loads(result.scene_json)
        assert all(a.output_tokens > 0 for a in result.attempts)
        outcomes.append("ok")
    assert len(outcomes) == len(PROMPTS)


def test_truncated_output_is_a_named_error(small_engine: Engine) -> None:
    with pytest.raises(OutputTruncated, match="did not finish within 8 tokens") as info:
        small_engine.translate("a red ball", max_tokens=8)
    assert info.value.attempts == 1
    assert info.value.to_dict()["error"] == "output_truncated"


def test_prompt_checks_happen_before_any_model_time(small_engine: Engine) -> None:
    with pytest.raises(EmptyPrompt):
        small_engine.translate("   \n ")
    with pytest.raises(PromptTooLong, match="limit is 1000"):
        small_engine.translate("x" * 1001)


def test_never_valid_ends_in_generation_failed_with_attempts(small_settings) -> None:  # type: ignore[no-untyped-def]
    """A stage-bound violation the grammar cannot prevent: SmolLM2 cannot fix it when the stage is tiny."""
    engine = Engine(small_settings.model_copy(update={"max_retries": 1}))
    failures = 0
    for prompt in ["a huge red circle far to the right at x 5000", "a blue square at the very bottom, y 900"]:
        try:
            engine.translate(prompt)
        except GenerationError as exc:  # GenerationFailed, or RunawayGeneration when a re-ask repeats an id
            failures += 1
            assert exc.attempts == 2
            assert isinstance(exc, GenerationFailed | RunawayGeneration), exc
            assert str(exc).startswith("no valid scene after 2 attempts" if isinstance(exc, GenerationFailed)
                                       else "stopped after ")
            assert "input_value" not in str(exc) and "errors.pydantic.dev" not in str(exc)
            assert exc.last_output.startswith("{")
    assert failures >= 1


def test_system_prefix_is_reused_across_requests(small_engine: Engine) -> None:
    small_engine.prime()
    tokens = small_engine._tokens(build_messages("a white dot"))
    out = small_engine._decoder.generate(tokens, compact_gbnf(scene_json_schema()), max_tokens=50)
    assert out.stats.cached_tokens > 0.9 * out.stats.prompt_tokens


def test_fast_path_matches_the_full_mask_reference(small_engine: Engine) -> None:
    """Sample-first decoding at temperature 0 is token-for-token the full-vocabulary grammar path."""
    decoder = small_engine._decoder
    gbnf = compact_gbnf(scene_json_schema())
    small_engine.prime()
    keep = small_engine.prefix_tokens
    for prompt in PROMPTS:
        tokens = small_engine._tokens(build_messages(prompt))
        fast = decoder.generate(tokens, gbnf, max_tokens=300, max_reuse=keep)
        ref = decoder.generate(tokens, gbnf, max_tokens=300, sample_first=False, max_reuse=keep)
        assert fast.text == ref.text
        assert fast.finish_reason == ref.finish_reason
        assert fast.stats.full_passes < ref.stats.full_passes


def test_output_does_not_depend_on_what_ran_before(small_engine: Engine) -> None:
    """First attempts restart after the primed prefix, so greedy output ignores earlier requests."""
    small_engine.prime()
    decoder, gbnf, keep = small_engine._decoder, compact_gbnf(scene_json_schema()), small_engine.prefix_tokens
    target = small_engine._tokens(build_messages(PROMPTS[2]))
    first = decoder.generate(target, gbnf, max_tokens=200, max_reuse=keep)
    for other in PROMPTS[:2]:
        decoder.generate(small_engine._tokens(build_messages(other)), gbnf, max_tokens=100)
    again = decoder.generate(target, gbnf, max_tokens=200, max_reuse=keep)
    assert again.stats.cached_tokens == keep
    assert again.text == first.text


def test_decoder_stops_at_the_end_of_the_document(small_engine: Engine) -> None:
    """The loop ends on the closing brace: no end-of-text token is sampled, nothing follows the JSON."""
    tokens = small_engine._tokens(build_messages(PROMPTS[0]))
    out = small_engine._decoder.generate(tokens, compact_gbnf(scene_json_schema()), max_tokens=600)
    assert out.finish_reason == "stop"
    json.loads(out.text)
    assert out.text.endswith("}")
    assert out.stats.output_tokens == len(small_engine.llm.tokenize(out.text.encode(), add_bos=False))
