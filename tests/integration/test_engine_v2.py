"""The engine writing v2 scenes on a real model: the source it returns compiles to the scene it returns, and on
the default model the compiled scenes do what the sentences say."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from tests.conftest import ROOT, _settings
from text2pixi import registry
from text2pixi.core import scene as s
from text2pixi.core.errors import GenerationError
from text2pixi.core.v2 import V2Scene, compile_scene
from text2pixi.engine.translation import Translation
from text2pixi.quality.cases import evaluate_case, load_cases


@pytest.fixture(scope="module")
def small_v2() -> Iterator[object]:
    from text2pixi.engine import Engine

    yield Engine(_settings(registry.SMALL_MODEL).model_copy(update={"scene_language": "v2"}))


@pytest.fixture(scope="module")
def qwen_v2() -> Iterator[object]:
    from text2pixi.engine import Engine

    engine = Engine(_settings(registry.DEFAULT_MODEL).model_copy(update={"scene_language": "v2"}))
    engine.prime()
    yield engine


def _source_compiles_to_scene(t: Translation) -> None:
    assert t.language == "v2" and t.source is not None
    compiled = compile_scene(V2Scene.model_validate(t.source))
    if not t.fixes:
        assert compiled == t.scene
    else:  # the sanity fixes changed the compiled scene, and nothing else
        assert [o.id for o in compiled.objects] == [o.id for o in t.scene.objects]
    assert s.Scene.model_validate_json(t.scene_json) == t.scene


@pytest.mark.model
def test_a_fresh_v2_translation_returns_its_source_and_compiled_scene(small_v2: object) -> None:
    texts: list[str] = []
    t: Translation = small_v2.translate("a red ball bounces",  # type: ignore[attr-defined]
                                        progress=lambda attempt, text, n: texts.append(text))
    _source_compiles_to_scene(t)
    assert t.attempts and t.attempts[0].prompt_tokens > 0
    assert any(text.startswith('{"') for text in texts), "progress hears the v2 text as it grows"
    assert t.patch is None and t.source_changed == []


@pytest.mark.model
def test_a_v2_refinement_writes_a_patch_or_fails_with_a_named_error(small_v2: object) -> None:
    from text2pixi.core.errors import GenerationError

    base = compile_scene(V2Scene.model_validate({"items": [{"id": "sun", "color": "orange"}]}))
    source = V2Scene.model_validate({"items": [{"id": "sun", "color": "orange"}]})
    try:
        t: Translation = small_v2.translate("make the sun blue", base=base,  # type: ignore[attr-defined]
                                            base_source=source)
    except GenerationError:
        return  # the tiny model may not manage a patch; the Qwen tier checks what it writes
    assert t.patch is not None and "edit" in t.patch
    _source_compiles_to_scene(t)


@pytest.mark.model
def test_the_patch_system_prompt_is_a_prefix_of_its_own_evaluated_once(small_v2: object) -> None:
    """A v2 refinement starts with the patch system prompt: its KV state is evaluated by the first refinement and
    restored for the next ones (whatever their base), and no base scene's tokens count as part of a prefix."""
    from text2pixi.core.errors import GenerationError
    from text2pixi.core.v2.refine_prompt import build_patch_messages

    engine = small_v2
    engine.prime()  # type: ignore[attr-defined]
    main, patch = engine._system_prefixes  # type: ignore[attr-defined]
    assert len(main) == engine.prefix_tokens and len(patch) != len(main)  # type: ignore[attr-defined]
    sources = [V2Scene.model_validate({"items": [{"id": "sun", "color": "orange"}]}),
               V2Scene.model_validate({"bg": "white", "items": [{"id": "box", "shape": "square", "color": "red",
                                                                 "at": "left", "do": [{"spin": "cw"}]}]})]
    for source in sources:
        tokens = engine._tokens(build_patch_messages(source, "make it blue"))  # type: ignore[attr-defined]
        assert engine._shared(tokens) == len(patch) and tokens[: len(patch)] == patch  # type: ignore[attr-defined]
    hits = engine._prefixes.hits  # type: ignore[attr-defined]
    for source in sources:
        with contextlib.suppress(GenerationError):  # the tiny model may not manage a patch; the prefix is the point
            engine.translate("make it blue", base=compile_scene(source), base_source=source,  # type: ignore[attr-defined]
                             max_tokens=64)
        assert engine.last_attempts[0].cached_tokens >= len(patch)  # type: ignore[attr-defined]
        with contextlib.suppress(GenerationError):  # back to the main prefix
            engine.translate("a red ball", max_tokens=64)  # type: ignore[attr-defined]
    # Each refinement and each fresh request after one restored its prefix instead of evaluating it again.
    assert engine._prefixes.hits - hits >= 3  # type: ignore[attr-defined]


def _xs(scene: s.Scene) -> list[float]:
    return [o.x for o in scene.objects]


@pytest.mark.model
@pytest.mark.slow
def test_default_model_v2_scenes_do_what_the_sentence_says(qwen_v2: object) -> None:
    t: Translation = qwen_v2.translate("three blue squares spinning in a row")  # type: ignore[attr-defined]
    _source_compiles_to_scene(t)
    squares = [o for o in t.scene.objects if isinstance(o, s.Rect) and o.w == o.h]
    assert len(squares) == 3 and len(t.scene.objects) == 3
    assert len({o.y for o in squares}) == 1, "a row: one y"
    assert max(_xs(t.scene)) - min(_xs(t.scene)) > t.scene.w / 2, "spread over more than half the stage"
    assert all(o.color in ("blue", "#0000ff") for o in squares)
    spins = [a for a in t.scene.anims if isinstance(a, s.Rotate)]
    assert {a.target for a in spins} == {o.id for o in squares}
    assert all(abs(a.by) == 360 and a.repeat == -1 and not a.yoyo for a in spins)

    t = qwen_v2.translate("on a white background, a black square moves 100 px down")  # type: ignore[attr-defined]
    _source_compiles_to_scene(t)
    assert t.scene.bg in ("white", "#ffffff")
    (square,) = t.scene.objects
    (move,) = [a for a in t.scene.anims if isinstance(a, s.Move)]
    assert (move.x, move.y) == (square.x, square.y + 100)

    t = qwen_v2.translate(  # type: ignore[attr-defined]
        "a red ball bounces on the left while a blue star spins on the right")
    _source_compiles_to_scene(t)
    ball = next(o for o in t.scene.objects if isinstance(o, s.Circle))
    star = next(o for o in t.scene.objects if isinstance(o, s.Star))
    assert ball.color == "red" and star.color == "blue" and ball.x < t.scene.w / 2 < star.x
    hop = next(a for a in t.scene.anims if isinstance(a, s.Move) and a.target == ball.id)
    assert hop.y < ball.y and hop.x == ball.x and hop.repeat == -1 and hop.yoyo, "up and back, forever"
    spin = next(a for a in t.scene.anims if isinstance(a, s.Rotate) and a.target == star.id)
    assert abs(spin.by) == 360 and spin.repeat == -1 and spin.delay == hop.delay == 0, "both at once"


EVAL_SAMPLE_EVERY = 8
"""Every 8th case of eval/prompts.toml (21 of 164, every category): the sample the slow tier runs."""
EVAL_SAMPLE_MIN_RATE = 0.9
"""Below the rate the full eval measured on this sample (55 of 55 checks with the reading passes, 51 of 55 before
them, 2026-12-03; docs/performance.md), so a change that breaks a capability fails here, while a few unlucky checks
(the test allows one re-ask where the eval allows two) do not."""


@pytest.mark.model
@pytest.mark.slow
def test_default_model_on_a_sample_of_the_eval_prompts(qwen_v2: object) -> None:
    """The eval's own checks on a fixed sample: every prompt gets a valid scene, and most checks pass. The full
    rates are measured by eval/run.py; this keeps a prompt, grammar or compiler change from quietly breaking them."""
    cases = load_cases((ROOT / "eval" / "prompts.toml").read_text())[::EVAL_SAMPLE_EVERY]
    invalid, failed, total = [], [], 0
    for case in cases:
        try:
            t: Translation = qwen_v2.translate(case.prompt)  # type: ignore[attr-defined]
        except GenerationError as exc:
            invalid.append(f"{case.id}: {exc}")
            continue
        _source_compiles_to_scene(t)
        results = evaluate_case(case, t.scene)
        total += len(results)
        failed += [f"{case.id}: {r.check} ({r.detail}); source {t.source}" for r in results if not r.passed]
    assert not invalid, "no valid scene:\n" + "\n".join(invalid)
    rate = 1 - len(failed) / total
    assert rate >= EVAL_SAMPLE_MIN_RATE, f"{rate:.2f} of the checks passed; failed:\n" + "\n".join(failed)
