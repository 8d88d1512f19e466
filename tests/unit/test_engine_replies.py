"""The re-ask loop without a model: instructor's real patched ``create`` over a function that records the messages
it is sent and answers scripted replies. The user's words reach the model verbatim (instructor's Jinja templating
never runs), while the validation context still reaches the validators (v1 stage bounds, sanity, v2 compilation)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import instructor
import pytest
from instructor.core.hooks import Hooks
from openai.types.chat import ChatCompletion, ChatCompletionMessage
from openai.types.chat.chat_completion import Choice
from openai.types.completion_usage import CompletionUsage

from text2pixi.core.errors import GenerationFailed
from text2pixi.core.prompt import SYSTEM_PROMPT, build_messages
from text2pixi.core.scene import Scene
from text2pixi.core.v2 import V2Scene, compile_scene
from text2pixi.core.v2.prompt import V2_SYSTEM_PROMPT, build_v2_messages
from text2pixi.engine.backend import Asked, ask_for_scene, ask_for_v2, finish
from text2pixi.engine.replies import ReviewedV2Scene, grammar_schema

TEMPLATED = "a {{ 7*7 }} red ball {% raw %}bounces{% endraw %} {# here #} {{ undefined_name }}"
BALL = '{"objects":[{"type":"circle","id":"ball","x":400,"y":300,"r":40,"color":"red"}]}'


class Recorder:
    """A chat-completion function that answers ``replies`` in turn and keeps every request's messages."""

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.calls: list[list[dict[str, Any]]] = []
        self.schemas: list[dict[str, Any]] = []

    def __call__(self, *, messages: list[dict[str, Any]], response_format: dict[str, Any], **_: Any) -> ChatCompletion:
        self.calls.append([dict(m) for m in messages])
        self.schemas.append(response_format["json_schema"]["schema"])
        text = self.replies[len(self.calls) - 1]
        return ChatCompletion(
            id=f"t-{uuid.uuid4().hex}", object="chat.completion", created=int(time.time()), model="recorder",
            choices=[Choice(index=0, finish_reason="stop",
                            message=ChatCompletionMessage(role="assistant", content=text))],
            usage=CompletionUsage(prompt_tokens=1, completion_tokens=1, total_tokens=2))

    @property
    def create(self) -> Callable[..., Any]:
        return instructor.patch(create=self, mode=instructor.Mode.JSON_SCHEMA)


def _v1(recorder: Recorder, prompt: str, retries: int = 1) -> Scene:
    return ask_for_scene(recorder.create, build_messages(prompt), max_retries=retries, budget=100, hooks=Hooks(),
                         attempts=lambda: len(recorder.calls), prompt=prompt)


def _v2(recorder: Recorder, prompt: str, retries: int = 1) -> tuple[V2Scene, Scene]:
    source, compiled, fixes = _v2_fixed(recorder, prompt, retries)
    assert fixes == []
    return source, compiled


def _v2_fixed(recorder: Recorder, prompt: str, retries: int = 1) -> tuple[V2Scene, Scene, list[str]]:
    return ask_for_v2(recorder.create, build_v2_messages(prompt), max_retries=retries, budget=100, hooks=Hooks(),
                      attempts=lambda: len(recorder.calls), prompt=prompt)


def test_user_text_reaches_the_model_verbatim_v1() -> None:
    recorder = Recorder(BALL)
    assert _v1(recorder, TEMPLATED) == Scene.model_validate_json(BALL)
    sent = recorder.calls[0]
    assert sent[-1] == {"role": "user", "content": TEMPLATED}
    assert sent[0]["content"] == SYSTEM_PROMPT


def test_user_text_reaches_the_model_verbatim_v2_and_in_reasks() -> None:
    bad = '{"items":[{"at":"left","of":"nobody"}]}'
    recorder = Recorder(bad, '{"items":[{"color":"red","do":[{"bounce":60}]}]}')
    source, _ = _v2(recorder, TEMPLATED)
    assert source.to_json() == '{"items":[{"color":"red","do":[{"bounce":60}]}]}'
    assert len(recorder.calls) == 2
    for sent in recorder.calls:
        assert sent[0]["content"] == V2_SYSTEM_PROMPT
        assert {"role": "user", "content": TEMPLATED} in sent
    assert recorder.calls[1][-2] == {"role": "assistant", "content": bad}  # instructor's re-ask turn


def test_validation_context_still_reaches_the_validators() -> None:
    off_stage = BALL.replace('"x":400', '"x":1500')
    recorder = Recorder(off_stage, BALL)
    assert _v1(recorder, "a red ball") == Scene.model_validate_json(BALL)
    assert len(recorder.calls) == 2, "the stage-bounds rule (a validation-context key) rejected the first reply"
    assert "1500" in recorder.calls[1][-1]["content"]
    # the sanity context too: a no-op move the sentence speaks of is re-asked
    no_op = BALL[:-1] + ',"anims":[{"type":"move","target":"ball","x":400,"y":300}]}'
    recorder = Recorder(no_op, BALL)
    _v1(recorder, "a red ball moves to the right")
    assert "where it already is" in recorder.calls[1][-1]["content"]


def test_v2_compile_errors_and_sanity_problems_are_reasked_with_their_message() -> None:
    no_op = '{"items":[{"color":"red","do":[{"xy":[400,300]}]}]}'
    good = '{"items":[{"color":"red","do":[{"move":"right"}]}]}'
    recorder = Recorder('{"items":[{"at":"left","of":"box"}]}', no_op, good)
    source, compiled = _v2(recorder, "a red ball moves to the right", retries=2)
    assert source.to_json() == good and compiled == compile_scene(source)
    assert "'box' is not an item id" in recorder.calls[1][-1]["content"]
    assert "where it already is" in recorder.calls[2][-1]["content"]
    assert type(source) is V2Scene and type(compiled) is Scene


def test_v2_last_attempt_keeps_its_sanity_problem_but_never_a_compile_error() -> None:
    no_op = '{"items":[{"color":"red","do":[{"xy":[400,300]}]}]}'
    source, compiled = _v2(Recorder(no_op), "a red ball moves to the right", retries=0)
    assert source.to_json() == no_op
    fields = finish(Asked(compiled, source), base=None, prompt="a red ball moves to the right")
    assert fields["language"] == "v2" and fields["source"] == {"items": [{"color": "red", "do": [{"xy": [400, 300]}]}]}
    assert any("left after the last re-ask" in f for f in fields["fixes"])
    with pytest.raises(GenerationFailed, match="not an item id"):
        _v2(Recorder('{"items":[{"at":"left","of":"box"}]}'), "a ball", retries=0)


def test_v2_reply_schema_is_the_language_in_its_key_order() -> None:
    recorder = Recorder('{"bg":"navy","items":[{"color":"white"}]}')
    _v2(recorder, "a white ball on navy")
    assert recorder.schemas[0] == grammar_schema() == ReviewedV2Scene.model_json_schema()
    assert list(recorder.schemas[0]["properties"]) == ["bg", "w", "h", "items"]
    assert "required" not in recorder.schemas[0], "items after bg: the grammar keeps the language's key order"


def test_runaway_bounds_for_v2() -> None:
    from text2pixi.engine.runaway import V2_FLOOR_TOKENS, V2_PATCH_TOKENS, Bounds, RepetitionGuard

    fresh = Bounds.of("a red circle", cap=768, job_timeout=180, language="v2")
    assert fresh.budget == V2_FLOOR_TOKENS < Bounds.of("a red circle", cap=768, job_timeout=180).budget
    assert Bounds.of("three red circles", cap=768, job_timeout=180, language="v2").budget > V2_FLOOR_TOKENS
    patch = Bounds.of("make it blue", cap=768, job_timeout=180, base_tokens=60, base_objects=1, language="v2")
    assert patch.budget == V2_PATCH_TOKENS
    assert Bounds.of("make it blue", cap=768, job_timeout=180, base_tokens=400, language="v2").budget == 200
    guard = RepetitionGuard(copies=0)
    item = '{"id":"sun","color":"gold"}'
    assert guard.feed('{"items":[' + item) is None
    assert "second item with id 'sun'" in (guard.feed('{"items":[' + item + "," + item) or "")


def test_v2_refinement_patch_is_applied_compiled_and_bad_patches_reasked() -> None:
    from text2pixi.core.v2.refine_prompt import build_patch_messages
    from text2pixi.engine.backend import ask_for_patch

    source = V2Scene.model_validate({"items": [{"id": "sun", "color": "orange", "do": [{"spin": "cw"}]}]})
    base = compile_scene(source)
    instruction = "make the {{ sun }} blue"
    recorder = Recorder('{"edit":[{"set":"moon","color":"blue"}]}', '{"edit":[{"set":"sun","color":"blue"}]}')
    asked = ask_for_patch(recorder.create, build_patch_messages(source, instruction), max_retries=1, budget=100,
                          hooks=Hooks(), attempts=lambda: len(recorder.calls), prompt=instruction, base=base,
                          base_source=source)
    assert instruction in recorder.calls[0][-1]["content"], "the instruction reaches the model verbatim"
    assert "moon" in recorder.calls[1][-1]["content"], "an edit of an unknown id is re-asked with the reason"
    assert asked.patch == {"edit": [{"set": "sun", "color": "blue"}]}
    assert asked.source is not None and asked.source.items[0].color == "blue"
    assert asked.scene == compile_scene(asked.source) and asked.scene.objects[0].color == "blue"
    assert asked.source_changed == ["items.sun.color"]
    fields = finish(asked, base=base, prompt=instruction)
    assert fields["patch"] == asked.patch and fields["source_changed"] == ["items.sun.color"]
    assert fields["reverted"] == [] and fields["model_scene_json"] is None


def test_a_background_the_sentence_never_named_gives_way_to_its_stated_item_colour() -> None:
    reply = '{"bg":"pink","items":[{"shape":"text","text":"Happy Birthday","color":"pink"}]}'
    recorder = Recorder(reply)
    source, compiled, fixes = _v2_fixed(recorder, "the words Happy Birthday in pink, in the middle", retries=0)
    assert len(recorder.calls) == 1 and source.bg == "black" and compiled.bg == "black"
    assert compiled.objects[0].color == "pink" and compile_scene(source) == compiled
    assert fixes == ["background pink -> black: the sentence names no background colour and pink items would be "
                     "invisible on it"]
    fields = finish(Asked(compiled, source, fixes=fixes), base=None, prompt="Happy Birthday in pink")
    assert "bg" not in fields["source"]  # black is the language's default
    assert fields["fixes"][0].startswith("background pink -> black")


def test_an_item_colour_the_sentence_never_named_gives_way_to_a_stated_background() -> None:
    reply = '{"bg":"white","items":[{"shape":"square","color":"white"}]}'
    source, compiled, fixes = _v2_fixed(Recorder(reply), "a square on a white background", retries=0)
    assert source.bg == "white" and source.items[0].color is None
    assert compiled.objects[0].color != "white" and fixes and "dropped" in fixes[0]


def test_both_colours_stated_is_reasked_not_changed() -> None:
    reply = '{"bg":"white","items":[{"shape":"square","color":"white"}]}'
    with pytest.raises(GenerationFailed, match="invisible"):
        _v2_fixed(Recorder(reply), "a white square on a white background", retries=0)
