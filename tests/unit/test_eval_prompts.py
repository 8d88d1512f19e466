"""The prompt file itself: it parses, uses only known checks and fields, and meets issue 16's minimums."""

from __future__ import annotations

import collections
import typing

import pytest

from tests.conftest import ROOT
from text2pixi.quality.cases import CASE_CATEGORIES, Case, load_cases

PROMPTS = ROOT / "eval" / "prompts.toml"
CASES = load_cases(PROMPTS.read_text())
TIMELINE_CHECKS = {"displacement", "located", "relation_at_time", "grid", "ring", "varied", "sequence", "loop",
                   "interval", "oscillate", "spin", "pivot", "axis_scale", "visible", "starts_hidden"}


def test_counts_meet_the_issue() -> None:
    assert len(CASES) >= 100
    by_category = collections.Counter(c.category for c in CASES)
    assert by_category["paraphrase"] >= 20
    assert sum(c.lang != "en" for c in CASES) >= 10
    assert len({c.lang for c in CASES} - {"en"}) >= 8
    assert all(c.category == "multilingual" for c in CASES if c.lang != "en")
    assert set(by_category) == set(CASE_CATEGORIES) and min(by_category.values()) >= 5, by_category


def test_every_check_kind_is_used_and_known() -> None:
    used = {e.check_type for c in CASES for e in c.expect}
    assert TIMELINE_CHECKS <= used, TIMELINE_CHECKS - used
    assert set(typing.get_args(Case.model_fields["category"].annotation)) == set(CASE_CATEGORIES)


def test_the_held_out_set_parses_and_shares_no_prompt_with_the_eval_set() -> None:
    held = load_cases((ROOT / "eval" / "heldout.toml").read_text())
    assert len(held) >= 40 and all(c.expect for c in held)
    assert not {c.prompt.lower() for c in held} & {c.prompt.lower() for c in CASES}
    assert not {c.id for c in held} & {c.id for c in CASES}


def test_prompts_are_distinct_and_tagged() -> None:
    prompts = [c.prompt.lower() for c in CASES]
    assert len(set(prompts)) == len(prompts)
    assert {c.difficulty for c in CASES} == {"easy", "medium", "hard"}


@pytest.mark.parametrize("bad", [
    'expect=[{check="displacement", kind="square", direction="north-north-east"}]',
    'expect=[{check="sequence", kind="square", steps=[{kind="move"}, {kind="jump"}]}]',
    'expect=[{check="pivot", kind="square", about="corner"}]',
    'expect=[{check="grid", kind="square", rows=3}]',
    'expect=[{check="visible", kind="square", ratio=3}]',
    'category="misc"\nexpect=[{check="visible", kind="square"}]',
])
def test_unknown_checks_fields_and_values_are_rejected(bad: str) -> None:
    head = '[[case]]\nid="a"\nprompt="x"\ndifficulty="easy"\n'
    category = "" if bad.startswith("category") else 'category="motion"\n'
    with pytest.raises(ValueError):
        load_cases(head + category + bad + "\n")
    load_cases(head + 'category="motion"\nexpect=[{check="visible", kind="square"}]\n')
