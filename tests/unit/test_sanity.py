"""Sanity checks on compiled scenes: what cannot be seen, what changes nothing, and fix vs re-ask by the sentence."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from text2pixi.core import timeline as tl
from text2pixi.core.sanity import ReviewedScene, SanityContext, review
from text2pixi.core.sanity_issues import find_issues
from text2pixi.core.scene import Scene
from text2pixi.core.stated import stated_colors
from text2pixi.core.visibility import FIX_CONTRAST, MIN_CONTRAST, contrast, legible, sample_times, states


def scene(objects: list[dict[str, Any]], bg: str = "black", anims: list[dict[str, Any]] | None = None) -> Scene:
    return Scene.model_validate({"objects": objects, "bg": bg, "anims": anims or []})


def square(color: str = "white", **extra: Any) -> dict[str, Any]:
    return {"type": "rect", "id": "sq", "x": 400, "y": 300, "w": 80, "h": 80, "color": color, **extra}


def ball(color: str = "red", **extra: Any) -> dict[str, Any]:
    return {"type": "circle", "id": "ball", "x": 400, "y": 300, "r": 40, "color": color, **extra}


def kinds(s: Scene) -> list[str]:
    return [i.kind for i in find_issues(s)]


def always_legible(s: Scene, ratio: float = MIN_CONTRAST) -> bool:
    """Every object's colour, at every sampled moment, reaches ``ratio`` on the background."""
    bg = tl.rgb(s.bg)
    return all(contrast(r.color, bg) >= ratio for rows in states(s).values() for r in rows)


# -- contrast: the measured pairs behind the threshold ------------------------------------------------------------

@pytest.mark.parametrize(("fg", "bg", "ratio", "visible"), [
    ("white", "#f0f0f0", 1.14, False), ("yellow", "white", 1.07, False), ("navy", "black", 1.31, False),
    ("gold", "white", 1.40, False), ("cyan", "white", 1.25, False),
    ("blue", "black", 2.44, True), ("orange", "white", 1.97, True), ("purple", "black", 2.23, True),
    ("red", "green", 1.28, True),  # hue, not luminance
    ("white", "black", 21.0, True),
])
def test_contrast_of_measured_pairs(fg: str, bg: str, ratio: float, visible: bool) -> None:
    assert contrast(tl.rgb(fg), tl.rgb(bg)) == pytest.approx(ratio, abs=0.01)
    assert legible(tl.rgb(fg), tl.rgb(bg)) is visible


def test_sample_times_cover_breakpoints_and_the_scene_length() -> None:
    s = scene([ball()], anims=[{"type": "move", "target": "ball", "x": 600, "y": 300, "dur": 2, "delay": 0.5}])
    times = sample_times(s)
    assert times[0] == 0 and times[-1] == 2.5 and 0.5 in times


# -- near-invisible objects ------------------------------------------------------------------------------------

def test_white_on_near_white_is_found_and_fixed_with_a_dark_background() -> None:
    s = scene([square()], bg="#f0f0f0")
    assert kinds(s) == ["contrast"]
    r = review(s, "a square spins")
    assert r.problems == [] and r.scene.bg == "black" and r.scene.objects[0].color == "white"
    assert r.fixes == ["changed the background from #f0f0f0 to black: objects were nearly invisible on it"]
    Scene.model_validate_json(r.scene.to_json())
    assert always_legible(r.scene, FIX_CONTRAST) and find_issues(r.scene) == []


def test_a_visible_scene_is_left_alone() -> None:
    s = scene([square(), ball("blue")], bg="black")
    assert find_issues(s) == []
    r = review(s, "a white square and a blue ball")
    assert r.scene is s and r.fixes == [] and r.problems == []


def test_a_stated_object_colour_keeps_its_colour_and_the_background_changes() -> None:
    r = review(scene([{"type": "star", "id": "star", "x": 400, "y": 300, "r": 50, "color": "yellow"}], bg="white"),
               "a yellow star spins")
    assert r.scene.objects[0].color == "yellow" and r.scene.bg == "black" and r.problems == []
    assert always_legible(r.scene, FIX_CONTRAST)


def test_a_stated_background_keeps_its_colour_and_the_object_is_recoloured_in_its_family() -> None:
    r = review(scene([{"type": "star", "id": "star", "x": 400, "y": 300, "r": 50, "color": "yellow"}], bg="white"),
               "a star on a white background")
    assert r.scene.bg == "white" and r.problems == []
    new = r.scene.objects[0].color
    assert new != "yellow" and contrast(tl.rgb(new), tl.rgb("white")) >= FIX_CONTRAST
    assert "recoloured 'star' from yellow to" in r.fixes[0]
    Scene.model_validate_json(r.scene.to_json())
    assert always_legible(r.scene, FIX_CONTRAST)


def test_both_colours_stated_is_kept_as_asked() -> None:
    s = scene([{"type": "star", "id": "star", "x": 400, "y": 300, "r": 50, "color": "yellow"}], bg="white")
    r = review(s, "a yellow star on a white background")
    assert r.scene is s and r.fixes == [] and r.problems == [] and len(r.kept) == 1


def test_a_background_that_contradicts_the_sentence_is_re_asked() -> None:
    s = scene([{"type": "text", "id": "title", "x": 400, "y": 300, "text": "Hi", "color": "#fefefe"}], bg="white")
    r = review(s, "white text on a dark blue background")
    assert [p.message for p in r.problems] == [
        "the sentence asks for a dark blue background; bg is white, so the #fefefe text 'title' is nearly "
        "invisible on it (contrast 1.01:1 at best, below 1.5:1)"]
    assert r.scene.bg == "white" and r.fixes == []  # nothing the sentence speaks of is changed


def test_an_object_colour_that_contradicts_the_sentence_is_re_asked() -> None:
    s = scene([ball("red", x=200), square("#fafafa", x=600)], bg="white")
    r = review(s, "a red ball and a blue square")
    assert len(r.problems) == 1 and r.problems[0].target == "sq"
    assert "the sentence asks for a blue rect; 'sq' is #fafafa on the white background" in r.problems[0].message


def test_a_colour_animation_that_shows_the_object_for_a_while_is_not_invisible() -> None:
    tint = [{"type": "color", "target": "sq", "to": "red", "dur": 1, "delay": 1}]
    assert kinds(scene([square()], bg="#f0f0f0", anims=tint)) == []
    # ... but a colour change to another near-white colour leaves it invisible all along: both get fixed
    s = scene([square("#fafafa")], bg="white", anims=[{"type": "color", "target": "sq", "to": "snow", "dur": 1}])
    assert kinds(s) == ["contrast"]
    r = review(s, "a square on a white background")
    assert r.scene.bg == "white" and always_legible(r.scene, FIX_CONTRAST)


def test_no_stated_colour_is_ever_changed() -> None:
    cases = [("a yellow star and a white ball", [square("yellow"), ball("white", x=200)], "#f0f0f0"),
             ("a pink square rotates", [square("pink")], "#f0f0f0"),
             ("a white line across the stage", [{"type": "line", "id": "ln", "x": 100, "y": 300, "x2": 700,
                                                 "y2": 300, "color": "white"}], "#f0f0f0"),
             ("a gold star on a white background", [square("gold")], "white")]
    for prompt, objects, bg in cases:
        r = review(scene(objects, bg=bg), prompt)
        stated = stated_colors(prompt)
        for before, after in zip(scene(objects, bg=bg).objects, r.scene.objects, strict=True):
            if stated.object_stated(before.color):
                assert after.color == before.color, prompt
        if stated.bg_stated():
            assert r.scene.bg == bg, prompt


# -- transparent and off-stage ---------------------------------------------------------------------------------

def test_transparent_all_along_is_fixed_or_re_asked() -> None:
    s = scene([ball(alpha=0.0)], anims=[{"type": "fade", "target": "ball", "to": 0.05, "dur": 1}])
    assert kinds(s) == ["transparent"]
    r = review(s, "a red ball")
    assert r.scene.objects[0].alpha == 1.0 and r.scene.anims == [] and not find_issues(r.scene)
    Scene.model_validate_json(r.scene.to_json())
    asked = review(s, "a red ball fades in")
    assert asked.problems and "transparent at every moment (alpha at most 0.05)" in asked.problems[0].message


def test_a_fade_in_from_transparent_is_fine() -> None:
    assert find_issues(scene([ball(alpha=0.0)], anims=[{"type": "fade", "target": "ball", "to": 1, "dur": 1}])) == []


def _off_stage(s: Scene, **update: Any) -> Scene:
    """A compiled scene may place objects off the stage; build one past the v1 validator."""
    return s.model_copy(update={"objects": [s.objects[0].model_copy(update=update)]})


def test_off_stage_uses_the_extent_not_the_centre() -> None:
    assert kinds(_off_stage(scene([ball()]), x=-30)) == []  # centre off, 10 px of it on the stage
    assert kinds(_off_stage(scene([ball()]), x=-50)) == ["off_stage"]
    line = scene([{"type": "line", "id": "ln", "x": 10, "y": 300, "x2": 90, "y2": 300}])
    assert kinds(line.model_copy(update={"objects": [line.objects[0].model_copy(
        update={"x": -100, "x2": 20})]})) == []  # its midpoint is off the stage, its end is not


def test_off_stage_is_fixed_onto_the_stage_or_re_asked() -> None:
    s = _off_stage(scene([ball()], anims=[{"type": "rotate", "target": "ball", "by": 90}]), x=1000)
    r = review(s, "a red ball spins")
    assert find_issues(r.scene) == [] and r.fixes[0].startswith("moved 'ball' onto the stage")
    assert r.scene.objects[0].x == 800 - 40
    Scene.model_validate_json(r.scene.to_json())
    asked = review(s, "a red ball at the right edge")
    assert "'ball' is off the 800x600 stage at every moment (at 0 s it spans x 960..1040" in asked.message()


def test_a_move_onto_the_stage_is_not_off_stage() -> None:
    s = _off_stage(scene([ball()], anims=[{"type": "move", "target": "ball", "x": 400, "y": 300}]), x=-200)
    assert find_issues(s) == []


# -- animations that change nothing ----------------------------------------------------------------------------

NO_OPS = [
    ({"type": "move", "target": "ball", "x": 400, "y": 300}, "a move of 'ball' to (400, 300), where it already is"),
    ({"type": "rotate", "target": "ball", "by": 0}, "a rotation of 'ball' by 0 degrees"),
    ({"type": "scale", "target": "ball", "to": 1}, "a scale of 'ball' to 1, the scale it already has"),
    ({"type": "fade", "target": "ball", "to": 1}, "a fade of 'ball' to alpha 1, the alpha it already has"),
    ({"type": "color", "target": "ball", "to": "red"}, "a colour change of 'ball' to red, the colour it already has"),
]


@pytest.mark.parametrize(("anim", "said"), NO_OPS)
def test_a_no_op_the_sentence_does_not_mention_is_dropped(anim: dict[str, Any], said: str) -> None:
    s = scene([ball()], anims=[anim])
    assert kinds(s) == ["no_op"]
    r = review(s, "a red ball")
    assert r.scene.anims == [] and r.problems == [] and said in r.fixes[0]


@pytest.mark.parametrize(("anim", "prompt"), [
    (NO_OPS[0][0], "a red ball moves to the right"), (NO_OPS[1][0], "a red ball rotates"),
    (NO_OPS[2][0], "the ball grows"), (NO_OPS[3][0], "a red ball fades in"),
    (NO_OPS[4][0], "the ball turns blue")])
def test_a_no_op_the_sentence_asks_for_is_re_asked(anim: dict[str, Any], prompt: str) -> None:
    r = review(scene([ball()], anims=[anim]), prompt)
    assert r.fixes == [] and len(r.problems) == 1 and r.scene.anims[0].type == anim["type"]


def test_a_move_re_ask_has_the_numbers_and_the_words() -> None:
    s = scene([ball()], anims=[{"type": "move", "target": "ball", "x": 600, "y": 300, "dur": 1},
                               {"type": "move", "target": "ball", "x": 600, "y": 300, "delay": 1}])
    r = review(s, "a red ball moves to the right, then further right")
    assert r.message() == ("anims[1], a move of 'ball' to (600, 300), where it already is at 1 s (so it does not "
                           'move); the sentence asks for motion ("right"): give a destination away from where the '
                           "object is")


def test_real_animations_are_not_no_ops() -> None:
    s = scene([ball()], anims=[{"type": "move", "target": "ball", "x": 600, "y": 300},
                               {"type": "rotate", "target": "ball", "by": 360, "repeat": -1},
                               {"type": "move", "target": "ball", "x": 400, "y": 300, "delay": 1}])  # and back
    assert find_issues(s) == []


def test_a_no_op_that_stops_a_loop_does_something() -> None:
    s = scene([ball()], anims=[{"type": "scale", "target": "ball", "to": 2, "repeat": -1, "yoyo": True},
                               {"type": "scale", "target": "ball", "to": 2, "delay": 3}])
    assert find_issues(s) == []  # at 3 s the loop is at scale 2 and the second one holds it there


def test_a_refinement_is_not_blamed_for_its_base() -> None:
    base = scene([square()], bg="#f0f0f0", anims=[{"type": "rotate", "target": "sq", "by": 0}])
    refined = base.model_copy(update={"anims": [base.anims[0].model_copy(update={"dur": 2.0})]})
    r = review(refined, "make it slower", base)
    assert r.scene is refined and r.fixes == [] and r.problems == []
    assert review(refined, "make it slower").fixes  # without the base, both would be fixed


# -- the response model of the re-ask loop ---------------------------------------------------------------------

def test_reviewed_scene_has_the_scene_schema() -> None:
    assert ReviewedScene.model_json_schema() == Scene.model_json_schema()


def test_reviewed_scene_raises_what_the_sentence_asks_for_until_the_last_attempt() -> None:
    reply = scene([ball()], anims=[NO_OPS[0][0]]).to_json()
    ctx = SanityContext("a red ball moves to the right")
    with pytest.raises(ValidationError, match=r"a move of 'ball' to \(400, 300\), where it already is"):
        ReviewedScene.model_validate_json(reply, context={"sanity": ctx})
    last = SanityContext(ctx.prompt, last_attempt=lambda: True)
    assert ReviewedScene.model_validate_json(reply, context={"sanity": last}).to_json() == reply
    assert ReviewedScene.model_validate_json(reply).to_json() == reply  # no context: a plain Scene
    # what the sentence does not speak of is not an error (it is fixed afterwards)
    assert ReviewedScene.model_validate_json(reply, context={"sanity": SanityContext("a red ball")})


def test_same_colour_rejection_names_the_background_the_sentence_asks_for() -> None:
    reply = '{"objects":[{"type":"text","id":"t","x":400,"y":300,"text":"Hi"}],"bg":"white"}'
    with pytest.raises(ValidationError) as info:
        ReviewedScene.model_validate_json(reply, context={"sanity": SanityContext(
            "white text on a dark blue background")})
    assert "is white on a white background, so it would be invisible" in str(info.value)
    assert "the sentence asks for a dark blue background, not white: set bg to it" in str(info.value)
    with pytest.raises(ValidationError) as plain:
        ReviewedScene.model_validate_json(reply, context={"sanity": SanityContext("white text")})
    assert "the sentence asks" not in str(plain.value)


# -- what a sentence states ------------------------------------------------------------------------------------

def test_stated_colours() -> None:
    s = stated_colors("white text on a dark blue background")
    assert [w.text for w in s.background] == ["dark blue"] and [w.text for w in s.objects] == ["white"]
    assert s.bg_accepts("navy") and not s.bg_accepts("white") and not s.bg_accepts("skyblue")
    assert [w.text for w in stated_colors("the background is navy and a yellow star spins").background] == ["navy"]
    assert stated_colors("a dark background").bg_accepts("black")
    assert not stated_colors("a dark background").bg_accepts("white")
    red_ball = stated_colors("a red ball and a blue square")
    assert red_ball.kind_mismatch("circle", "crimson") == [] and red_ball.kind_mismatch("rect", "white")
    assert stated_colors("drei blaue Quadrate").objects == []
    hexa = stated_colors("make the background #F0F0F0")
    assert hexa.bg_accepts("#f0f0f0") and hexa.bg_accepts("white") and not hexa.bg_accepts("black")
