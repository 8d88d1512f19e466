"""A v2 reply read with its sentence (core/v2/reading.py): repeats dropped, stated colours filled, units, loops,
named places; each pass where the sentence is plain and nothing where it is not."""

from __future__ import annotations

import pytest

from tests.unit.reading_support import parsed
from text2pixi.core.sanity import SanityContext
from text2pixi.core.v2.reading.fill import copies_for_colors, fill_stated
from text2pixi.core.v2.reading.loops import add_loops
from text2pixi.core.v2.reading.pivots import fill_pivot
from text2pixi.core.v2.reading.places import go_to_named_place
from text2pixi.core.v2.reading.repeats import drop_repeats
from text2pixi.core.v2.reading.units import fix_units
from text2pixi.engine.replies import ReviewedV2Scene


@pytest.mark.parametrize(("prompt", "source", "filled"), [
    ("a grey cloud slowly fades away in a blue sky", '{"items":[{"shape":"ellipse","do":[{"fade":"out"}]}]}',
     '{"bg":"blue","items":[{"shape":"ellipse","color":"grey","do":[{"fade":"out"}]}]}'),
    ("a yellow square shrinks", '{"items":[{"shape":"square","do":[{"shrink":2}]}]}',
     '{"items":[{"shape":"square","color":"yellow","do":[{"shrink":2.0}]}]}'),
    ("a blinking orange light", '{"items":[{"do":[{"blink":1}]}]}',
     '{"items":[{"color":"orange","do":[{"blink":1}]}]}'),  # one item: the one colour named is its own
    ("a pale pink star on a dark blue background", '{"items":[{"shape":"star"}]}',
     '{"bg":"darkblue","items":[{"shape":"star","color":"pink"}]}'),
    ("a red square with a blue circle to its right", '{"items":[{"shape":"square"},{"at":"right","of":"square"}]}',
     '{"items":[{"shape":"square","color":"red"},{"color":"blue","at":"right","of":"square"}]}'),
])
def test_stated_colours_fill_what_the_reply_left_out(prompt: str, source: str, filled: str) -> None:
    scene, fixes = fill_stated(parsed(source), prompt)
    assert scene.to_json() == filled
    assert fixes


@pytest.mark.parametrize(("prompt", "source"), [
    ("a red square and a blue square", '{"items":[{"shape":"square"},{"shape":"square"}]}'),  # which is which?
    ("a red ball and a circle", '{"items":[{"color":"red"},{}]}'),  # red is taken: the circle is another
    ("a yellow square", '{"items":[{"shape":"square","color":"orange"}]}'),  # written: the review's to re-ask
    ("a dark background with a star", '{"bg":"black","items":[{"shape":"star"}]}'),
    ("un carré rouge", '{"items":[{"shape":"square"}]}'),  # English only
])
def test_nothing_is_filled_where_the_sentence_is_not_clear_or_the_reply_wrote_it(prompt: str, source: str) -> None:
    assert fill_stated(parsed(source), prompt) == (parsed(source), [])


def test_items_written_twice_in_one_place_are_dropped_loose_ones_are_not() -> None:
    twice = '{"shape":"square","color":"blue","n":3,"do":[{"spin":"cw"}]}'
    scene, fixes = drop_repeats(parsed(f'{{"items":[{twice},{twice},{twice}]}}'))
    assert scene.to_json() == f'{{"items":[{twice}]}}' and len(fixes) == 2
    loose = parsed('{"items":[{"color":"red"},{"color":"red"}]}')  # spread in a row: two balls
    assert drop_repeats(loose) == (loose, [])
    named = parsed('{"items":[{"at":"top"},{"id":"b","at":"top"},{"at":"left","of":"b"}]}')
    assert [i.id for i in drop_repeats(named)[0].items] == [None, "b", None]  # b is named: kept


def test_a_fresh_reply_is_deduplicated_then_filled_a_refinement_is_not() -> None:
    item = '{"shape":"square","n":3,"do":[{"spin":"cw"}]}'
    reply = f'{{"items":[{item},{item}]}}'
    fresh = ReviewedV2Scene.model_validate_json(
        reply, context={"sanity": SanityContext("three blue squares spinning in a row")})
    source, compiled, fixes = fresh.plain()
    assert source.to_json() == '{"items":[{"shape":"square","color":"blue","n":3,"do":[{"spin":"cw"}]}]}'
    assert len(compiled.objects) == 3 and len(fixes) == 2
    refined = ReviewedV2Scene.model_validate_json(
        reply, context={"sanity": SanityContext("make them blue", base=fresh.plain()[1])})
    assert refined.plain()[0].to_json() == reply


def test_a_colour_misplaced_on_the_item_goes_to_the_background_and_the_item_gets_its_own() -> None:
    reply = '{"items":[{"shape":"ellipse","color":"blue","do":[{"fade":"out"}]}]}'
    fresh = ReviewedV2Scene.model_validate_json(
        reply, context={"sanity": SanityContext("a grey cloud slowly fades away in a blue sky")})
    source, compiled, fixes = fresh.plain()
    assert source.to_json() == ('{"bg":"blue","items":[{"shape":"ellipse","color":"grey",'
                                '"do":[{"fade":"out","dur":2.0}]}]}')  # "slowly": reading/tempo.py
    assert len(fixes) == 4


@pytest.mark.parametrize(("prompt", "source", "fixed"), [
    ("a white circle moves right for 2 seconds, then moves down for 1 second",
     '{"items":[{"do":[{"move":"right","by":2},{"move":"down","by":1}]}]}',
     '{"items":[{"do":[{"move":"right","dur":2.0},{"move":"down","dur":1.0}]}]}'),
    ("una pelota roja que rebota", '{"items":[{"do":[{"bounce":1},{"shake":1},{"float":2}]}]}',
     '{"items":[{"do":[{"bounce":60},{"shake":10},{"float":20}]}]}'),
    ("a ball wanders off", '{"items":[{"do":[{"move":"right","by":2}]}]}',
     '{"items":[{"do":[{"move":"right"}]}]}'),
])
def test_seconds_written_as_distances_and_invisible_swings_are_set_right(prompt: str, source: str,
                                                                         fixed: str) -> None:
    scene, fixes = fix_units(parsed(source), prompt)
    assert scene.to_json() == fixed and fixes


@pytest.mark.parametrize(("prompt", "source"), [
    ("a ball moves 2 px to the right over 2 seconds", '{"items":[{"do":[{"move":"right","by":2}]}]}'),
    ("a ball moves right by 20 for 2 seconds", '{"items":[{"do":[{"move":"right","by":20,"dur":2}]}]}'),
    ("a ball bounces 3 pixels high", '{"items":[{"do":[{"bounce":3}]}]}'),
    ("a ball moves right for 5 seconds", '{"items":[{"do":[{"move":"right","by":100}]}]}'),
])
def test_numbers_the_sentence_gives_in_pixels_or_that_are_not_its_seconds_stay(prompt: str, source: str) -> None:
    assert fix_units(parsed(source), prompt) == (parsed(source), [])


def test_a_negative_distance_is_its_size_the_direction_says_where() -> None:
    assert parsed('{"items":[{"do":[{"move":"down","by":-120}]}]}').items[0].do[0].by == 120


@pytest.mark.parametrize(("prompt", "source", "loops"), [
    ("a rectangle goes left and then right, over and over",
     '{"items":[{"shape":"rect","do":[{"move":"left"},{"move":"right"}]}]}', [True]),
    ("a square that keeps changing colour between red and blue",
     '{"items":[{"shape":"square","color":"red","do":[{"color":"blue"},{"wait":1},{"color":"red"}]}]}', [True]),
    ("a ball bounces forever", '{"items":[{"do":[{"bounce":60}]}]}', [False]),  # one step: its own times
    ("a ball moves right then spins forever", '{"items":[{"do":[{"move":"right"},{"spin":"cw"}]}]}', [False]),
    ("a ball moves right then left", '{"items":[{"do":[{"move":"right"},{"move":"left"}]}]}', [False]),
    ("it moves up and down forever", '{"items":[{"loop":3,"do":[{"move":"up"},{"move":"down"}]}]}', [3]),
])
def test_a_loop_the_sentence_asks_for_is_added_to_finite_sequences(prompt: str, source: str,
                                                                   loops: list[object]) -> None:
    scene, fixes = add_loops(parsed(source), prompt)
    assert [i.loop for i in scene.items] == loops and bool(fixes) == (loops == [True])


@pytest.mark.parametrize(("prompt", "source", "fixed"), [
    ("a white ball moves from the top left corner to the bottom right corner",
     '{"items":[{"at":"top-left","do":[{"move":"down-right","dur":2}]}]}',
     '{"items":[{"at":"top-left","do":[{"to":"bottom-right","dur":2.0}]}]}'),
    ("a cyan circle on the right side moves to the left side",
     '{"items":[{"at":"right","do":[{"move":"left","by":150}]}]}', '{"items":[{"at":"right","do":[{"to":"left"}]}]}'),
    ("a yellow ball moves to the top right, then turns purple",
     '{"items":[{"do":[{"move":"right","by":100,"ease":"linear"},{"color":"purple"}]}]}',
     '{"items":[{"do":[{"to":"top-right","ease":"linear"},{"color":"purple"}]}]}'),
    ("a green ball careens to the left edge", '{"items":[{"do":[{"move":"left","by":150}]}]}',
     '{"items":[{"do":[{"move":"left","by":"edge"}]}]}'),
    ("a ball starts in the bottom left corner and moves to the centre",
     '{"items":[{"at":"bottom-left","do":[{"move":"down","by":150}]}]}',
     '{"items":[{"at":"bottom-left","do":[{"to":"center"}]}]}'),
])
def test_a_move_by_a_distance_goes_to_the_place_the_sentence_names(prompt: str, source: str, fixed: str) -> None:
    scene, fixes = go_to_named_place(parsed(source), prompt)
    assert scene.to_json() == fixed and fixes


@pytest.mark.parametrize(("prompt", "source"), [
    ("a red circle moves to the right", '{"items":[{"do":[{"move":"right"}]}]}'),  # a direction, not a place
    ("a ball moves to the left edge", '{"items":[{"do":[{"move":"left","by":"edge"}]}]}'),  # already there
    ("a ball moves to the centre, then to the top left corner",  # two places: which step is which?
     '{"items":[{"do":[{"move":"up","by":100}]}]}'),
    ("a ball goes right then up to the top left corner",  # two moves: the sentence's place is one of them
     '{"items":[{"do":[{"move":"right"},{"move":"up"}]}]}'),
    ("a ball and a square move to the centre",  # two movers
     '{"items":[{"do":[{"move":"up"}]},{"shape":"square","do":[{"move":"down"}]}]}'),
    ("a ball moves to the top right corner", '{"items":[{"do":[{"to":"top"}]}]}'),  # a place: the model's
])
def test_moves_stay_where_the_sentence_names_no_one_place_for_one_move(prompt: str, source: str) -> None:
    assert go_to_named_place(parsed(source), prompt) == (parsed(source), [])


@pytest.mark.parametrize(("prompt", "source", "fixed"), [
    ("a blue square rotates 90 degrees anticlockwise about its bottom-left corner",
     '{"items":[{"shape":"square","do":[{"rotate":90,"dir":"ccw"}]}]}',
     '{"items":[{"shape":"square","do":[{"rotate":90,"dir":"ccw","about":"bottom-left"}]}]}'),
    ("a long blue rectangle gets wider, only horizontally, while its left side stays put",
     '{"items":[{"shape":"rect","do":[{"scale":1.5,"axis":"x"}]}]}',
     '{"items":[{"shape":"rect","do":[{"scale":1.5,"axis":"x","about":"left"}]}]}'),
])
def test_a_pivot_the_sentence_names_is_filled_in(prompt: str, source: str, fixed: str) -> None:
    scene, fixes = fill_pivot(parsed(source), prompt)
    assert scene.to_json() == fixed and fixes


@pytest.mark.parametrize(("prompt", "source"), [
    ("a square rotates about its top-left corner", '{"items":[{"shape":"square","do":[{"rotate":90,"about":"top"}]}]}'),
    ("a square grows from its left side and its top", '{"items":[{"shape":"square","do":[{"grow":2}]}]}'),
    ("a square and a star rotate about its corner... its left edge",
     '{"items":[{"shape":"square","do":[{"rotate":90}]},{"shape":"star","do":[{"rotate":90}]}]}'),
])
def test_no_pivot_where_the_sentence_is_not_plain(prompt: str, source: str) -> None:
    assert fill_pivot(parsed(source), prompt) == (parsed(source), [])


def test_per_copy_colours_without_a_count_are_one_copy_each() -> None:
    scene, fixes = copies_for_colors(parsed('{"items":[{"shape":"star","colors":["red","orange","yellow"]},'
                                            '{"colors":["red","blue"],"n":1},{"colors":["red","blue"],"at":"top"}]}'))
    assert [i.n for i in scene.items] == [3, 1, 1] and len(fixes) == 1
    assert parsed(scene.to_json()) == scene  # the count is written out: the source reads back the same


def test_reaching_an_edge_is_a_place_too() -> None:
    scene, _ = go_to_named_place(parsed('{"items":[{"at":"left","start":2,"do":[{"move":"right","dur":3}]}]}'),
                                 "a ball starts moving after 2 seconds and reaches the right edge 3 seconds later")
    assert scene.to_json() == '{"items":[{"at":"left","start":2.0,"do":[{"move":"right","by":"edge","dur":3.0}]}]}'
