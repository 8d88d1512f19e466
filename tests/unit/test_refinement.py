"""The IO-free side of refinement: the prompt keeps the cached prefix, the base is written in the grammar's key
order, the structured diff keeps what the instruction does not mention, and the edit-quality checks measure
what they claim (an ideal edit passes, a careless one fails)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from text2pixi.core.contracts import TranslateRequest
from text2pixi.core.edit_checks import RefinementCase, check_case
from text2pixi.core.edit_words import edit_mentioned, mentioned
from text2pixi.core.preserve import preserve
from text2pixi.core.prompt import EXAMPLES, build_messages, build_refinement_messages
from text2pixi.core.refine_prompt import ordered_json, refinement_message
from text2pixi.core.scene import Scene
from text2pixi.core.scene_diff import changed_paths, flatten
from text2pixi.service.store import variant_id

CASES = json.loads((Path(__file__).parents[1] / "fixtures" / "refinements.json").read_text())["cases"]
BASE = Scene.model_validate(CASES[0]["base"])  # a red ball that bounces, a green square that spins


def edit(scene: Scene, **changes: Any) -> Scene:
    """A copy of ``scene`` with ``objects.<id>.<field>`` or ``anims.<n>.<field>`` changed (dots as __)."""
    data = scene.model_dump(mode="json")
    for path, value in changes.items():
        kind, key, field = path.split("__")
        items = data[kind]
        item = items[int(key)] if kind == "anims" else next(o for o in items if o["id"] == key)
        item[field] = value
    return Scene.model_validate(data)


def test_the_refinement_prompt_keeps_the_cached_prefix_byte_identical() -> None:
    fresh = build_messages("a red ball")
    refine = build_refinement_messages(BASE, "make the circle blue")
    assert refine[:-1] == fresh[:-1]  # the system prompt and the examples: the primed KV cache
    assert refine[-1]["role"] == "user"
    assert refine[-1]["content"] == refinement_message(BASE, "make the circle blue")
    assert ordered_json(BASE) in refine[-1]["content"]


def test_the_base_is_written_in_the_grammar_key_order_like_the_examples() -> None:
    for _, example in EXAMPLES:
        scene = Scene.model_validate_json(example)
        ours, theirs = json.loads(ordered_json(scene)), json.loads(example)
        assert Scene.model_validate(ours) == scene  # defaults (e.g. "color":"white") are left out
        assert list(ours) == [k for k in theirs if k in ours]  # scene keys in the same order
        for mine, written in zip(ours["objects"] + ours.get("anims", []),
                                 theirs["objects"] + theirs.get("anims", []), strict=True):
            assert [k for k in mine if k in written] == [k for k in written if k in mine], written  # each item's
        for anim in ours.get("anims", []):
            assert {"dur", "ease"} <= set(anim)  # shown even at their defaults, so the model can edit them
    assert '"dur":1,' in ordered_json(BASE) and '"dur":1.0' not in ordered_json(BASE)
    assert ordered_json(BASE).startswith('{"objects":[{"type":"circle","id":"ball","x":200,"y":300,"r":40,'
                                         '"color":"red"}')


def test_preserve_reverts_what_the_instruction_does_not_mention() -> None:
    careless = edit(BASE, objects__ball__color="blue", objects__box__color="navy", objects__box__x=500,
                    anims__1__dur=3.0)
    kept = preserve(BASE, careless, "make the circle blue")
    assert changed_paths(BASE, kept.scene) == ["objects.ball.color"]
    assert set(kept.reverted) == {"objects.box.color", "objects.box.x", "anims.box.rotate.0.dur"}
    slower = preserve(BASE, careless, "make everything slower")
    assert changed_paths(BASE, slower.scene) == ["anims.box.rotate.0.dur"]


def test_preserve_keeps_asked_for_structure_and_restores_unasked_losses() -> None:
    data = BASE.model_dump(mode="json")
    added = Scene.model_validate({**data, "objects": [*data["objects"], {"type": "star", "id": "star", "x": 400,
                                                                          "y": 300, "r": 30, "color": "yellow"}]})
    assert preserve(BASE, added, "add a yellow star").scene == added
    assert preserve(BASE, added, "make the ball red").scene == BASE  # an object nobody asked for
    dropped = Scene.model_validate({**data, "objects": data["objects"][:1], "anims": data["anims"][:1]})
    assert preserve(BASE, dropped, "remove the square").scene == dropped
    restored = preserve(BASE, dropped, "make the ball bigger").scene
    assert flatten(restored) == flatten(BASE)


def test_preserve_follows_a_renamed_object_and_keeps_the_model_scene_when_a_merge_is_invalid() -> None:
    data = BASE.model_dump(mode="json")
    data["objects"][0] = {**data["objects"][0], "id": "circle", "color": "blue", "y": 100}
    data["anims"][0] = {**data["anims"][0], "target": "circle"}
    renamed = preserve(BASE, Scene.model_validate(data), "make the circle blue")
    assert changed_paths(BASE, renamed.scene) == ["objects.ball.color"]
    # The model made the ball black and the background white; reverting only the background would hide it.
    data = BASE.model_dump(mode="json")
    data["objects"][0]["color"] = "black"
    clash = Scene.model_validate({**data, "bg": "white"})
    kept = preserve(BASE, clash, "make the ball black")
    assert not kept.merged and kept.scene == clash


def test_speed_is_a_duration_and_a_smaller_box_keeps_its_proportions() -> None:
    faster = edit(BASE, anims__1__by=720)  # "spin faster" written as twice the turn in the same time
    kept = preserve(BASE, faster, "make the square spin faster").scene
    assert changed_paths(BASE, kept) == ["anims.box.rotate.0.dur"] and kept.anims[1].dur == 1.0
    narrower = edit(BASE, objects__box__w=40)
    assert flatten(preserve(BASE, narrower, "make the square smaller").scene)["objects.box.h"] == 40
    assert flatten(preserve(BASE, narrower, "make the square narrower").scene)["objects.box.h"] == 80


def test_mentioned_categories() -> None:
    assert mentioned("make it slower") == {"dur"}
    assert "color" in mentioned("make the circle blue")
    assert {"bg", "color"} <= mentioned("make the background white")
    assert "structure" in mentioned("add another ball")


def test_a_tempo_change_that_names_its_motion_touches_only_the_tempo() -> None:
    assert "size" in mentioned("make the pulse slower")
    assert edit_mentioned("make the pulse slower") == {"dur"}
    assert edit_mentioned("make the spin faster") == {"dur"}
    assert edit_mentioned("make the pulse slower and bigger") >= {"dur", "size"}
    assert "pos" in edit_mentioned("make the bounce higher")  # no tempo: the name is all there is


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_every_case_is_well_formed_and_its_checks_are_not_vacuous(case: dict[str, Any]) -> None:
    parsed = RefinementCase.model_validate(case)
    base = Scene.model_validate(parsed.base)
    unchanged = check_case(parsed, base)
    assert not unchanged.changed, f"{parsed.name}: the base itself passes the change check"
    assert unchanged.preserved


def test_a_careless_edit_fails_preservation() -> None:
    case = RefinementCase.model_validate(CASES[0])  # make the circle blue
    good = edit(BASE, objects__ball__color="blue")
    assert check_case(case, good).changed and check_case(case, good).preserved
    bad = edit(BASE, objects__ball__color="blue", objects__box__x=500)
    result = check_case(case, bad)
    assert result.changed and not result.preserved
    assert result.problems == ["objects.box.x changed: 600 -> 500"]


def test_request_fields_and_variant_ids() -> None:
    assert TranslateRequest.model_validate({"prompt": "x"}).variants == 1
    assert TranslateRequest.model_validate({"prompt": "x", "base": "a" * 32, "variants": 4}).base == "a" * 32
    for bad in ({"prompt": "x", "variants": 0}, {"prompt": "x", "variants": 5}, {"prompt": "x", "base": "A" * 32}):
        with pytest.raises(ValueError):
            TranslateRequest.model_validate(bad)
    job = "0123456789abcdef" * 2
    ids = {variant_id(job, k) for k in (2, 3, 4)}
    assert len(ids) == 3 and all(len(i) == 32 and int(i, 16) >= 0 for i in ids)
    assert variant_id(job, 2) == variant_id(job, 2)
