"""The v2 language: its schema becomes a compact GBNF grammar, its keys come in the grammar's order, and its
validation errors say what is wrong."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from text2pixi.core.v2.language import VERBS, V2Scene, v2_json_schema
from text2pixi.engine.grammar import compact_gbnf


def test_schema_converts_to_a_whitespace_free_grammar_without_nulls() -> None:
    schema = v2_json_schema()
    assert "null" not in json.dumps(schema)
    gbnf = compact_gbnf(schema)
    assert 'space ::= ""' in gbnf
    for verb in VERBS:
        assert f'"\\"{verb}\\""' in gbnf, verb


def test_every_step_starts_with_its_verb_and_items_with_id_shape_text() -> None:
    defs = v2_json_schema()["$defs"]
    firsts = {name: next(iter(d["properties"])) for name, d in defs.items() if name.endswith("Step")}
    assert sorted(firsts.values()) == sorted(VERBS)
    for name, first in firsts.items():
        assert defs[name]["required"][0] == first
    assert list(defs["Item"]["properties"])[:3] == ["id", "shape", "text"]
    assert list(v2_json_schema()["properties"]) == ["bg", "w", "h", "items"]


def test_compact_json_round_trip_in_grammar_order() -> None:
    text = ('{"bg":"navy","items":[{"id":"sun","color":"orange","size":"large","at":"top-right",'
            '"do":[{"move":"left","by":100},{"spin":"cw","with":true},{"float":20}]}]}')
    scene = V2Scene.model_validate_json(text)
    assert scene.to_json() == text


@pytest.mark.parametrize(("data", "message"), [
    ({"items": [{"do": [{"jump": 1}]}]}, "a step starts with one verb key: move, to"),
    ({"items": [{"do": [{"spin": "cw", "times": 0}]}]}, "times must be 1 or more, or -1 for forever"),
    ({"items": [{"shape": "text"}]}, "is text but has no \"text\""),
    ({"items": [{"text": "hi"}]}, "use \"shape\":\"text\""),
    ({"items": [{"n": 3, "at": "top"}]}, "use \"in\" for their region"),
    ({"items": [{"of": "a"}]}, "has of but no at"),
    ({"items": [{"do": [{"move": "sideways"}]}]}, "move"),
    ({"items": [{"colour": "red"}]}, "Extra inputs are not permitted"),
    ({"items": []}, "at least 1 item"),
])
def test_invalid_scenes_are_refused_with_a_reason(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as err:
        V2Scene.model_validate(data)
    assert message in str(err.value)


def test_magnitudes_past_their_bound_mean_the_bound_and_zero_stays_an_error() -> None:
    scene = V2Scene.model_validate({"items": [{"start": 99, "loop": 500, "do": [
        {"shrink": 100}, {"spin": "cw", "dur": 100, "times": 1000}, {"blink": 1000, "delay": 70},
        {"move": "up", "by": 9999}, {"pulse": 9}]}]})
    item = scene.items[0]
    assert (item.start, item.loop) == (60.0, 100)
    shrink, spin, blink, move, pulse = item.do
    assert (shrink.shrink, spin.dur, spin.times, blink.blink, blink.delay, pulse.pulse) == (20.0, 60.0, 101, 100,
                                                                                           60.0, 5.0)
    assert move.by == 3840
    assert item.loop is not True  # a number stays a number, and true stays true
    with pytest.raises(ValidationError, match="greater than 0"):
        V2Scene.model_validate({"items": [{"do": [{"spin": "cw", "dur": 0}]}]})
