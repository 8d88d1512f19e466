"""The motion a sentence states, read with a v2 reply: off the stage and back, a place a slide goes to, the side
it comes from, the one motion of a still scene, and a slow tempo; each where the sentence is plain, and nothing
where it is not."""

from __future__ import annotations

import pytest

from tests.unit.reading_support import Pass, assert_fixed, assert_unchanged, parsed
from text2pixi.core.v2 import compile_scene
from text2pixi.core.v2.reading.motions import add_stated_motion
from text2pixi.core.v2.reading.offscreen import go_off_screen
from text2pixi.core.v2.reading.places import go_to_named_place, slide_from_named_side
from text2pixi.core.v2.reading.tempo import slow_down


@pytest.mark.parametrize(("prompt", "source", "fixed"), [
    ("a purple ball rolls to the right until it is off the screen",
     '{"items":[{"color":"purple","do":[{"move":"right","dur":1.0,"delay":1.0}]}]}',
     '{"items":[{"color":"purple","do":[{"move":"right","by":"off","dur":1.0,"delay":1.0}]}]}'),
    ("a white square slides off the screen to the left and then comes back to where it started",
     '{"items":[{"shape":"square","color":"white","do":[{"move":"left"}]}]}',
     '{"items":[{"shape":"square","color":"white","do":[{"move":"left","by":"off"},{"to":"start"}]}]}'),
    ("a car drives out of sight to the left, then returns", '{"items":[{"do":[{"move":"left","by":150,"dur":2}]}]}',
     '{"items":[{"do":[{"move":"left","by":"off","dur":2.0},{"to":"start","dur":2.0}]}]}'),
    ("a ball leaves the screen and comes back", '{"items":[{"do":[{"move":"up","by":"off"},{"color":"red"}]}]}',
     '{"items":[{"do":[{"move":"up","by":"off"},{"to":"start"},{"color":"red"}]}]}'),
    ("a ball rolls off-screen to the right, never to return", '{"items":[{"do":[{"move":"right"}]}]}',
     '{"items":[{"do":[{"move":"right","by":"off"}]}]}'),
    ("a ball rolls off the screen and returns to the centre", '{"items":[{"do":[{"move":"right"}]}]}',
     '{"items":[{"do":[{"move":"right","by":"off"}]}]}'),  # another place: not its start
    ("a ball flies off the screen and back to its start", '{"items":[{"do":[{"move":"up"},{"to":"start"}]}]}',
     '{"items":[{"do":[{"move":"up","by":"off"},{"to":"start"}]}]}'),
])
def test_an_item_the_sentence_sends_off_the_stage_goes_off_and_back(prompt: str, source: str, fixed: str) -> None:
    assert_fixed(go_off_screen, prompt, source, fixed)


@pytest.mark.parametrize(("prompt", "source"), [
    ("a ball drops off the screen", '{"items":[{"do":[{"fall":"off"}]}]}'),  # already leaves
    ("a ball slides out of the picture", '{"items":[{"do":[{"slide":"out"}]}]}'),
    ("a ball moves to the right", '{"items":[{"do":[{"move":"right"}]}]}'),  # no off-screen words
    ("a ball and a square roll off the screen",  # two movers
     '{"items":[{"do":[{"move":"right"}]},{"shape":"square","do":[{"move":"left"}]}]}'),
    ("a ball rolls right then left off the screen", '{"items":[{"do":[{"move":"right"},{"move":"left"}]}]}'),
    ("a ball bounces off the screen edges", '{"items":[{"do":[{"move":"right"}]}]}'),
    ("a ball rolls around without leaving the screen", '{"items":[{"do":[{"move":"right"}]}]}'),
    ("a ball rolls 200 px right and off the screen", '{"items":[{"do":[{"move":"right","by":200}]}]}'),
    ("a ball goes off the screen and comes back", '{"items":[{"do":[{"move":"left","by":"off"},{"to":"start"}]}]}'),
    ("a ball goes off the screen", '{"items":[{"do":[{"move":"left","by":"off"}]}]}'),
])
def test_nothing_goes_off_where_the_sentence_or_the_reply_does_not_say_so(prompt: str, source: str) -> None:
    assert_unchanged(go_off_screen, prompt, source)


@pytest.mark.parametrize(("fix", "prompt", "source", "fixed"), [
    (go_to_named_place, "a red box slides over to the left edge of the stage",
     '{"items":[{"shape":"rect","color":"red","do":[{"slide":"in","side":"left"}]}]}',
     '{"items":[{"shape":"rect","color":"red","do":[{"move":"left","by":"edge"}]}]}'),
    (go_to_named_place, "a ball glides to the top right corner", '{"items":[{"do":[{"slide":"in","dur":2}]}]}',
     '{"items":[{"do":[{"to":"top-right","dur":2.0}]}]}'),
    (slide_from_named_side, "the message Game saved drops in from the top",
     '{"items":[{"shape":"text","text":"Game saved","color":"red","size":"large","at":"top","do":[{"slide":"in"}]}]}',
     '{"items":[{"shape":"text","text":"Game saved","color":"red","size":"large","at":"top",'
     '"do":[{"slide":"in","side":"top"}]}]}'),
    (slide_from_named_side, "a star falls in from above, then spins",
     '{"items":[{"do":[{"slide":"in"},{"spin":"cw"}]}]}',
     '{"items":[{"do":[{"slide":"in","side":"top"},{"spin":"cw"}]}]}'),
])
def test_a_slide_goes_to_the_place_and_comes_from_the_side_the_sentence_names(fix: Pass, prompt: str, source: str,
                                                                              fixed: str) -> None:
    assert_fixed(fix, prompt, source, fixed)


@pytest.mark.parametrize(("fix", "prompt", "source"), [
    (go_to_named_place, "a box slides in from the left", '{"items":[{"do":[{"slide":"in","side":"left"}]}]}'),
    (go_to_named_place, "a box slides in from the left to the centre", '{"items":[{"do":[{"slide":"in"}]}]}'),
    (go_to_named_place, "a box slides to the centre", '{"items":[{"do":[{"slide":"in"}]}]}'),  # it is there
    (go_to_named_place, "a box on the left slides to the left edge", '{"items":[{"at":"left","do":[{"slide":"in"}]}]}'),
    (go_to_named_place, "a box slides to the left edge", '{"items":[{"do":[{"slide":"out"}]}]}'),
    (go_to_named_place, "two boxes slide to the left edge",
     '{"items":[{"do":[{"slide":"in"}]},{"shape":"square","do":[{"slide":"in"}]}]}'),
    (slide_from_named_side, "a ball slides in from the top", '{"items":[{"do":[{"slide":"in","side":"left"}]}]}'),
    (slide_from_named_side, "a ball slides in from the left", '{"items":[{"do":[{"slide":"in"}]}]}'),  # as compiled
    (slide_from_named_side, "a ball slides in from the top left corner", '{"items":[{"do":[{"slide":"in"}]}]}'),
    (slide_from_named_side, "a ball comes from the top and a box from the bottom",
     '{"items":[{"do":[{"slide":"in"}]},{"shape":"square","do":[{"slide":"in"}]}]}'),
    (slide_from_named_side, "a ball slides away from the top", '{"items":[{"do":[{"slide":"out"}]}]}'),
])
def test_a_slide_stays_where_the_sentence_brings_it_in_or_names_no_one_place(fix: Pass, prompt: str,
                                                                             source: str) -> None:
    assert_unchanged(fix, prompt, source)


@pytest.mark.parametrize(("prompt", "source", "fixed"), [
    ("five squares spinning in a row, spread evenly across the screen",
     '{"items":[{"shape":"square","color":"blue","size":"small","n":5}]}',
     '{"items":[{"shape":"square","color":"blue","size":"small","n":5,"do":[{"spin":"cw"}]}]}'),
    ("a ball moving right on a white background", '{"bg":"white","items":[{"at":"right"}]}',
     '{"bg":"white","items":[{"do":[{"move":"right"}]}]}'),
    ("a ball at the top rolling to the left", '{"items":[{"at":"top"}]}',
     '{"items":[{"at":"top","do":[{"move":"left"}]}]}'),
    ("a blinking star in the top right corner", '{"items":[{"shape":"star","at":"top-right"}]}',
     '{"items":[{"shape":"star","at":"top-right","do":[{"blink":1,"times":-1}]}]}'),  # a place, not a direction
    ("a ball in the top-left corner moving right", '{"items":[{"at":"top-left"}]}',
     '{"items":[{"at":"top-left","do":[{"move":"right"}]}]}'),
    ("a star twirling anticlockwise", '{"items":[{"shape":"star"}]}',
     '{"items":[{"shape":"star","do":[{"spin":"ccw"}]}]}'),
    ("a pulsing red dot", '{"items":[{"color":"red"}]}', '{"items":[{"color":"red","do":[{"pulse":1.2}]}]}'),
    ("a bouncing ball", '{"items":[{}]}', '{"items":[{"do":[{"bounce":60}]}]}'),
    ("a balloon bobbing gently", '{"items":[{}]}', '{"items":[{"do":[{"float":20}]}]}'),
    ("a flashing yellow light", '{"items":[{}]}', '{"items":[{"do":[{"blink":1,"times":-1}]}]}'),
    ("a phone shaking", '{"items":[{"shape":"rect"}]}', '{"items":[{"shape":"rect","do":[{"shake":10}]}]}'),
    ("the word Hello fading in", '{"items":[{"shape":"text","text":"Hello"}]}',
     '{"items":[{"shape":"text","text":"Hello","do":[{"fade":"in"}]}]}'),
    ("a grey cloud fading away", '{"items":[{"shape":"ellipse"}]}',
     '{"items":[{"shape":"ellipse","do":[{"fade":"out"}]}]}'),
    ("a crimson circle moves to the bottom right corner", '{"items":[{"color":"crimson","at":"bottom-right"}]}',
     '{"items":[{"color":"crimson","do":[{"to":"bottom-right"}]}]}'),  # the goal written as the place: it goes
    ("a red square glides to the left edge", '{"items":[{"shape":"square","at":"left"}]}',
     '{"items":[{"shape":"square","do":[{"move":"left","by":"edge"}]}]}'),
    ("a ball moves from the top left corner to the centre", '{"items":[{"at":"top-left"}]}',
     '{"items":[{"at":"top-left","do":[{"to":"center"}]}]}'),
])
def test_a_still_reply_gets_the_one_motion_its_sentence_states(prompt: str, source: str, fixed: str) -> None:
    assert_fixed(add_stated_motion, prompt, source, fixed)


@pytest.mark.parametrize(("prompt", "source"), [
    ("a red square in the centre", '{"items":[{"shape":"square"}]}'),
    ("a ball spinning", '{"items":[{"do":[{"bounce":60}]}]}'),  # it moves already
    ("a ball spinning and bouncing", '{"items":[{}]}'),
    ("a square rotating 45 degrees", '{"items":[{"shape":"square"}]}'),
    ("a ball bouncing to the right", '{"items":[{}]}'),
    ("a ball bouncing across the screen", '{"items":[{}]}'),
    ("a ball moving", '{"items":[{}]}'),
    ("a ball moving up and to the right", '{"items":[{}]}'),
    ("a ball moves right and grows", '{"items":[{}]}'),
    ("a light flashing red and blue", '{"items":[{}]}'),
    ("a ball that is not spinning", '{"items":[{}]}'),
    ("a ball that doesn't bounce", '{"items":[{}]}'),
    ("a spinning star next to a circle", '{"items":[{"shape":"star"}]}'),  # two things named, one written
    ("a spinning star", '{"items":[{"shape":"star"},{}]}'),  # two items
    ("a logo fading in and out", '{"items":[{}]}'),
    ("a ball spins, then stops", '{"items":[{}]}'),
    ("a ball spins and moves to the centre", '{"items":[{}]}'),
    ("a red square in the top left corner", '{"items":[{"shape":"square","at":"top-left"}]}'),
])
def test_no_motion_is_added_where_the_sentence_states_no_one_plain_motion(prompt: str, source: str) -> None:
    assert_unchanged(add_stated_motion, prompt, source)


@pytest.mark.parametrize(("prompt", "source", "fixed"), [
    ("a grey cloud slowly fades away in a blue sky",
     '{"bg":"blue","items":[{"shape":"ellipse","color":"grey","do":[{"fade":"out"}]}]}',
     '{"bg":"blue","items":[{"shape":"ellipse","color":"grey","do":[{"fade":"out","dur":2.0}]}]}'),
    ("a wheel slowly spinning", '{"items":[{"do":[{"spin":"cw","turns":2}]}]}',
     '{"items":[{"do":[{"spin":"cw","turns":2.0,"dur":8.0}]}]}'),
    ("a ball gradually moves right, waits, then gently bounces",
     '{"items":[{"do":[{"move":"right"},{"wait":1},{"bounce":60,"times":2}]}]}',
     '{"items":[{"do":[{"move":"right","dur":2.0},{"wait":1.0},{"bounce":60,"dur":1.6,"times":2}]}]}'),
])
def test_a_slow_sentence_doubles_the_default_times(prompt: str, source: str, fixed: str) -> None:
    assert_fixed(slow_down, prompt, source, fixed)


@pytest.mark.parametrize(("prompt", "source"), [
    ("a cloud slowly fades away", '{"items":[{"do":[{"fade":"out","dur":3}]}]}'),  # a dur written
    ("a ball slowly rises, then quickly falls", '{"items":[{"do":[{"move":"up"},{"fall":"off"}]}]}'),
    ("a cloud slowly fades away over 5 seconds", '{"items":[{"do":[{"fade":"out"}]}]}'),
    ("a cloud fades away", '{"items":[{"do":[{"fade":"out"}]}]}'),
    ("a ball slowly rolls right while a star spins",
     '{"items":[{"do":[{"move":"right"}]},{"shape":"star","do":[{"spin":"cw"}]}]}'),
    ("a ball slowly appears", '{"items":[{}]}'),  # nothing moves
])
def test_the_tempo_stays_where_the_sentence_is_not_plainly_slow(prompt: str, source: str) -> None:
    assert_unchanged(slow_down, prompt, source)


def test_a_still_reply_rolls_off_the_stage_slowly_when_the_passes_run_in_order() -> None:
    scene, fixes = parsed('{"items":[{"color":"red"}]}'), []
    for fix in (add_stated_motion, go_to_named_place, slide_from_named_side, go_off_screen, slow_down):
        scene, done = fix(scene, "a red ball slowly rolling to the right until it is off the screen")
        fixes += done
    assert scene.to_json() == '{"items":[{"color":"red","do":[{"move":"right","by":"off","dur":2.0}]}]}'
    assert len(fixes) == 3
    compile_scene(scene)
