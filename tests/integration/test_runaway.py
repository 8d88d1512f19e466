"""A runaway on the real small model (SmolLM2) stops early with its named error (engine/runaway.py).

At temperature 0 SmolLM2 answers "four yellow stars" with the same object, id and all, until the grammar's
limit of 16; unbounded that attempt takes 600 tokens and fails validation at the end.
"""

from __future__ import annotations

import pytest

from text2pixi.core.errors import GenerationFailed, RunawayGeneration
from text2pixi.settings import Settings

RUNAWAY_PROMPT = "four yellow stars"


@pytest.mark.model
def test_a_runaway_stops_at_its_second_object(small_settings: Settings) -> None:
    from text2pixi.engine import Engine

    engine = Engine(small_settings.model_copy(update={"max_retries": 0}))
    with pytest.raises(RunawayGeneration) as caught:
        engine.translate(RUNAWAY_PROMPT)
    error = caught.value
    assert (error.code, error.rule, error.attempts) == ("runaway_generation", "repeated_id", 1)
    assert "a second object with id" in str(error)
    [stopped] = engine.last_attempts
    assert stopped.finish_reason == "runaway" and stopped.error is not None
    assert error.last_output.count('"id"') == 2  # stopped as the second object closed

    engine.bounded = False  # the same request as before this bound: the whole runaway, then a failed validation
    with pytest.raises(GenerationFailed):
        engine.translate(RUNAWAY_PROMPT)
    [whole] = engine.last_attempts
    assert whole.finish_reason == "stop"
    assert whole.output_tokens > 5 * stopped.output_tokens
    print(f"\nrunaway: {whole.output_tokens} tokens / {whole.decode_s:.1f} s unbounded, "
          f"{stopped.output_tokens} tokens / {stopped.decode_s:.1f} s stopped")


@pytest.mark.model
def test_a_tiny_budget_ends_the_attempt_as_truncated(small_settings: Settings) -> None:
    """The budget is each attempt's max_tokens: a request's own max_tokens lowers it, never raises it."""
    from text2pixi.core.errors import OutputTruncated
    from text2pixi.engine import Engine

    engine = Engine(small_settings.model_copy(update={"max_retries": 0}))
    with pytest.raises(OutputTruncated, match="within 24 tokens"):
        engine.translate("a red circle", max_tokens=24)
    assert [a.output_tokens for a in engine.last_attempts] == [24]


@pytest.mark.model
def test_the_openai_backend_stops_a_streamed_runaway(tmp_path_factory: pytest.TempPathFactory,
                                                     small_settings: Settings) -> None:
    """Through a real llama-server: the stream is closed at the repeated id, with the same named error."""
    from tests.backends import LlamaServer
    from text2pixi import registry
    from text2pixi.engine import OpenAIBackend

    server = LlamaServer(tmp_path_factory.mktemp("llama-server")).start()
    try:
        backend = OpenAIBackend(small_settings.model_copy(update={
            "backend": "openai", "openai_base_url": server.url, "openai_model": registry.SMALL_MODEL,
            "openai_timeout": 300.0, "max_retries": 0}))
        with pytest.raises(RunawayGeneration) as caught:
            backend.translate("a red ball")  # SmolLM2 writes a second object with the first one's id
    finally:
        server.stop()
    assert caught.value.rule == "repeated_id"
    [stopped] = backend.last_attempts
    assert stopped.finish_reason == "runaway"
    assert caught.value.last_output.count('"id"') == 2
