"""The quality evaluation: checks on hand-made scenes, the prompt file, statistics, and the runner on SmolLM2."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ROOT
from text2pixi.core.colors import color_family, color_matches
from text2pixi.core.scene import Scene
from text2pixi.quality.cases import Case, Outcome, evaluate_case, load_cases
from text2pixi.quality.check_base import CATEGORIES, CheckResult
from text2pixi.quality.report import compare, markdown, replace_section, summarize, table
from text2pixi.quality.selectors import goes, in_region

PROMPTS = ROOT / "eval" / "prompts.toml"


def scene(objects: list[dict[str, Any]], anims: list[dict[str, Any]] | None = None, **stage: Any) -> Scene:
    return Scene.model_validate({"objects": objects, "anims": anims or [], **stage})


def case(*expect: dict[str, Any]) -> Case:
    return Case.model_validate({"id": "t", "prompt": "p", "difficulty": "easy", "category": "shapes",
                                "expect": list(expect)})


def results(c: Case, s: Scene | None) -> list[bool]:
    return [r.passed for r in evaluate_case(c, s)]


@pytest.mark.parametrize(("color", "family"), [
    ("red", "red"), ("crimson", "red"), ("darkred", "red"), ("#ff0000", "red"), ("orange", "orange"),
    ("darkorange", "orange"), ("gold", "yellow"), ("yellow", "yellow"), ("green", "green"), ("lime", "green"),
    ("cyan", "cyan"), ("teal", "cyan"), ("blue", "blue"), ("navy", "blue"), ("skyblue", "blue"),
    ("lightblue", "blue"), ("purple", "purple"), ("violet", "purple"), ("indigo", "purple"),
    ("hotpink", "pink"), ("pink", "pink"), ("white", "white"), ("black", "black"), ("gray", "grey"),
    ("saddlebrown", "brown"),
])
def test_color_family(color: str, family: str) -> None:
    assert color_family(color) == family


def test_color_matching_is_tolerant_where_words_are() -> None:
    assert color_matches("magenta", "purple") and color_matches("violet", "magenta")
    assert color_matches("saddlebrown", "brown") and color_matches("gray", "gray")
    assert not color_matches("blue", "red") and not color_matches("orange", "yellow")
    with pytest.raises(ValueError):
        color_matches("red", "octarine")


def test_regions_and_directions() -> None:
    assert in_region(400, 300, 800, 600, "center") and not in_region(100, 300, 800, 600, "center")
    assert in_region(100, 100, 800, 600, "top-left") and not in_region(100, 500, 800, 600, "top-left")
    assert in_region(700, 500, 800, 600, "bottom-right") and in_region(700, 300, 800, 600, "right")
    assert goes(100, 10, "right") and not goes(100, 150, "right") and goes(100, 150, "down-right")
    assert goes(0, -50, "up") and not goes(10, 5, "right") and not goes(-100, 0, "right")


RED_BALL_RIGHT = scene(
    [{"type": "circle", "id": "ball", "x": 150, "y": 300, "r": 40, "color": "red"}],
    [{"type": "move", "target": "ball", "x": 650, "y": 300, "dur": 2}],
)


def test_count_color_position_motion_on_a_good_scene() -> None:
    c = case({"check": "count", "kind": "ball", "n": 1}, {"check": "color", "kind": "circle", "want": "red"},
             {"check": "position", "kind": "circle", "at": "left"},
             {"check": "position", "kind": "circle", "at": "right", "when": "end"},
             {"check": "motion", "kind": "circle", "direction": "right"},
             {"check": "timing", "kind": "circle", "anim": "move", "min_dur": 1.5, "max_dur": 2.5})
    assert results(c, RED_BALL_RIGHT) == [True] * 6


def test_wrong_scene_fails_the_right_checks() -> None:
    c = case({"check": "count", "kind": "circle", "n": 2}, {"check": "color", "kind": "circle", "want": "blue"},
             {"check": "motion", "kind": "circle", "direction": "left"},
             {"check": "motion", "kind": "circle", "direction": "none"},
             {"check": "count", "kind": "star", "n": 0}, {"check": "color", "kind": "star", "want": "red"})
    checks = evaluate_case(c, RED_BALL_RIGHT)
    assert [r.passed for r in checks] == [False, False, False, False, True, False]
    assert "found 1" in checks[0].detail and "no star" in checks[5].detail


def test_no_scene_fails_everything() -> None:
    c = case({"check": "count", "kind": "circle", "n": 1}, {"check": "text", "contains": "hi"})
    checks = evaluate_case(c, None)
    assert [r.passed for r in checks] == [False, False] and checks[0].detail == "no valid scene"
    assert [r.category for r in checks] == ["count", "text"] and [r.type for r in checks] == ["count", "text"]


def test_squares_rows_rotation_and_quantifiers() -> None:
    s = scene([{"type": "rect", "id": f"s{i}", "x": 200 * i, "y": 300, "w": 60, "h": 60, "color": "blue"}
               for i in (1, 2, 3)] + [{"type": "rect", "id": "bar", "x": 400, "y": 500, "w": 300, "h": 20}],
              [{"type": "rotate", "target": f"s{i}", "by": 360, "repeat": -1} for i in (1, 2)]
              + [{"type": "rotate", "target": "s3", "by": -90}])
    c = case({"check": "count", "kind": "square", "n": 3}, {"check": "count", "kind": "rect", "n": 4},
             {"check": "arrangement", "kind": "square", "line": "row"},
             {"check": "arrangement", "kind": "square", "line": "column"},
             {"check": "rotation", "kind": "square", "forever": True},
             {"check": "rotation", "kind": "square", "forever": True, "quantifier": "any"},
             {"check": "rotation", "kind": "square", "color": "blue", "min_deg": 90, "direction": "ccw",
              "quantifier": "any"},
             {"check": "rotation", "kind": "square", "min_deg": 80, "max_deg": 100, "direction": "cw",
              "quantifier": "any"})
    assert results(c, s) == [True, True, True, False, False, True, True, False]


def test_a_rotation_counts_each_play_of_a_repeated_turn_and_turns_in_a_row() -> None:
    square = [{"type": "rect", "id": "sq", "x": 400, "y": 300, "w": 60, "h": 60}]
    twice = scene(square, [{"type": "rotate", "target": "sq", "by": 360, "repeat": 1}])
    two = scene(square, [{"type": "rotate", "target": "sq", "by": 360},
                         {"type": "rotate", "target": "sq", "by": 360, "delay": 1}])
    rock = scene(square, [{"type": "rotate", "target": "sq", "by": 360, "repeat": 1, "yoyo": True}])
    turns = case({"check": "rotation", "kind": "square", "min_deg": 700, "max_deg": 740, "direction": "cw"})
    assert [results(turns, s) for s in (twice, two, rock)] == [[True], [True], [False]]  # there and back: no


def test_effects_text_relations_order_and_background() -> None:
    s = scene([{"type": "text", "id": "title", "x": 400, "y": 100, "text": "Game  over", "color": "gold"},
               {"type": "star", "id": "star", "x": 400, "y": 300, "r": 50, "color": "green", "alpha": 1},
               {"type": "circle", "id": "dot", "x": 400, "y": 450, "r": 10, "color": "white", "alpha": 0}],
              [{"type": "fade", "target": "star", "to": 0, "dur": 3},
               {"type": "fade", "target": "dot", "to": 1},
               {"type": "scale", "target": "star", "to": 2, "delay": 3},
               {"type": "color", "target": "star", "to": "purple", "delay": 1}], bg="navy")
    c = case({"check": "text", "contains": "game over"}, {"check": "text", "equals": "Game"},
             {"check": "fade", "kind": "star", "way": "out"}, {"check": "fade", "kind": "circle", "way": "in"},
             {"check": "fade", "kind": "star", "way": "in"},
             {"check": "scale", "kind": "star", "way": "grow", "factor": 1.8},
             {"check": "scale", "kind": "star", "way": "shrink"},
             {"check": "recolor", "kind": "star", "want": "violet"},
             {"check": "relation", "a": {"kind": "text"}, "b": {"kind": "star"}, "rel": "above"},
             {"check": "relation", "a": {"kind": "star"}, "b": {"kind": "circle"}, "rel": "bigger"},
             {"check": "relation", "a": {"kind": "star"}, "b": {"kind": "circle"}, "rel": "right_of"},
             {"check": "order", "kind": "star", "first": "fade", "then": "scale"},
             {"check": "order", "kind": "star", "first": "fade", "then": "color"},
             {"check": "background", "want": "blue"}, {"check": "color", "text": "game", "want": "yellow"})
    assert results(c, s) == [True, False, True, True, False, True, False, True, True, True, False, True, False,
                             True, True]
    assert [r.category for r in evaluate_case(c, s)][8:10] == ["position", "size"]
    assert [r.type for r in evaluate_case(c, s)][8:10] == ["relation", "relation"]


def test_end_position_follows_the_last_move_and_motion_uses_each_leg() -> None:
    s = scene([{"type": "circle", "id": "b", "x": 100, "y": 100, "r": 20}],
              [{"type": "move", "target": "b", "x": 700, "y": 100, "dur": 2},
               {"type": "move", "target": "b", "x": 700, "y": 500, "dur": 1, "delay": 2}])
    c = case({"check": "motion", "kind": "circle", "direction": "right"},
             {"check": "motion", "kind": "circle", "direction": "down"},
             {"check": "motion", "kind": "circle", "direction": "down-right"},
             {"check": "position", "kind": "circle", "at": "bottom-right", "when": "end"},
             {"check": "order", "kind": "circle", "first": "move", "then": "move"})
    assert results(c, s) == [True, True, False, True, True]


def test_the_prompt_file() -> None:
    cases = load_cases(PROMPTS.read_text())
    assert len(cases) >= 100
    assert {c.difficulty for c in cases} == {"easy", "medium", "hard"}
    used = {e.category for c in cases for e in c.expect}
    assert used == set(CATEGORIES), set(CATEGORIES) - used
    assert all(len(c.expect) >= 2 for c in cases)


def test_prompt_file_errors_are_reported() -> None:
    with pytest.raises(ValueError, match="repeated case ids"):
        load_cases('[[case]]\nid="a"\nprompt="x"\ndifficulty="easy"\ncategory="text"\n'
                   'expect=[{check="text", contains="x"}]\n' * 2)
    with pytest.raises(ValueError, match="octarine"):
        load_cases('[[case]]\nid="a"\nprompt="x"\ndifficulty="easy"\ncategory="text"\n'
                   'expect=[{check="color", kind="circle", want="octarine"}]\n')
    with pytest.raises(ValueError):
        load_cases('[[case]]\nid="a"\nprompt="x"\ndifficulty="easy"\ncategory="text"\n'
                   'expect=[{check="count", kind="cube", n=1}]\n')


def _outcome(id_: str, difficulty: str, valid: bool, passed: list[tuple[str, bool]], attempts: int = 1,
             tokens: int = 100, wall: float = 5.0) -> Outcome:
    return Outcome(id=id_, prompt=id_, difficulty=difficulty, valid=valid, attempts=attempts, output_tokens=tokens,
                   wall_s=wall, checks=[CheckResult(check=f"c{i}", category=cat, type=cat, passed=ok)
                                        for i, (cat, ok) in enumerate(passed)])


def test_summary_figures() -> None:
    outcomes = [
        _outcome("a", "easy", True, [("count", True), ("color", True)], tokens=80, wall=4.0),
        _outcome("b", "easy", True, [("count", True), ("color", False)], attempts=2, tokens=200, wall=10.0),
        _outcome("c", "hard", False, [("count", False), ("motion", False)], attempts=3, tokens=300, wall=12.0),
        _outcome("d", "medium", True, [("motion", True)], tokens=60, wall=2.0),
    ]
    s = summarize(outcomes)
    assert s["validity_rate"] == 0.75 and s["checks"] == 7 and s["checks_passed"] == 4
    assert s["check_pass_rate"] == round(4 / 7, 4) and s["prompts_all_checks_passed"] == 2
    assert s["by_category"]["count"] == {"passed": 2, "total": 3, "rate": 0.6667}
    assert list(s["by_category"]) == ["count", "color", "motion"]
    assert s["by_check"]["motion"] == {"passed": 1, "total": 2, "rate": 0.5}
    assert s["by_difficulty"]["hard"]["rate"] == 0.0 and s["by_difficulty"]["easy"]["rate"] == 0.75
    assert list(s["by_difficulty"]) == ["easy", "medium", "hard"]
    assert s["retries"] == 3 and s["prompts_with_retries"] == 2
    assert s["output_tokens_mean"] == 160.0 and s["wall_s_mean"] == 7.0 and s["wall_s_median"] == 7.0
    text = table(outcomes)
    assert "c  " in text and "failed checks:" in text and "NO" in text


def test_summary_per_case_category() -> None:
    outcomes = [_outcome("a", "easy", True, [("count", True), ("color", False)]),
                _outcome("b", "hard", True, [("motion", True)]), _outcome("c", "easy", True, [("motion", False)])]
    for o, category in zip(outcomes, ("motion", "shapes", "motion"), strict=True):
        o.category = category
    s = summarize(outcomes)
    assert s["by_case_category"] == {"shapes": {"passed": 1, "total": 1, "rate": 1.0},
                                     "motion": {"passed": 1, "total": 3, "rate": 0.3333}}
    assert "pass rate per case category: shapes 100% (1/1), motion 33% (1/3)" in table(outcomes)
    assert "| case category | shapes | motion |" in markdown({}, outcomes, "r.json")


def test_compare_two_runs() -> None:
    a = [_outcome("x", "easy", True, [("count", True), ("color", False)]),
         _outcome("y", "easy", False, [("count", False)])]
    b = [_outcome("x", "easy", True, [("count", True), ("color", True)]),
         _outcome("z", "easy", True, [("count", True)])]
    result = compare(a, b)
    assert result["figures"]["validity_rate"] == {"a": 0.5, "b": 1.0}
    assert result["categories"]["color"] == {"a": 0.0, "b": 1.0}
    assert result["changed"] == [{"id": "x", "a": "1/2", "b": "2/2", "delta": 1}]
    assert result["only_in_a"] == ["y"] and result["only_in_b"] == ["z"]


def test_markdown_section_and_replacement() -> None:
    outcomes = [_outcome("a", "easy", True, [("count", True), ("color", False)]),
                _outcome("b", "hard", False, [("motion", False)], attempts=3)]
    record = {"command": "python eval/run.py --model m", "started": "now", "model": "m", "threads": 2,
              "max_tokens": 768, "max_retries": 2}
    section = markdown(record, outcomes, "eval-m.json")
    assert section.startswith("<!-- eval:begin -->") and section.rstrip().endswith("<!-- eval:end -->")
    assert "| valid scenes | 1/2 (50%) |" in section and "| checks passed | 1/3 (33%) |" in section
    assert "[`eval-m.json`](eval-m.json)" in section and "python eval/run.py --model m" in section
    doc = "# Perf\n\n<!-- eval:begin -->\nold\n<!-- eval:end -->\n\n## Next\n"
    updated = replace_section(doc, section)
    assert "old" not in updated and "## Next" in updated and updated.count("<!-- eval:begin -->") == 1
    assert replace_section("# Perf\n", section).startswith("# Perf\n\n<!-- eval:begin -->")
