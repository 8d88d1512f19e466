"""The bounds of one generation (engine/runaway.py): budgets from the request's size, and repetition stops.

Runaway documents are fed as the decoder feeds them: the text after each token (the small model's real
tokenizer, ``model`` marker) or after each character (fast tier). The legitimate scenes are the default
model's own outputs recorded in docs/eval-qwen.json: no bound may cut one.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from text2pixi.core.errors import GenerationFailed, RunawayGeneration
from text2pixi.engine.runaway import (
    FLOOR_TOKENS,
    PER_COPY_TOKENS,
    REASK,
    Bounds,
    RepetitionGuard,
    ask_bounded,
    asked_copies,
    estimate_tokens,
    fresh_budget,
    refine_budget,
)

ROOT = Path(__file__).resolve().parents[2]
EVAL = json.loads((ROOT / "docs" / "eval-qwen.json").read_text())
LEGIT = [(o["prompt"], json.dumps(o["scene"], separators=(",", ":")), o["output_tokens"])
         for o in EVAL["outcomes"] if o["scene"]]

STAR = '{"type":"circle","id":"star","x":100,"y":100,"r":10,"color":"white"}'
# What SmolLM2 wrote for "four yellow stars" at temperature 0: the same object until the grammar's 16.
SAME_ID_RUNAWAY = '{"objects":[' + ",".join([STAR] * 16) + '],"anims":[]}'
# The variant with fresh ids and positions: each copy is valid on its own, only their number is wrong.
NUMBERED_RUNAWAY = '{"objects":[' + ",".join(
    f'{{"type":"star","id":"star{i}","x":{40 * i},"y":100,"color":"white","r":10}}' for i in range(1, 17)) + "]}"
FADE = '{"type":"fade","target":"star","to":0,"dur":1}'
ANIM_RUNAWAY = '{"objects":[' + STAR + '],"anims":[' + ",".join([FADE] * 10) + "]}"


def stream(pieces: list[str]) -> Iterator[tuple[int, str]]:
    """The text so far after each piece, as the decoder hands it to its stop check."""
    text = ""
    for n, piece in enumerate(pieces, start=1):
        text += piece
        yield n, text


def first_stop(guard: RepetitionGuard, pieces: list[str]) -> tuple[int, str] | None:
    for n, text in stream(pieces):
        reason = guard.feed(text)
        if reason is not None:
            return n, reason
    return None


def test_asked_copies_counts_shapes_not_measures() -> None:
    assert asked_copies("a red circle") == 0
    assert asked_copies("three blue squares spinning in a row") == 8  # "row": a plural arrangement, generous
    assert asked_copies("three red circles and two blue squares") == 6  # counts multiplied when larger
    assert asked_copies("two rows of four circles") == 8
    assert asked_copies("a 3x3 grid of squares") == 9
    assert asked_copies("a grid of 16 dots") == 16
    assert asked_copies("cinq cercles verts") == 5
    for measure in ("a blue square tilted by 45 degrees", "rotates one full turn in 4 seconds",
                    "move down by 100 px", "bounce 3 times", "scale it 2x"):
        assert asked_copies(measure) == 0, measure
    assert asked_copies("a grid of 400 dots") == 32  # bounded


def test_budgets_from_the_request_size() -> None:
    assert fresh_budget("a red circle", 768) == FLOOR_TOKENS
    assert fresh_budget("two red circles", 768) == FLOOR_TOKENS + 2 * PER_COPY_TOKENS
    assert fresh_budget("a grid of 16 dots", 768) == 768  # never above the request's own max_tokens
    # A refinement: the base again, a margin (a quarter of a large base) and what the instruction adds.
    assert refine_budget("make it slower", 300, 4096) == 300 + 192
    assert refine_budget("make it slower", 1200, 4096) == 1200 + 300
    assert refine_budget("add three squares", 300, 4096) == 300 + 192 + 3 * PER_COPY_TOKENS
    assert estimate_tokens("x" * 101) == 51


def test_no_budget_cuts_a_recorded_scene_of_the_default_model() -> None:
    """Each recorded scene fits its fresh budget at least 1.9 times over (per attempt: re-asks are summed)."""
    margins = {prompt: fresh_budget(prompt, EVAL["max_tokens"]) / tokens for prompt, _, tokens in LEGIT}
    assert len(margins) >= 35
    assert min(margins.values()) >= 1.45  # "a yellow ball ... turns purple": 255 tokens over two attempts
    largest = max(LEGIT, key=lambda x: x[2])
    assert largest[2] == 378 and fresh_budget(largest[0], 768) >= 2 * largest[2]


@pytest.mark.parametrize(("prompt", "scene"), [(p, s) for p, s, _ in LEGIT])
def test_recorded_scenes_are_never_stopped(prompt: str, scene: str) -> None:
    assert first_stop(RepetitionGuard(asked_copies(prompt)), list(scene)) is None


def test_a_repeated_id_stops_at_the_second_object() -> None:
    stop = first_stop(RepetitionGuard(asked_copies("four yellow stars")), list(SAME_ID_RUNAWAY))
    assert stop is not None
    at, reason = stop
    assert at == len('{"objects":[') + 2 * len(STAR) + 1  # the character that closes the second object
    assert reason.startswith("the reply wrote a second object with id 'star'")


def test_numbered_copies_stop_past_the_count_asked_for() -> None:
    guard = RepetitionGuard(asked_copies("four yellow stars"))  # "stars": 8 copies, and 2 more allowed
    stop = first_stop(guard, list(NUMBERED_RUNAWAY))
    assert stop is not None and guard.rule == "near_copies"
    assert NUMBERED_RUNAWAY[: stop[0]].count('"id"') == 11
    assert first_stop(RepetitionGuard(16), list(NUMBERED_RUNAWAY)) is None  # "a grid of 16 stars": fine


def test_identical_animations_stop_after_three() -> None:
    guard = RepetitionGuard(asked_copies("a star fades"))
    stop = first_stop(guard, list(ANIM_RUNAWAY))
    assert stop is not None and guard.rule == "repeated_element"
    assert ANIM_RUNAWAY[: stop[0]].count('"fade"') == 4
    assert "the same anims element 4 times" in stop[1]


def test_strings_that_look_like_json_are_not_elements() -> None:
    text = '{"objects":[{"type":"text","id":"t","text":"{\\"id\\":\\"a\\"},{\\"id\\":\\"a\\"}"}]}'
    assert first_stop(RepetitionGuard(0), list(text)) is None


def test_the_time_bound_stops_an_attempt() -> None:
    bounds = Bounds.of("a red circle", cap=768, job_timeout=0.01)
    guard = bounds.guard()
    time.sleep(0.02)
    assert guard('{"objects":[') is not None and guard.rule == "time"
    error = guard.error(tokens=12, attempts=1, text='{"objects":[')
    assert isinstance(error, RunawayGeneration) and error.code == "runaway_generation" and error.rule == "time"


def test_refinement_bounds_count_the_base_objects() -> None:
    bounds = Bounds.of("make the stars faster", cap=768, job_timeout=180, base_tokens=400, base_objects=6)
    assert bounds.budget == 768  # 400 + 192 + 8 copies, within the cap
    assert bounds.copies == 8 + 6


def test_one_reask_after_a_repetition_stop_and_none_after_time() -> None:
    calls: list[tuple[int, int, int]] = []
    made = {"attempts": 0}

    def ask(messages: list[dict[str, object]], retries: int, offset: int) -> str:
        calls.append((len(messages), retries, offset))
        made["attempts"] += 1
        if len(calls) == 1:
            raise RunawayGeneration("stopped after 90 tokens: the reply wrote a second object with id 'star'",
                                    rule="repeated_id", last_output='{"objects":[' + STAR + "," + STAR)
        return "scene"

    base = [{"role": "system", "content": "s"}, {"role": "user", "content": "four yellow stars"}]
    assert ask_bounded(ask, base, max_retries=2, attempts=lambda: made["attempts"]) == "scene"
    assert calls == [(2, 2, 0), (4, 1, 1)]  # the stopped reply and its reason, and one re-ask fewer

    def timed_out(messages: list[dict[str, object]], retries: int, offset: int) -> str:
        raise RunawayGeneration("stopped after 700 tokens: out of time", rule="time")

    with pytest.raises(RunawayGeneration):
        ask_bounded(timed_out, base, max_retries=2, attempts=lambda: 1)
    assert REASK.format(reason="stopped after 90 tokens: x").startswith("Your reply was stopped after 90 tokens")


def test_a_failed_reask_counts_every_attempt_and_names_the_stop() -> None:
    made = {"attempts": 0}

    def ask(messages: list[dict[str, object]], retries: int, offset: int) -> str:
        if offset == 0:
            made["attempts"] += 1  # stopped on its first attempt
            raise RunawayGeneration("stopped after 90 tokens: a second object with id 'star'", rule="repeated_id")
        made["attempts"] += 1 + retries  # the re-ask and its own re-asks, all rejected
        raise GenerationFailed(f"no valid scene after {retries + 1} attempts; last error: x", attempts=retries + 1)

    with pytest.raises(GenerationFailed) as caught:
        ask_bounded(ask, [], max_retries=2, attempts=lambda: made["attempts"])
    assert caught.value.attempts == 3
    assert str(caught.value) == ("no valid scene after 3 attempts; last error: x "
                                 "(attempt 1 was stopped after 90 tokens: a second object with id 'star')")


def test_no_reask_when_the_stop_came_on_the_last_attempt() -> None:
    def ask(messages: list[dict[str, object]], retries: int, offset: int) -> str:
        raise RunawayGeneration("stopped", rule="repeated_id")

    with pytest.raises(RunawayGeneration):
        ask_bounded(ask, [], max_retries=1, attempts=lambda: 2)


@pytest.fixture(scope="module")
def vocab():  # type: ignore[no-untyped-def]
    """The small model's tokenizer alone (no weights)."""
    from llama_cpp import Llama

    from text2pixi import registry
    from text2pixi.settings import Settings

    path = registry.resolve(registry.SMALL_MODEL, Settings().models_dir)
    return Llama(model_path=str(path), vocab_only=True, verbose=False)


def token_pieces(vocab, text: str) -> list[str]:  # type: ignore[no-untyped-def]
    """``text`` as the decoder sees it grow: one detokenized token at a time."""
    tokens = vocab.tokenize(text.encode(), add_bos=False, special=False)
    pieces = [vocab.detokenize([t]).decode("utf-8", errors="ignore") for t in tokens]
    assert "".join(pieces) == text
    return pieces


@pytest.mark.model
def test_real_token_streams(vocab) -> None:  # type: ignore[no-untyped-def]
    """Stops counted in the small model's tokens: how much of each runaway is written before the stop."""
    for prompt, scene, _ in LEGIT:
        assert first_stop(RepetitionGuard(asked_copies(prompt)), token_pieces(vocab, scene)) is None, prompt
    same = token_pieces(vocab, SAME_ID_RUNAWAY)
    stop = first_stop(RepetitionGuard(asked_copies("four yellow stars")), same)
    assert stop is not None
    second_object = len(token_pieces(vocab, '{"objects":[' + STAR + "," + STAR))
    assert stop[0] == second_object < len(same) / 6
    numbered = token_pieces(vocab, NUMBERED_RUNAWAY)
    stop = first_stop(RepetitionGuard(asked_copies("four yellow stars")), numbered)
    assert stop is not None and stop[0] < 0.75 * len(numbered)
