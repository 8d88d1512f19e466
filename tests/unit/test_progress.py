"""The pure side of progress events: complete objects from a scene being written, the SSE framing and parsing."""

from __future__ import annotations

import json

import pytest

from text2pixi.core.progress import EVENT_MODELS, Event, ObjectDone, SceneTracker, Stage, Tokens, parse_sse
from text2pixi.core.refine_prompt import ordered_json
from text2pixi.core.scene import Scene

SCENE = Scene.model_validate({
    "objects": [
        {"type": "circle", "id": "sun", "x": 400, "y": 120, "r": 60, "color": "gold"},
        {"type": "text", "id": "t", "x": 400, "y": 500, "text": 'say "hi", [ok]} \\ done', "color": "white"},
        {"type": "polygon", "id": "p", "x": 200, "y": 300, "pts": [0, 0, 10, 0, 5, 9], "color": "red"},
    ],
    "bg": "navy", "w": 800, "h": 600,
    "anims": [{"type": "rotate", "target": "sun", "by": 360, "dur": 2, "repeat": -1}],
})


def follow(text: str, step: int = 1) -> list[tuple[int, str, object]]:
    """Feed ``text`` to a tracker ``step`` characters at a time; (position, kind, what) of each finding."""
    tracker, seen = SceneTracker(), []
    for end in [*range(step, len(text), step), len(text)]:
        found = tracker.feed(text[:end])
        seen += [(end, "object", item) for item in found.objects]
        if found.stage is not None:
            seen.append((end, "stage", found.stage))
    return seen


@pytest.mark.parametrize("step", [1, 3, 17, 10_000])
def test_each_object_once_in_order_as_soon_as_its_separator_is_written(step: int) -> None:
    text = ordered_json(SCENE)
    seen = follow(text, step)
    objects = [what for _, kind, what in seen if kind == "object"]
    assert [index for index, _ in objects] == [0, 1, 2]  # type: ignore[misc]
    assert [obj for _, obj in objects] == [o.model_dump(mode="json", exclude_defaults=True)  # type: ignore[misc]
                                          for o in SCENE.objects]
    if step == 1:  # reported at the "," or "]" right after the object, not before
        ends = [end for end, kind, _ in seen if kind == "object"]
        assert [text[end - 1] for end in ends] == [",", ",", "]"]
        assert text[ends[0] - 2] == "}"
    stages = [what for _, kind, what in seen if kind == "stage"]
    assert stages == [Stage(w=800, h=600, bg="navy")]


def test_an_object_is_not_complete_while_a_number_may_still_grow() -> None:
    tracker = SceneTracker()
    assert not tracker.feed('{"objects":[{"type":"circle","id":"a","x":1,"y":1,"r":1').objects
    assert not tracker.feed('{"objects":[{"type":"circle","id":"a","x":1,"y":1,"r":12}').objects  # no "," yet
    found = tracker.feed('{"objects":[{"type":"circle","id":"a","x":1,"y":1,"r":12},')
    assert found.objects == [(0, {"type": "circle", "id": "a", "x": 1, "y": 1, "r": 12})]
    assert not tracker.feed('{"objects":[{"type":"circle","id":"a","x":1,"y":1,"r":12},{"ty').objects


def test_an_object_that_does_not_validate_alone_is_skipped_and_later_ones_keep_their_index() -> None:
    text = ('{"objects":[{"type":"circle","id":"Bad Id","x":1,"y":1,"r":3},'
            '{"type":"rect","id":"b","x":1,"y":1,"w":2,"h":2}],"w":400}')
    objects = [what for _, kind, what in follow(text) if kind == "object"]
    assert objects == [(1, {"type": "rect", "id": "b", "x": 1, "y": 1, "w": 2, "h": 2})]


def test_stage_defaults_fill_what_the_model_left_out() -> None:
    stages = [what for _, kind, what in follow('{"objects":[{"type":"circle","id":"a","x":1,"y":1,"r":3}],"h":300}')
              if kind == "stage"]
    assert stages == [Stage(w=800, h=300, bg="black")]
    # known once the anims start, even before the document ends
    tracker = SceneTracker()
    found = tracker.feed('{"objects":[{"type":"circle","id":"a","x":1,"y":1,"r":3}],"bg":"red","anims":[')
    assert found.stage == Stage(w=800, h=600, bg="red")


def test_whitespace_between_tokens_is_fine() -> None:
    text = json.dumps(json.loads(ordered_json(SCENE)), indent=2)
    assert [what[0] for _, kind, what in follow(text) if kind == "object"] == [0, 1, 2]  # type: ignore[index]


def test_a_text_that_shrinks_starts_over_without_repeating() -> None:
    tracker = SceneTracker()
    first = tracker.feed('{"objects":[{"type":"circle","id":"a","x":1,"y":1,"r":3},')
    assert len(first.objects) == 1
    again = tracker.feed('{"objects":[{"type":"circle","id":"a","x":1,"y":1,"r":3},{"type":"circle","id":"b","x":1,'
                         '"y":1,"r":3}]'[:20])
    assert again.objects == []


def test_events_round_trip_through_sse() -> None:
    events = [Event.of(Tokens(attempt=1, tokens=40, expected_tokens=300, elapsed_s=1.5)),
              Event.of(ObjectDone(attempt=1, index=0, object={"type": "text", "text": "two\nlines"}))]
    stream = "retry: 2000\n\n: keep-alive\n\n" + "".join(
        Event(e.type, e.data, f"17-{n}").sse() for n, e in enumerate(events))
    assert "\ndata: " in stream and stream.count("\n\n") == 4
    parsed = list(parse_sse(stream.splitlines(keepends=True)))
    assert [(p.type, p.id) for p in parsed] == [("tokens", "17-0"), ("object", "17-1")]
    assert parsed[1].payload()["object"]["text"] == "two\nlines"
    assert set(EVENT_MODELS) == {"queued", "started", "attempt", "tokens", "object", "stage", "reask", "finished",
                                 "failed"}


def test_sse_parser_follows_the_whatwg_rules() -> None:
    lines = ["id: 5-0", "event: stage", "data:{\"w\":1,", "data: \"h\":2}", "", "data: x", "", ": comment",
             "event: nodata", ""]
    parsed = list(parse_sse(lines))
    assert parsed[0] == Event("stage", '{"w":1,\n"h":2}', "5-0")
    assert parsed[1] == Event("message", "x", None)
    assert len(parsed) == 2


def test_stack_up_says_what_each_worker_is_doing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from text2pixi.ops.localstack import StackConfig, wait_for_workers, worker_stage

    cfg = StackConfig(state_dir=tmp_path, workers=2)
    (tmp_path / "logs").mkdir()
    (tmp_path / "run").mkdir()
    log1, log2 = tmp_path / "logs" / "worker1.log", tmp_path / "logs" / "worker2.log"
    log1.write_text("old run: worker warm: x\n")
    offset = log1.stat().st_size
    assert worker_stage(cfg, 1, offset) == "starting" and worker_stage(cfg, 2, 0) == "starting"
    log1.write_text(log1.read_text() + "INFO waiting for redis\n")
    assert worker_stage(cfg, 1, offset) == "loading the model"
    log1.write_text(log1.read_text() + "INFO loaded SmolLM2 in 1.2s\n")
    assert worker_stage(cfg, 1, offset) == "priming the prompt cache"
    log2.write_text("worker warm: SmolLM2 loaded\n")
    (tmp_path / "run" / "worker1.ready").write_text("worker1\n")
    said: list[str] = []
    wait_for_workers(cfg, 5, said.append, {1: offset, 2: 0})
    assert said[0].startswith("worker1: warm (") and said[1].startswith("worker2: warm (")


V2_REPLY = ('{"bg":"navy","items":[{"id":"sq","shape":"square","color":"blue","n":3,"do":[{"spin":"cw"}]},'
            '{"id":"sun","color":"yellow","at":"below","of":"moon"},{"id":"moon","at":"top-right"}]}')


@pytest.mark.parametrize("step", [1, 5, 10_000])
def test_a_v2_reply_reports_compiled_objects_item_by_item(step: int) -> None:
    from text2pixi.core.v2 import V2Scene, compile_scene

    seen = follow(V2_REPLY, step)
    objects = [what for _, kind, what in seen if kind == "object"]
    final = compile_scene(V2Scene.model_validate_json(V2_REPLY))
    # every compiled object once, in order; a relative item waits for the item it is placed against
    assert [index for index, _ in objects] == [0, 1, 2, 3, 4]  # type: ignore[misc]
    assert [o["id"] for _, o in objects] == [o.id for o in final.objects]  # type: ignore[misc]
    assert [(o["x"], o["y"]) for _, o in objects] == [(o.x, o.y) for o in final.objects]  # type: ignore[misc]
    assert [what for _, kind, what in seen if kind == "stage"] == [Stage(w=800, h=600, bg="navy")]
    if step == 1:  # the three copies appear when the first item closes, before "sun" is written
        first = next(end for end, kind, _ in seen if kind == "object")
        assert V2_REPLY[first - 1] == "," and '"sun"' not in V2_REPLY[:first]
        later = {end for end, kind, _ in seen if kind == "object"} - {first}
        assert min(later) == len(V2_REPLY) - 1  # sun and moon together, once moon's item closed


def test_v2_stage_defaults_are_the_v2_ones() -> None:
    found = SceneTracker().feed('{"items":[')
    assert found.stage == Stage(w=800, h=600, bg="black")
