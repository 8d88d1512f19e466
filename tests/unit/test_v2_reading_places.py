"""Placement relative to other items, read with the sentence (reading/relations.py, reading/referents.py): an
item placed where the sentence puts it by another, and an item a reference names added from the sentence; each
where the sentence is plain and nothing where it is not."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from tests.unit.reading_support import parsed
from text2pixi.core.scene import Circle, Rect
from text2pixi.core.v2 import compile_scene
from text2pixi.core.v2.reading.referents import add_missing_referents
from text2pixi.core.v2.reading.relations import place_as_said


@pytest.mark.parametrize(("prompt", "source", "placed"), [
    ("a red square with a blue circle just to its right",  # both at the right anchor: square goes to the default
     '{"items":[{"shape":"square","color":"red","at":"right"},{"color":"blue","at":"right","gap":10}]}',
     '{"items":[{"shape":"square","color":"red"},{"color":"blue","at":"right","of":"square","gap":10}]}'),
    ("the word GO in white above a green rectangle",  # written backwards: the rectangle above the text
     '{"bg":"green","items":[{"shape":"text","text":"GO","color":"white","size":"large","at":"top"},'
     '{"color":"green","size":"small","at":"above","of":"go","do":[{"move":"up","by":100}]}]}',
     '{"bg":"green","items":[{"shape":"text","text":"GO","color":"white","size":"large","at":"above","of":"circle"},'
     '{"color":"green","size":"small","do":[{"move":"up","by":100}]}]}'),
    ("a small red circle on top of a large yellow square",  # a stage anchor with "of": rests on its top edge
     '{"items":[{"shape":"square","color":"yellow","size":"large"},{"shape":"circle","color":"red","at":"top",'
     '"of":"yellow"}]}',
     '{"items":[{"shape":"square","color":"yellow","size":"large"},{"color":"red","at":"above","of":"square",'
     '"gap":0}]}'),
    ("a brown rectangle along the bottom of the screen as the ground, with a white ball sitting on it",
     '{"items":[{"id":"ground","shape":"rect","color":"brown","at":"bottom"},{"color":"white","at":"above",'
     '"of":"ground"}]}',
     '{"items":[{"id":"ground","shape":"rect","color":"brown","at":"bottom"},{"color":"white","at":"above",'
     '"of":"ground","gap":0}]}'),
    ("the title Level 1 at the top of the screen, with Press start written below it",  # top is the title's: kept
     '{"items":[{"shape":"text","text":"Level 1","at":"top"},{"shape":"text","text":"Press start","at":"top"}]}',
     '{"items":[{"shape":"text","text":"Level 1","at":"top"},{"shape":"text","text":"Press start","at":"below",'
     '"of":"text"}]}'),
    ("the word Welcome with a green circle underneath it",
     '{"items":[{"shape":"text","text":"Welcome"},{"color":"green","at":"above","of":"text"}]}',
     '{"items":[{"shape":"text","text":"Welcome"},{"color":"green","at":"below","of":"text"}]}'),
    ("a tiny star in the middle and a big circle to its left",
     '{"items":[{"shape":"star","size":"tiny","at":"center"},{"shape":"circle","size":"large","at":"right"}]}',
     '{"items":[{"shape":"star","size":"tiny","at":"center"},{"size":"large","at":"left","of":"star"}]}'),
    ("the word HI on a red button",  # laid over it, so drawn after it
     '{"items":[{"shape":"text","text":"HI"},{"shape":"roundrect","color":"red"}]}',
     '{"items":[{"shape":"roundrect","color":"red"},{"shape":"text","text":"HI","at":"on","of":"roundrect"}]}'),
    ("a green circle under a star",  # below a star at the bottom would be off the stage: the star's anchor goes
     '{"items":[{"color":"green","at":"top"},{"shape":"star","at":"bottom"}]}',
     '{"items":[{"color":"green","at":"below","of":"star"},{"shape":"star"}]}'),
])
def test_an_item_goes_where_the_sentence_puts_it_by_another(prompt: str, source: str, placed: str) -> None:
    scene, fixes = place_as_said(parsed(source), prompt)
    assert scene.to_json() == placed
    assert fixes
    compile_scene(scene.model_copy(update={"bg": "black"}))  # a green item on green is the clash pass's to settle


@pytest.mark.parametrize(("prompt", "source"), [
    ("a red square on the left and a blue circle on the right",  # stage anchors, not places by an item
     '{"items":[{"shape":"square","color":"red","at":"left"},{"color":"blue","at":"right"}]}'),
    ("a yellow star directly above a green triangle",  # already so
     '{"items":[{"shape":"star","color":"yellow","at":"above","of":"triangle"},{"shape":"triangle","color":"green"}]}'),
    ("a yellow star directly above a green triangle",  # already so, by stage anchors
     '{"items":[{"shape":"star","color":"yellow","at":"top"},{"shape":"triangle","color":"green","at":"bottom"}]}'),
    ("a red square with a blue circle to its right",  # already so, the other way round
     '{"items":[{"shape":"square","color":"red","at":"left","of":"circle"},{"color":"blue"}]}'),
    ("a red square with a blue circle to its right",  # already so: spread in a row in this order
     '{"items":[{"shape":"square","color":"red"},{"color":"blue"}]}'),
    ("a circle above a square and a triangle",  # above both? three-way
     '{"items":[{"shape":"circle"},{"shape":"square"},{"shape":"triangle"}]}'),
    ("a red square and a green triangle with a blue circle to its right",  # "its": which one?
     '{"items":[{"shape":"square","color":"red"},{"shape":"triangle","color":"green"},{"color":"blue","at":"left"}]}'),
    ("a red ball jumps over a blue box",  # a path, not a place
     '{"items":[{"color":"red","at":"left"},{"shape":"rect","color":"blue"}]}'),
    ("two red circles above a blue square",  # copies
     '{"items":[{"color":"red","n":2,"in":"bottom"},{"shape":"square","color":"blue"}]}'),
    ("a red circle above a blue circle",  # which is which: both are circles, neither wrote a colour
     '{"items":[{"shape":"circle"},{"shape":"circle","at":"top"}]}'),
    ("a blue square spins on a loop", '{"items":[{"shape":"square","color":"blue","do":[{"spin":"cw"}]}]}'),
])
def test_nothing_is_placed_where_the_sentence_is_not_plain_or_the_reply_agrees(prompt: str, source: str) -> None:
    scene = parsed(source)
    assert place_as_said(scene, prompt) == (scene, [])


def test_a_referent_the_reply_never_wrote_is_added_and_the_circle_rests_on_it() -> None:
    prompt = "a small red circle on top of a large yellow square"
    raw = parsed('{"items":[{"shape":"circle","color":"red","at":"top","of":"yellow","do":[{"fade":"in"}]}]}')
    added, fixes = add_missing_referents(raw, prompt)
    assert added.to_json() == ('{"items":[{"shape":"square","color":"yellow","size":"large"},{"color":"red",'
                               '"at":"top","of":"square","do":[{"fade":"in"}]}]}') and len(fixes) == 1
    placed, _ = place_as_said(added, prompt)
    assert placed.to_json() == ('{"items":[{"shape":"square","color":"yellow","size":"large"},{"color":"red",'
                                '"at":"above","of":"square","gap":0,"do":[{"fade":"in"}]}]}')
    square, circle = compile_scene(placed).objects
    assert isinstance(square, Rect) and isinstance(circle, Circle)
    assert circle.y + circle.r == square.y - square.h / 2 and circle.x == square.x  # resting on its top edge


def test_a_referent_named_by_its_shape_in_a_step_is_added_with_its_colour() -> None:
    raw = parsed('{"items":[{"id":"ball","color":"red","do":[{"to":"above","of":"triangle"}]}]}')
    scene, fixes = add_missing_referents(raw, "a red ball jumps onto a green triangle")
    assert scene.to_json() == ('{"items":[{"shape":"triangle","color":"green"},{"id":"ball","color":"red",'
                               '"do":[{"to":"above","of":"triangle"}]}]}') and fixes
    compile_scene(scene)


@pytest.mark.parametrize(("prompt", "source"), [
    ("a small red circle on top of a large yellow square",  # the referent exists, named by its colour
     '{"items":[{"shape":"square","color":"yellow"},{"shape":"circle","color":"red","at":"top","of":"yellow"}]}'),
    ("a small red circle on top of a large yellow square",  # an uncoloured square may be it
     '{"items":[{"shape":"circle","color":"red","at":"top","of":"yellow"},{"shape":"rect"}]}'),
    ("a small red circle on top of a large yellow square",  # a square of another colour is it, wrongly coloured
     '{"items":[{"shape":"square","color":"orange"},{"shape":"circle","color":"red","at":"top","of":"yellow"}]}'),
    ("a small red circle on top of something yellow",  # the word is in no noun phrase
     '{"items":[{"shape":"circle","color":"red","at":"top","of":"yellow"}]}'),
    ("a red circle above a yellow square and a yellow star",  # two phrases have it
     '{"items":[{"shape":"circle","color":"red","at":"above","of":"yellow"}]}'),
    ("a red circle above the title",  # not a colour or shape word
     '{"items":[{"shape":"circle","color":"red","at":"above","of":"title"}]}'),
])
def test_nothing_is_added_where_the_referent_is_there_or_the_sentence_does_not_name_it(prompt: str,
                                                                                      source: str) -> None:
    scene = parsed(source)
    assert add_missing_referents(scene, prompt) == (scene, [])


def test_a_shape_labelled_with_its_own_name_loses_the_label_other_text_stays_an_error() -> None:
    for item in ({"shape": "star", "text": "star"}, {"shape": "rect", "text": "Rectangle"},
                 {"id": "sun", "shape": "circle", "text": "sun"}):
        assert parsed(f'{{"items":[{json.dumps(item)}]}}').items[0].text is None
    with pytest.raises(ValidationError, match="has \"text\" but shape 'star'"):
        parsed('{"items":[{"shape":"star","text":"Hello"}]}')
    assert parsed('{"items":[{"shape":"text","text":"star"}]}').items[0].text == "star"
