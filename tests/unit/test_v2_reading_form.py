"""The form of the items a sentence states, read into a v2 reply (core/v2/reading/axes.py, nouns.py,
arrangements.py): scales on both axes unless a direction is said, the shape the nouns name, copies laid out,
placed and counted as said; each where the sentence is plain, nothing where it is not."""

from __future__ import annotations

import pytest

from tests.unit.reading_support import Pass, assert_fixed, assert_unchanged, parsed
from text2pixi.core.scene import Rect
from text2pixi.core.v2 import compile_scene
from text2pixi.core.v2.reading.arrangements import arrange_as_said
from text2pixi.core.v2.reading.axes import drop_unstated_axis
from text2pixi.core.v2.reading.nouns import fill_shapes
from text2pixi.core.v2.reading.pivots import fill_pivot

STARS = '"colors":["red","green","blue","yellow","purple","orange","pink","brown","white","gray","cyan","magenta",' \
        '"lime","teal","skyblue"]'


@pytest.mark.parametrize(("fix", "prompt", "source", "fixed"), [
    (drop_unstated_axis, "a purple square grows to three times its size from its top-left corner",
     '{"items":[{"shape":"square","color":"purple","at":"top-left","do":[{"scale":3.0,"axis":"x","about":"top-left"}]}]}',
     '{"items":[{"shape":"square","color":"purple","at":"top-left","do":[{"scale":3.0,"about":"top-left"}]}]}'),
    (drop_unstated_axis, "the word GOAL growing bigger and bigger",
     '{"items":[{"id":"goal","shape":"text","text":"GOAL","color":"green","size":"large","do":[{"scale":2.0,"axis":"x"}]}]}',
     '{"items":[{"id":"goal","shape":"text","text":"GOAL","color":"green","size":"large","do":[{"scale":2.0}]}]}'),
    (fill_shapes, "the word GO in white above a green rectangle",
     '{"items":[{"shape":"text","text":"GO","color":"white","size":"large","at":"top"},'
     '{"color":"green","size":"small","at":"above","of":"go"}]}',
     '{"items":[{"shape":"text","text":"GO","color":"white","size":"large","at":"top"},'
     '{"shape":"rect","color":"green","size":"small","at":"above","of":"go"}]}'),
    (fill_shapes, "a bouncing blue ball", '{"items":[{"shape":"ellipse","color":"blue","do":[{"bounce":60}]}]}',
     '{"items":[{"color":"blue","do":[{"bounce":60}]}]}'),
    (fill_shapes, "a blue oval moves in a circle", '{"items":[{"shape":"star","do":[{"move":"left"}]}]}',
     '{"items":[{"shape":"ellipse","do":[{"move":"left"}]}]}'),
    (fill_shapes, "a brown box on the bottom with a small green ball on it",
     '{"items":[{"color":"brown","at":"bottom"},{"color":"green","size":"small","at":"on","of":"circle"}]}',
     '{"items":[{"shape":"rect","color":"brown","at":"bottom"},{"color":"green","size":"small","at":"on",'
     '"of":"rect"}]}'),  # by colour; the reference follows its item's new name
    (fill_shapes, "first a red square fades out, then a green circle fades in",
     '{"items":[{"color":"red","do":[{"fade":"out"}]},{"color":"green","after":"circle","do":[{"fade":"in"}]}]}',
     '{"items":[{"shape":"square","color":"red","do":[{"fade":"out"}]},{"color":"green","after":"square",'
     '"do":[{"fade":"in"}]}]}'),  # "circle" named the red one, a square now
    (fill_shapes, "a yellow bar slides in", '{"items":[{"color":"yellow","do":[{"slide":"in"}]}]}',
     '{"items":[{"shape":"rect","color":"yellow","do":[{"slide":"in"}]}]}'),
    (arrange_as_said, "twelve stars in a ring, each one a different colour",
     '{"items":[{"shape":"star","n":12,' + STARS + '}]}',
     '{"items":[{"shape":"star","n":12,"layout":"ring",' + STARS + '}]}'),
    (arrange_as_said, "six dots stacked one above the other", '{"items":[{"n":6}]}',
     '{"items":[{"n":6,"layout":"column"}]}'),
    (arrange_as_said, "nine green squares in a 3 by 3 grid", '{"items":[{"shape":"square","n":9}]}',
     '{"items":[{"shape":"square","n":9,"layout":"grid"}]}'),
    (arrange_as_said, "four blue triangles stacked in a column on the left side of the screen",
     '{"items":[{"shape":"triangle","color":"blue","n":4,"layout":"column","cols":1,"do":[{"rotate":90}]},'
     '{"at":"left"}]}',
     '{"items":[{"shape":"triangle","color":"blue","n":4,"layout":"column","in":"left","cols":1,'
     '"do":[{"rotate":90}]}]}'),
    (arrange_as_said, "a red square that spins, in the top right corner",
     '{"items":[{"shape":"square","color":"red","do":[{"spin":"cw"}]},{"at":"top-right","gap":10}]}',
     '{"items":[{"shape":"square","color":"red","at":"top-right","gap":10,"do":[{"spin":"cw"}]}]}'),
    (arrange_as_said, "two squares side by side with a 40 pixel gap between them, one orange and one purple",
     '{"items":[{"shape":"square","color":"orange","gap":40,"n":2},{"shape":"square","color":"purple","gap":40,"n":2}]}',
     '{"items":[{"shape":"square","color":"orange","gap":40},'
     '{"shape":"square","color":"purple","at":"right","of":"square","gap":40}]}'),
    (arrange_as_said, "three big red balls", '{"items":[{"n":3},{"n":3},{"n":3}]}',
     '{"items":[{},{},{}]}'),
])
def test_the_form_the_sentence_states_is_read_into_the_reply(fix: Pass, prompt: str, source: str, fixed: str) -> None:
    assert_fixed(fix, prompt, source, fixed)


@pytest.mark.parametrize(("fix", "prompt", "source"), [
    (drop_unstated_axis, "a long blue rectangle gets wider, only horizontally",
     '{"items":[{"shape":"rect","do":[{"scale":1.5,"axis":"x"}]}]}'),
    (drop_unstated_axis, "a rubber band stretches sideways", '{"items":[{"do":[{"grow":2,"axis":"x"}]}]}'),
    (drop_unstated_axis, "a yellow bar grows", '{"items":[{"shape":"rect","do":[{"scale":2,"axis":"y"}]}]}'),
    (drop_unstated_axis, "a green square grows to the right", '{"items":[{"do":[{"grow":2,"axis":"x"}]}]}'),
    (drop_unstated_axis, "a square scales in x only", '{"items":[{"shape":"square","do":[{"scale":2,"axis":"x"}]}]}'),
    (drop_unstated_axis, "a tower shrinks", '{"items":[{"shape":"rect","do":[{"shrink":2}]}]}'),  # already xy
    (fill_shapes, "a grey cloud drifts", '{"items":[{"shape":"ellipse","color":"grey"}]}'),  # no shape named
    (fill_shapes, "a blinking orange light", '{"items":[{"do":[{"blink":1}]}]}'),
    (fill_shapes, "a bar and a ball", '{"items":[{},{}]}'),  # two items without a shape
    (fill_shapes, "a red square and a red triangle", '{"items":[{"color":"red"},{"color":"red"}]}'),  # which?
    (fill_shapes, "a red ball and a blue ball", '{"items":[{"color":"red"},{"color":"blue"}]}'),  # circles
    (fill_shapes, "a yellow bar", '{"items":[{"shape":"square"}]}'),  # a box may be a square
    (fill_shapes, "a box", '{"items":[{"shape":"roundrect"}]}'),
    (fill_shapes, "a red line grows", '{"items":[{"shape":"rect"}]}'),  # a thick line
    (fill_shapes, "the word BALL bounces", '{"items":[{"shape":"text","text":"BALL"}]}'),  # text never changes
    (fill_shapes, "a moon next to a star", '{"items":[{"shape":"circle"}]}'),  # two objects, one item
    (fill_shapes, "a dot moves in a straight line", '{"items":[{"do":[{"move":"right"}]}]}'),  # a path
    (fill_shapes, "a red square and a blue square", '{"items":[{"shape":"square"},{"color":"blue"}]}'),
    (arrange_as_said, "three squares in a row and five stars in a circle",
     '{"items":[{"shape":"square","n":3},{"shape":"star","n":5}]}'),
    (arrange_as_said, "five stars spin around", '{"items":[{"shape":"star","n":5,"do":[{"spin":"cw"}]}]}'),
    (arrange_as_said, "five stars in a ring", '{"items":[{"shape":"star","n":5,"layout":"grid"}]}'),  # written
    (arrange_as_said, "a ball at the right", '{"items":[{"at":"right"}]}'),  # one item: a real ball
    (arrange_as_said, "a triangle and a ball on the right", '{"items":[{"shape":"triangle"},{"at":"right"}]}'),
    (arrange_as_said, "a triangle and a cloud on the right", '{"items":[{"shape":"triangle"},{"at":"right"}]}'),
    (arrange_as_said, "a square with something to its right",
     '{"items":[{"shape":"square"},{"at":"right","of":"square"}]}'),
    (arrange_as_said, "a square at the top and a dot at the bottom",
     '{"items":[{"shape":"square","at":"top"},{"at":"bottom"}]}'),  # the square has a place already
    (arrange_as_said, "a star, and below", '{"items":[{"shape":"star"},{"at":"below"}]}'),  # below what?
    (arrange_as_said, "two squares", '{"items":[{"shape":"square","n":2}]}'),
    (arrange_as_said, "three squares", '{"items":[{"shape":"square","n":3},{"shape":"square","n":3}]}'),
    (arrange_as_said, "three rows of three green circles", '{"items":[{"n":3},{"n":3},{"n":3}]}'),  # nine
])
def test_nothing_changes_where_the_sentence_is_not_plain(fix: Pass, prompt: str, source: str) -> None:
    assert_unchanged(fix, prompt, source)


def test_two_squares_side_by_side_are_40_px_apart_on_stage() -> None:
    scene, _ = arrange_as_said(parsed('{"items":[{"shape":"square","color":"orange","gap":40,"n":2},'
                                      '{"shape":"square","color":"purple","gap":40,"n":2}]}'),
                               "two squares side by side with a 40 pixel gap between them, one orange and one purple")
    left, right = compile_scene(scene).objects
    assert isinstance(left, Rect) and isinstance(right, Rect)
    assert right.x - right.w / 2 - (left.x + left.w / 2) == 40 and left.y == right.y
    assert all(o.w / 2 <= o.x <= scene.w - o.w / 2 and o.h / 2 <= o.y <= scene.h - o.h / 2 for o in (left, right))


def test_a_lone_bar_gets_its_shape_and_the_pivot_its_sentence_names() -> None:
    scene, shaped = fill_shapes(parsed('{"items":[{"color":"yellow","do":[{"scale":2,"axis":"y"},'
                                       '{"spin":"cw","times":1}]}]}'),
                                "a yellow bar grows upward from its bottom edge to double its height")
    scene, pivoted = fill_pivot(scene, "a yellow bar grows upward from its bottom edge to double its height")
    assert scene.to_json() == ('{"items":[{"shape":"rect","color":"yellow","do":[{"scale":2.0,"axis":"y",'
                               '"about":"bottom"},{"spin":"cw","about":"bottom","times":1}]}]}')
    assert shaped and pivoted


def test_extra_colours_past_the_count_are_not_drawn() -> None:
    scene, _ = arrange_as_said(parsed('{"items":[{"shape":"star","n":12,' + STARS + '}]}'),
                               "twelve stars in a ring, each one a different colour")
    colors = [o.color for o in compile_scene(scene).objects]
    assert len(colors) == 12 and len(set(colors)) == 12
