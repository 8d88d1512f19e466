"""The v2 system prompt, its examples and the decoding grammar the engine builds for v2 (no model needed).

The grammar is the very GBNF the engine decodes with (``compact_gbnf`` of the reply model's schema), checked here
by llguidance over a byte-level vocabulary: it must accept every example of the prompt (and of the refinement
prompt) and refuse keys out of order."""

from __future__ import annotations

import json
import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import llguidance
import pytest
from llguidance.gbnf_to_lark import gbnf_to_lark

from text2pixi.core.prompt import SYSTEM_PROMPT
from text2pixi.core.scene import Scene
from text2pixi.core.v2 import V2Scene, compile_scene, v2_json_schema
from text2pixi.core.v2.language import VERBS
from text2pixi.core.v2.patch import Patch
from text2pixi.core.v2.prompt import V2_EXAMPLES, V2_SYSTEM_PROMPT, build_v2_messages
from text2pixi.core.v2.refine_prompt import PATCH_EXAMPLES
from text2pixi.engine.fastforward import ordered_schema
from text2pixi.engine.grammar import compact_gbnf, in_property_order, language_schema
from text2pixi.engine.replies import ReviewedPatch, ReviewedV2Scene

ROOT = Path(__file__).resolve().parents[2]


class _Bytes:
    """A vocabulary of the 256 bytes (and an end token): the grammar is checked byte by byte."""

    eos_token_id = 256
    bos_token_id = None
    tokens = [bytes([i]) for i in range(256)] + [b"<eos>"]

    def __call__(self, data: bytes) -> list[int]:
        return list(data)


_TOKENIZER = llguidance.LLTokenizer(llguidance.TokenizerWrapper(_Bytes()))
_NESTED = re.compile(r"\(([\w-]+) ((?:\(\1 )*)\(\1\)\?((?:\)\?)*)\)\?")
"""llama.cpp's converter spells "up to N of X" as N nested optionals, deeper than llguidance's Lark parser takes."""


def _flat(gbnf: str) -> str:
    def repeat(m: re.Match[str]) -> str:
        depth = m.group(2).count("(")
        assert m.group(3).count(")") == depth
        return f"{m.group(1)}{{0,{depth + 2}}}"
    return _NESTED.sub(repeat, gbnf)


@cache
def _grammar(which: str) -> str:
    model = ReviewedPatch if which == "patch" else ReviewedV2Scene
    return llguidance.LLMatcher.grammar_from_lark(gbnf_to_lark(_flat(compact_gbnf(model.model_json_schema()))))


def accepts(text: str, which: str = "scene") -> bool:
    matcher = llguidance.LLMatcher(_TOKENIZER, _grammar(which), log_level=0)
    assert not matcher.is_error(), matcher.get_error()
    return matcher.consume_tokens(list(text.encode("utf-8"))) and matcher.is_accepting()


@pytest.mark.parametrize(("sentence", "reply"), V2_EXAMPLES, ids=[s[:30] for s, _ in V2_EXAMPLES])
def test_each_example_is_valid_compiles_and_is_in_the_grammar(sentence: str, reply: str) -> None:
    scene = V2Scene.model_validate_json(reply)
    assert V2Scene.model_validate_json(scene.to_json()) == scene
    assert isinstance(compile_scene(scene), Scene)
    assert accepts(reply), reply


def test_grammar_keeps_the_language_key_order_and_refuses_others() -> None:
    assert accepts('{"bg":"navy","w":400,"items":[{"id":"a","shape":"star","color":"gold","do":[{"spin":"ccw"}]}]}')
    assert not accepts('{"items":[{"color":"gold"}],"bg":"navy"}'), "bg comes before items"
    assert not accepts('{"items":[{"color":"gold","shape":"star"}]}'), "shape comes before color"
    assert not accepts('{"items":[{"do":[{"dur":2,"spin":"cw"}]}]}'), "a step starts with its verb"
    assert not accepts('{"items":[{"color": "gold"}]}'), "compact: no whitespace"
    assert not accepts('{"items":[{"colour":"gold"}]}')


def test_grammar_schema_differs_from_the_language_schema_only_in_what_is_required_and_one_of() -> None:
    schema = ReviewedV2Scene.model_json_schema()
    assert schema == language_schema(v2_json_schema())
    assert "oneOf" not in json.dumps(schema), "llguidance (forced tokens) refuses oneOf"
    assert json.dumps({k: v for k, v in schema.items() if k != "required"}) == json.dumps(
        {k: v for k, v in v2_json_schema().items() if k != "required"}).replace('"oneOf"', '"anyOf"')
    v1 = Scene.model_json_schema()
    assert in_property_order(v1) != v1, "v1 puts required keys first; its grammar does not go through this"


@pytest.mark.parametrize("case", range(len(PATCH_EXAMPLES)))
def test_the_engine_patch_grammar_accepts_the_refinement_examples(case: int) -> None:
    scene, changes = PATCH_EXAMPLES[case]
    assert accepts(scene), "the refinement prompt's scenes are in the v2 grammar too"
    for _, patch in changes:
        Patch.model_validate_json(patch)
        assert accepts(patch, "patch"), patch


def test_examples_are_not_eval_prompts_and_stay_varied() -> None:
    eval_prompts = {c["prompt"].lower() for c in tomllib.loads((ROOT / "eval/prompts.toml").read_text())["case"]}
    sentences = [s for s, _ in V2_EXAMPLES]
    assert not {s.lower() for s in sentences} & eval_prompts
    replies = " ".join(r for _, r in V2_EXAMPLES)
    verbs = {v for v in VERBS if f'{{"{v}":' in replies}
    assert len(verbs) >= 10, verbs
    # defaults are left out, and nothing repeats forever unless the sentence says so
    for default in ('"shape":"circle"', '"size":"medium"', '"layout":"row"', '"turns":1', '"dir":"cw"',
                    '"yoyo":true', '"bg":"black"'):
        assert default not in replies, default
    for sentence, reply in V2_EXAMPLES:
        if '"times":-1' in reply or '"loop":true' in reply:
            assert re.search(r"forever|again and again|over and over", sentence), sentence


def test_system_prompt_explains_every_key_verb_and_value() -> None:
    schema = v2_json_schema()
    item_keys = list(schema["$defs"]["Item"]["properties"])
    listed = V2_SYSTEM_PROMPT[V2_SYSTEM_PROMPT.index("Item keys"):]
    for key in item_keys:
        if key in ("inner", "radius", "width", "pts", "xy2"):  # exact forms of v1 conversion, not for the model
            continue
        assert re.search(rf"\b{key}\b", listed), key
    keys = ("id", "shape", "text", "color", "size", "at", "of", "n", "layout", "after", "loop", "do")
    positions = [re.search(rf" {k}(?: \(|,|\.)", listed).start() for k in keys]  # type: ignore[union-attr]
    assert positions == sorted(positions), "item keys are listed in the grammar's order"
    for verb in VERBS:
        assert f"{verb}:" in V2_SYSTEM_PROMPT, verb
    for word in ("cw", "ccw", "northeast", "edge", "off", "start", "then", "with", "forever", "about", "axis"):
        assert word in V2_SYSTEM_PROMPT, word
    assert "Up is towards the top" in V2_SYSTEM_PROMPT


def _messages(prompt: str) -> list[dict[str, Any]]:
    return build_v2_messages(prompt)


def test_messages_share_one_prefix_and_end_with_the_sentence_verbatim() -> None:
    a, b = _messages("a red ball"), _messages("{{ 7*7 }} squares")
    assert a[:-1] == b[:-1] and a[0] == {"role": "system", "content": V2_SYSTEM_PROMPT}
    assert b[-1] == {"role": "user", "content": "{{ 7*7 }} squares"}
    assert [m["role"] for m in a] == ["system"] + ["user", "assistant"] * len(V2_EXAMPLES) + ["user"]
    assert V2_SYSTEM_PROMPT != SYSTEM_PROMPT


@pytest.mark.parametrize("which", ["scene", "patch"])
def test_forced_tokens_see_the_same_language(which: str) -> None:
    """llguidance (forced tokens, ``engine/fastforward.py``) compiles the engine's schema, in the same key order."""
    model = ReviewedPatch if which == "patch" else ReviewedV2Scene
    grammar = llguidance.LLMatcher.grammar_from_json_schema(ordered_schema(model.model_json_schema()),
                                                            defaults={"whitespace_flexible": False})
    replies = [r for _, r in V2_EXAMPLES] if which == "scene" else [p for _, c in PATCH_EXAMPLES for _, p in c]
    for reply in replies:
        matcher = llguidance.LLMatcher(_TOKENIZER, grammar, log_level=0)
        assert not matcher.is_error(), matcher.get_error()
        assert matcher.consume_tokens(list(reply.encode("utf-8"))) and matcher.is_accepting(), reply
