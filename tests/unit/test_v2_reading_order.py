"""Order words read with the sentence: an item started after another ("then the Y"), two steps played together
("at the same time"), and a pattern looped the number of times the sentence counts ("three times")."""

from __future__ import annotations

import pytest

from tests.unit.reading_support import Pass, parsed
from text2pixi.core.v2 import V2Scene, compile_scene
from text2pixi.core.v2.reading.handoffs import hand_off
from text2pixi.core.v2.reading.loops import count_loops
from text2pixi.core.v2.reading.together import play_together


def _starts(scene: V2Scene) -> dict[str, float]:
    """Each compiled object's first animation start."""
    starts: dict[str, float] = {}
    for anim in compile_scene(scene).anims:
        starts[anim.target] = min(starts.get(anim.target, anim.delay), anim.delay)
    return starts


@pytest.mark.parametrize(("prompt", "source", "fixed", "starts"), [
    ("first a blue circle fades in, and after that a green square slides in from the left",
     '{"items":[{"color":"blue","do":[{"fade":"in"}]},{"shape":"square","color":"green","at":"left",'
     '"do":[{"slide":"in"}]}]}',
     '{"items":[{"color":"blue","do":[{"fade":"in"}]},{"shape":"square","color":"green","at":"left",'
     '"after":"circle","do":[{"slide":"in"}]}]}', {"circle": 0.0, "square": 1.0}),
    ("two circles: the red one moves up first, then the blue one moves down",
     '{"items":[{"color":"red","do":[{"move":"up","by":100}]},{"color":"blue","do":[{"move":"down","by":100}]}]}',
     '{"items":[{"color":"red","do":[{"move":"up","by":100}]},{"color":"blue","after":"circle",'
     '"do":[{"move":"down","by":100}]}]}', {"circle": 0.0, "circle2": 1.0}),
    ("a red star spins once, and once it has stopped, the blue square fades out",
     '{"items":[{"shape":"star","color":"red","do":[{"spin":"cw","times":1}]},'
     '{"shape":"square","color":"blue","do":[{"fade":"out"}]}]}',
     '{"items":[{"shape":"star","color":"red","do":[{"spin":"cw","times":1}]},'
     '{"shape":"square","color":"blue","after":"star","do":[{"fade":"out"}]}]}', None),
    ("first a red circle fades in, then a blue square fades in, then a green star fades in",
     '{"items":[{"color":"red","do":[{"fade":"in"}]},{"shape":"square","color":"blue","do":[{"fade":"in"}]},'
     '{"shape":"star","color":"green","do":[{"fade":"in"}]}]}',
     '{"items":[{"color":"red","do":[{"fade":"in"}]},{"shape":"square","color":"blue","after":"circle",'
     '"do":[{"fade":"in"}]},{"shape":"star","color":"green","after":"square","do":[{"fade":"in"}]}]}',
     {"circle": 0.0, "square": 1.0, "star": 2.0}),
])
def test_a_later_item_starts_after_the_one_the_sentence_puts_first(
        prompt: str, source: str, fixed: str, starts: dict[str, float] | None) -> None:
    scene, fixes = hand_off(parsed(source), prompt)
    assert scene.to_json() == fixed and len(fixes) == fixed.count('"after"')
    compiled = _starts(scene)
    if starts is not None:
        assert compiled == starts


@pytest.mark.parametrize(("prompt", "source"), [
    ("a square moves right then turns red, and a circle spins",  # the "then" is inside the square's clause
     '{"items":[{"shape":"square","do":[{"move":"right"},{"color":"red"}]},{"do":[{"spin":"cw"}]}]}'),
    ("a red ball bounces while a blue ball spins",
     '{"items":[{"color":"red","do":[{"bounce":60}]},{"color":"blue","do":[{"spin":"cw"}]}]}'),
    ("first a blue circle fades in, then a green square slides in",  # the reply timed it already
     '{"items":[{"color":"blue","do":[{"fade":"in"}]},{"shape":"square","color":"green","start":0.5,'
     '"do":[{"slide":"in"}]}]}'),
    ("first a blue circle fades in, then a green square slides in",
     '{"items":[{"color":"blue","do":[{"fade":"in"}]},{"shape":"square","color":"green","after":"circle",'
     '"do":[{"slide":"in"}]}]}'),
    ("first a blue circle fades in, then a green square slides in",
     '{"items":[{"color":"blue","do":[{"fade":"in"}]},{"shape":"square","color":"green",'
     '"do":[{"wait":1.0},{"slide":"in"}]}]}'),
    ("a blue square slides in after the red circle fades in",  # "after" + a noun names the earlier item
     '{"items":[{"shape":"square","color":"blue","do":[{"slide":"in"}]},{"color":"red","do":[{"fade":"in"}]}]}'),
    ("a blue square spins once the red ball stops",
     '{"items":[{"shape":"square","color":"blue","do":[{"spin":"cw"}]},{"color":"red","do":[{"move":"right"}]}]}'),
    ("a red circle next to a blue square, both spin",
     '{"items":[{"color":"red","do":[{"spin":"cw"}]},{"shape":"square","color":"blue","do":[{"spin":"cw"}]}]}'),
    ("a red ball moves right, then a blue ball moves up, then the red ball moves down",  # interleaved
     '{"items":[{"color":"red","do":[{"move":"right"},{"move":"down"}]},{"color":"blue","do":[{"move":"up"}]}]}'),
    ("first a red circle fades in, then a blue square fades in",  # the square has no words of its own
     '{"items":[{"color":"red","do":[{"fade":"in"}]},{"color":"blue","do":[{"fade":"in"}]},{"shape":"star"}]}'),
])
def test_no_hand_off_where_the_sentence_does_not_order_two_plain_items(prompt: str, source: str) -> None:
    scene = parsed(source)
    assert hand_off(scene, prompt) == (scene, [])


def test_a_chain_links_only_its_plain_links() -> None:
    source = ('{"items":[{"color":"red","do":[{"fade":"in"}]},{"shape":"square","color":"blue","do":[{"fade":"in"}]},'
              '{"shape":"star","color":"green","do":[{"fade":"in"}]}]}')
    prompt = "first a red circle fades in, then a blue square fades in and a green star fades in"
    scene, fixes = hand_off(parsed(source), prompt)
    assert [i.after for i in scene.items] == [None, "circle", None] and len(fixes) == 1


def test_steps_the_sentence_plays_at_the_same_time_go_together() -> None:
    source = '{"items":[{"color":"white","do":[{"move":"right"},{"color":"red"}]}]}'
    scene, fixes = play_together(parsed(source), "a white circle moves to the right and turns red at the same time")
    assert scene.to_json() == '{"items":[{"color":"white","do":[{"move":"right"},{"color":"red","with":true}]}]}'
    assert len(fixes) == 1 and {a.delay for a in compile_scene(scene).anims} == {0.0}


@pytest.mark.parametrize(("prompt", "source"), [
    ("a red ball bounces while a blue square spins",  # "while" joins two items, each with its one step
     '{"items":[{"color":"red","do":[{"bounce":60}]},{"shape":"square","color":"blue","do":[{"spin":"cw"}]}]}'),
    ("a white circle moves right and turns red at the same time, then fades out",
     '{"items":[{"color":"white","do":[{"move":"right"},{"color":"red"},{"fade":"out"}]}]}'),
    ("a white circle first moves right and then turns red, both simultaneously",
     '{"items":[{"color":"white","do":[{"move":"right"},{"color":"red"}]}]}'),
    ("a white circle moves right and turns red",
     '{"items":[{"color":"white","do":[{"move":"right"},{"color":"red"}]}]}'),
    ("a white circle moves right and turns red at the same time",
     '{"items":[{"color":"white","do":[{"move":"right"},{"color":"red","with":true}]}]}'),
    ("a white circle moves right, grows and turns red at the same time",
     '{"items":[{"color":"white","do":[{"move":"right"},{"grow":2.0},{"color":"red"}]}]}'),
    ("a white circle moves right and turns red at the same time",
     '{"items":[{"color":"white","do":[{"move":"right"},{"wait":1.0},{"color":"red"}]}]}'),
    ("two circles move right together and grow", '{"items":[{"n":2,"do":[{"move":"right"},{"grow":2.0}]}]}'),
    ("a circle spins while a square moves right and turns blue",
     '{"items":[{"do":[{"spin":"cw"}]},{"shape":"square","do":[{"move":"right"},{"color":"blue"}]}]}'),
])
def test_nothing_played_together_where_the_sentence_orders_or_joins_items(prompt: str, source: str) -> None:
    scene = parsed(source)
    assert play_together(scene, prompt) == (scene, [])


@pytest.mark.parametrize(("prompt", "source", "fixed", "passes"), [
    ("a purple square grows and then shrinks back, three times in a row",
     '{"items":[{"shape":"square","color":"purple","do":[{"grow":2.0,"dur":1.0},{"shrink":2.0,"dur":1.0},'
     '{"grow":2.0,"dur":1.0},{"shrink":2.0,"dur":1.0}]}]}',
     '{"items":[{"shape":"square","color":"purple","loop":3,"do":[{"grow":2.0,"dur":1.0},'
     '{"shrink":2.0,"dur":1.0}]}]}', 3),
    ("a square grows to three times its size and shrinks back, twice",  # "three times its size" is a factor
     '{"items":[{"shape":"square","do":[{"grow":3.0},{"shrink":3.0},{"grow":3.0},{"shrink":3.0},{"grow":3.0},'
     '{"shrink":3.0}]}]}',
     '{"items":[{"shape":"square","loop":2,"do":[{"grow":3.0},{"shrink":3.0}]}]}', 2),
    ("a ball moves left and right 4 times",
     '{"items":[{"do":[{"move":"left","dur":0.5},{"move":"right","dur":0.5},{"move":"left","dur":0.5},'
     '{"move":"right","dur":0.5}]}]}',
     '{"items":[{"loop":4,"do":[{"move":"left","dur":0.5},{"move":"right","dur":0.5}]}]}', 4),
])
def test_a_pattern_unrolled_the_wrong_number_of_times_loops_the_stated_count(
        prompt: str, source: str, fixed: str, passes: int) -> None:
    scene, fixes = count_loops(parsed(source), prompt)
    assert scene.to_json() == fixed and len(fixes) == 1
    compiled = compile_scene(scene)
    cycle = compiled.anims[0].cycle
    assert cycle is not None and cycle.times == passes  # "loop":N plays the pattern N times in all
    assert compiled.duration() == pytest.approx(passes * cycle.every)


@pytest.mark.parametrize(("prompt", "source"), [
    ("a purple square grows and shrinks back, twice",  # unrolled the right number of times
     '{"items":[{"shape":"square","do":[{"grow":2.0},{"shrink":2.0},{"grow":2.0},{"shrink":2.0}]}]}'),
    ("a purple square grows and then shrinks back",
     '{"items":[{"shape":"square","do":[{"grow":2.0},{"shrink":2.0},{"grow":2.0},{"shrink":2.0}]}]}'),
    ("a square blinks 3 times then moves right",
     '{"items":[{"shape":"square","do":[{"blink":1},{"move":"right"},{"blink":1},{"move":"right"}]}]}'),
    ("a square blinks 3 times then moves right", '{"items":[{"shape":"square","do":[{"blink":3},{"move":"right"}]}]}'),
    ("a square grows twice as big and shrinks back",
     '{"items":[{"shape":"square","do":[{"grow":2.0},{"shrink":2.0},{"grow":2.0},{"shrink":2.0}]}]}'),
    ("a circle blinks three times", '{"items":[{"do":[{"blink":1},{"blink":1}]}]}'),  # one step: its own times
    ("a ball moves left and right 4 times",  # written once: not an unrolling
     '{"items":[{"do":[{"move":"left"},{"move":"right"}]}]}'),
    ("a square grows and shrinks three times",
     '{"items":[{"shape":"square","do":[{"grow":2.0,"times":2},{"shrink":2.0},{"grow":2.0,"times":2},'
     '{"shrink":2.0}]}]}'),
    ("a square grows and shrinks three times",
     '{"items":[{"shape":"square","loop":2,"do":[{"grow":2.0},{"shrink":2.0},{"grow":2.0},{"shrink":2.0}]}]}'),
    ("a red ball bounces and a purple square grows and shrinks, three times",  # whose count?
     '{"items":[{"color":"red","do":[{"bounce":60,"times":3}]},'
     '{"shape":"square","do":[{"grow":2.0},{"shrink":2.0},{"grow":2.0},{"shrink":2.0}]}]}'),
])
def test_no_count_loop_where_the_count_is_met_or_not_the_patterns(prompt: str, source: str) -> None:
    scene = parsed(source)
    assert count_loops(scene, prompt) == (scene, [])


@pytest.mark.parametrize("fix", [hand_off, play_together, count_loops])
def test_identity_when_nothing_applies(fix: Pass) -> None:
    scene = parsed('{"items":[{"do":[{"move":"right"}]}]}')
    assert fix(scene, "a circle moves right")[0] is scene
