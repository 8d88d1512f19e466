"""The sanity review in the real engine's re-ask loop (the default model): fixes reach the result, re-asks the model.

On the v1 path, where it was wired first (the v2 path's review is tested with the v2 engine). ``slow``, on the
default model: SmolLM2 cannot write these scenes at all (it repeats an object until the runaway guard stops it,
for this base and instruction and for fresh ones alike), so on it the tests proved nothing about the review. The
generation's time bound (``engine.runaway``: 75 % of the job timeout) is lifted to an hour: on a loaded host it
stopped the model mid-reply, and what these tests prove is the review, not the bound (``unit/test_budget.py``).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from text2pixi import registry
from text2pixi.core.colors import color_family
from text2pixi.core.sanity_issues import find_issues
from text2pixi.core.scene import Scene
from text2pixi.engine import Engine
from text2pixi.settings import Settings

pytestmark = pytest.mark.slow

BASE = Scene.model_validate({"objects": [{"type": "rect", "id": "box", "x": 400, "y": 300, "w": 100, "h": 100,
                                          "color": "red"}], "bg": "#f0f0f0"})


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    """One re-ask allowed; one llama.cpp thread (on the busy 2-core machine two mostly wait for each other)."""
    yield Engine(Settings(model=registry.DEFAULT_MODEL, n_threads=1, max_retries=1, max_tokens=400, job_timeout=3600,
                          scene_language="v1"))


def test_a_white_box_on_near_white_gets_a_contrasting_background_recorded_in_the_result(engine: Engine) -> None:
    """The instruction names the box's colour, not the background's: the background is what changes."""
    result = engine.translate("make the box white", base=BASE)
    box = result.scene.objects[0]
    assert color_family(box.color) == "white", result.scene_json  # what the instruction asked
    assert result.fixes == ["changed the background from #f0f0f0 to black: objects were nearly invisible on it"]
    assert result.scene.bg == "black" and find_issues(result.scene) == []
    assert Scene.model_validate_json(result.scene_json) == result.scene


def test_a_re_ask_message_reaches_the_model(engine: Engine) -> None:
    """A no-op move the sentence asks for is a validation error: the model is re-asked with the numbers.

    The sentence places the box where it asks it to move to; the default model writes exactly that (greedy), so
    its first reply always has the no-op move. (A refinement "move the box to the right" no longer does: the model
    changes x, and a problem already in a base is never re-asked.)
    """
    result = engine.translate("a red box in the centre moves to the centre")
    errors = [a.error for a in result.attempts]
    assert len(errors) == 2 and errors[0] is not None, errors  # the first reply failed the review: re-asked once
    assert "where it already is" in errors[0] and "the sentence asks for motion" in errors[0]
    moved = [a for a in result.scene.anims if a.type == "move"]
    box = result.scene.objects[0]
    # the re-asked reply moves it away, or (the last attempt) is kept with the problem reported
    assert any((a.x, a.y) != (box.x, box.y) for a in moved) or any(
        f.startswith("left after the last re-ask") for f in result.fixes), result.scene_json
