"""The v2 refinement prompt: a fixed system text, the base scene with its ids before the change, and examples
that are valid patches in the grammar's order and apply to their scenes."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest

from text2pixi.core.v2.compiler import compile_scene
from text2pixi.core.v2.language import VERBS, V2Scene
from text2pixi.core.v2.patch import OP_VERBS, Patch, apply_patch, changed_paths
from text2pixi.core.v2.refine_prompt import PATCH_EXAMPLES, PATCH_SYSTEM_PROMPT, build_patch_messages

ROOT = Path(__file__).parents[2]
EXAMPLES = [(scene, change, text) for scene, changes in PATCH_EXAMPLES for change, text in changes]


def test_messages_are_the_fixed_system_text_then_scene_and_change() -> None:
    base = V2Scene.model_validate({"bg": "navy", "items": [{"shape": "square", "do": [{"spin": "cw", "dur": 3.0}]},
                                                           {"shape": "square", "size": 40}]})
    assert build_patch_messages(base, "make it red") == [
        {"role": "system", "content": PATCH_SYSTEM_PROMPT},
        {"role": "user", "content": 'Scene: {"bg":"navy","items":[{"id":"square","shape":"square","do":'
                                    '[{"spin":"cw","dur":3}]},{"id":"square2","shape":"square","size":40}]}\n'
                                    "Change: make it red"}]
    other = V2Scene.model_validate({"items": [{"text": "x", "shape": "text"}]})
    assert build_patch_messages(other, "bigger")[0]["content"] is PATCH_SYSTEM_PROMPT


def test_the_head_before_the_instruction_depends_on_the_base_alone() -> None:
    base = V2Scene.model_validate({"items": [{"id": "sun"}]})
    a, b = (build_patch_messages(base, text)[1]["content"] for text in ("one", "two"))
    assert a[: a.index("one")] == b[: b.index("two")] == 'Scene: {"items":[{"id":"sun"}]}\nChange: '


@pytest.mark.parametrize(("scene", "change", "text"), EXAMPLES, ids=[e[1] for e in EXAMPLES])
def test_each_example_is_a_valid_patch_in_grammar_order_that_applies(scene: str, change: str, text: str) -> None:
    base = V2Scene.model_validate_json(scene)
    assert build_patch_messages(base, change)[1]["content"] == f"Scene: {scene}\nChange: {change}"
    patch = Patch.model_validate_json(text)
    assert patch.to_json() == text
    compile_scene(apply_patch(base, patch))
    assert changed_paths(base, patch)
    assert f"Change: {change}\n{text}\n" in PATCH_SYSTEM_PROMPT + "\n"


def test_examples_cover_every_edit_and_are_not_copied_from_the_evaluation_sets() -> None:
    verbs = {next(iter(op)) for _, _, text in EXAMPLES for op in json.loads(text)["edit"]}
    assert verbs == set(OP_VERBS)
    fixtures = json.loads((ROOT / "tests/fixtures/refinements.json").read_text(encoding="utf-8"))["cases"]
    prompts = tomllib.loads((ROOT / "eval/prompts.toml").read_text(encoding="utf-8"))
    taken = {c["instruction"].lower() for c in fixtures} | {
        str(p.get("prompt", "")).lower() for group in prompts.values() if isinstance(group, list)
        for p in group if isinstance(p, dict)}
    assert len(taken) > 100
    assert not {change.lower() for _, change, _ in EXAMPLES} & taken


def test_the_system_text_names_every_verb_and_edit() -> None:
    for word in (*VERBS, *OP_VERBS):
        assert f"{word} (" in PATCH_SYSTEM_PROMPT or f'"{word}"' in PATCH_SYSTEM_PROMPT, word
    assert "only the change" in PATCH_SYSTEM_PROMPT
