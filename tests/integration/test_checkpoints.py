"""KV checkpoints of refinement heads, on the small model: a restored head writes the very scene an evaluated
one writes, checkpoints are kept per head and evicted oldest first, and turning them off restores the old path.
The speed they buy on the default model is measured by bench/refine.py, not here."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backends import RedisServer
from text2pixi.core.contracts import TranslateRequest
from text2pixi.core.errors import GenerationError
from text2pixi.core.scene import Scene
from text2pixi.engine import Engine
from text2pixi.engine.checkpoints import Checkpoints
from text2pixi.service.jobs import Jobs
from text2pixi.settings import Settings
from text2pixi.worker import preparation

pytestmark = pytest.mark.model

CASES = json.loads((Path(__file__).parents[1] / "fixtures" / "refinements.json").read_text())["cases"]
BASES = list({json.dumps(c["base"], sort_keys=True): Scene.model_validate(c["base"]) for c in CASES}.values())


@pytest.fixture()
def engine(small_engine: Engine) -> Iterator[Engine]:
    """The shared small engine with an empty checkpoint store of its own (put back afterwards)."""
    kept = small_engine.checkpoints
    small_engine.checkpoints = Checkpoints(small_engine.llm, capacity=2)
    try:
        yield small_engine
    finally:
        small_engine.checkpoints = kept


def test_a_restored_head_writes_the_scene_an_evaluated_head_writes(engine: Engine) -> None:
    cold = engine.translate("make the ball green", base=BASES[0], max_tokens=400)
    assert cold.checkpoint == "evaluated" and len(engine.checkpoints) == 1
    engine.prepare_refinement(BASES[1])  # the KV cache now holds another head
    assert engine.llm.n_tokens == len(engine._refinement_head(BASES[1]))
    warm = engine.translate("make the ball green", base=BASES[0], max_tokens=400)
    assert warm.checkpoint == "restored" and engine.checkpoints.hits == 1
    assert warm.model_scene_json == cold.model_scene_json and warm.scene_json == cold.scene_json
    assert [a.output_tokens for a in warm.attempts] == [a.output_tokens for a in cold.attempts]
    # The first attempt started after the head: only the instruction's turn was evaluated in the call.
    head = engine._refinement_head(BASES[0])
    assert warm.attempts[0].cached_tokens == len(head) > engine.prefix_tokens
    assert warm.attempts[0].prompt_tokens - len(head) < 60


def test_prepare_keeps_one_checkpoint_per_head_and_evicts_the_oldest(engine: Engine) -> None:
    heads = [engine._refinement_head(base) for base in BASES[:3]]
    assert engine.prepare_refinement(BASES[0]) is True
    assert engine.prepare_refinement(BASES[0]) is False  # already kept
    assert engine.prepare_refinement(BASES[1]) and engine.prepare_refinement(BASES[2])
    assert len(engine.checkpoints) == 2 and engine.checkpoints.nbytes > 0
    assert heads[0] not in engine.checkpoints and heads[1] in engine.checkpoints and heads[2] in engine.checkpoints
    # A restore leaves the model holding exactly the head, so the next call evaluates only what follows.
    assert engine.checkpoints.restore(heads[1])
    assert engine.llm.n_tokens == len(heads[1]) and list(engine.llm.input_ids[: len(heads[1])]) == heads[1]
    assert not engine.checkpoints.restore(heads[0]) and engine.checkpoints.misses == 1


def test_checkpoints_off_evaluate_the_whole_refinement_prompt_in_the_call(engine: Engine) -> None:
    engine.checkpoints = Checkpoints(engine.llm, capacity=0)
    assert engine.prepare_refinement(BASES[0]) is False
    # The weak model need not finish here: what matters is where the first attempt started.
    with contextlib.suppress(GenerationError):
        assert engine.translate("make the ball green", base=BASES[0], max_tokens=64).checkpoint is None
    assert engine.last_attempts[0].cached_tokens == engine.prefix_tokens and len(engine.checkpoints) == 0


def test_a_checkpoint_is_only_saved_for_what_the_cache_holds(engine: Engine) -> None:
    with pytest.raises(ValueError, match="does not hold exactly"):
        engine.checkpoints.save([1, 2, 3])


def test_a_cancelled_preparation_stops_at_once_keeps_nothing_and_leaves_the_engine_clean(engine: Engine) -> None:
    cancel = threading.Event()
    cancel.set()  # a translation is already waiting
    assert engine.prepare_refinement(BASES[0], cancel=cancel) is False
    assert len(engine.checkpoints) == 0 and engine.llm.n_tokens == engine.prefix_tokens
    # Cancelled while llama.cpp evaluates the head (or finished first: then it is kept, as usual).
    cancel = threading.Event()
    threading.Timer(0.01, cancel.set).start()
    prepared = engine.prepare_refinement(BASES[1], cancel=cancel)
    assert (engine._refinement_head(BASES[1]) in engine.checkpoints) is prepared
    # What follows an aborted evaluation is what follows none.
    after_abort = engine.translate("make the ball green", base=BASES[0], max_tokens=400)
    engine.checkpoints.clear()
    engine.prepare_refinement(BASES[2])
    engine.checkpoints.clear()
    clean = engine.translate("make the ball green", base=BASES[0], max_tokens=400)
    assert after_abort.checkpoint == clean.checkpoint == "evaluated"
    assert after_abort.scene_json == clean.scene_json


@pytest.fixture()
def jobs(tmp_path: Path) -> Iterator[Jobs]:
    """The queue on a real redis-server of its own."""
    server = RedisServer(tmp_path / "redis").start()
    try:
        yield Jobs(Settings(redis_url=server.url))
    finally:
        server.stop()


def test_an_idle_worker_gives_way_to_a_translation_but_not_to_a_refinement_of_the_same_base(
        engine: Engine, jobs: Jobs, monkeypatch: pytest.MonkeyPatch) -> None:
    """The worker's preparation watches the queue: another translation waiting stops it within a poll; a
    refinement of the scene being prepared does not (it is the one the preparation is for)."""
    monkeypatch.setattr(preparation, "PREPARE_POLL_S", 0.001)
    jobs.enqueue(TranslateRequest(prompt="make it blue", base="a" * 32))
    assert preparation.prepare(engine, BASES[0], "a" * 32, jobs) is True
    assert engine._refinement_head(BASES[0]) in engine.checkpoints
    jobs.enqueue(TranslateRequest(prompt="three red squares"))
    assert jobs.others_waiting("b" * 32) and jobs.enqueue_prepare("b" * 32, copies=1) == 0
    assert preparation.prepare(engine, BASES[1], "b" * 32, jobs) is False
    assert engine._refinement_head(BASES[1]) not in engine.checkpoints
