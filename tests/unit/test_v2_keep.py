"""A v2 refinement keeps the base's value for every key the instruction gives no reason to change."""

from __future__ import annotations

from text2pixi.core.v2.keep import keep_base
from text2pixi.core.v2.language import V2Scene
from text2pixi.core.v2.patch import Patch, apply_patch, source_changes

BASE = V2Scene.model_validate({"bg": "white", "items": [
    {"id": "box", "shape": "square", "color": "blue", "at": "left", "do": [{"spin": "cw", "dur": 2}]},
    {"id": "ball", "color": "red", "at": "right", "do": [{"move": "left", "by": 200, "dur": 1, "ease": "easeOut"}]},
]})


def _refine(edits: list[dict], instruction: str) -> tuple[V2Scene, list[str]]:
    return keep_base(BASE, apply_patch(BASE, Patch.model_validate({"edit": edits})), instruction)


def test_a_rewritten_spin_keeps_keys_the_instruction_does_not_mention():
    """"Spin faster" written as a new step list with a yoyo and a changed direction: only the duration changes."""
    kept, reverted = _refine([{"set": "box", "do": [{"spin": "ccw", "dur": 1, "yoyo": True}]}],
                             "make the square spin faster")
    assert kept.items[0].do[0].model_dump(by_alias=True, exclude_defaults=True) == {"spin": "cw", "dur": 1.0}
    assert reverted == ["items.box.do.0.spin", "items.box.do.0.yoyo"]
    kept, reverted = _refine([{"set": "box", "do": [{"spin": "ccw", "dur": 1, "yoyo": True}]}],
                             "make the square spin the other way")
    assert kept.items[0].do[0].model_dump(by_alias=True, exclude_defaults=True) == {"spin": "ccw", "dur": 2.0}
    assert reverted == ["items.box.do.0.dur", "items.box.do.0.yoyo"]


def test_an_ease_change_keeps_the_move():
    kept, reverted = _refine([{"set": "ball", "do": [{"move": "left", "by": 100, "dur": 0.5, "ease": "elastic"}]}],
                             "make the ball move with an elastic ease")
    step = kept.items[1].do[0].model_dump(by_alias=True, exclude_defaults=True)
    assert step == {"move": "left", "by": 200, "dur": 1.0, "ease": "elastic"}  # "move" is not a distance
    assert reverted == ["items.ball.do.0.by", "items.ball.do.0.dur"]
    kept, _ = _refine([{"set": "ball", "do": [{"move": "left", "by": 100, "dur": 1, "ease": "easeOut"}]}],
                      "make the ball move only 100 px")
    assert kept.items[1].do[0].by == 100
    assert source_changes(BASE, kept) == ["items.ball.do"]


def test_item_keys_and_placement_are_kept_unless_mentioned():
    kept, reverted = _refine([{"set": "box", "color": "yellow", "size": "large", "at": "center"}],
                             "make the square yellow")
    box = kept.items[0]
    assert (box.color, box.size, box.at) == ("yellow", "medium", "left")
    assert reverted == ["items.box.size", "items.box.at"]
    kept, reverted = _refine([{"set": "box", "at": "center"}], "move the square to the middle")
    assert kept.items[0].at == "center" and reverted == []


def test_new_or_reordered_steps_and_new_items_are_the_patchs_to_decide():
    edits = [{"then": "box", "do": [{"fade": "out", "yoyo": True}]},
             {"add": {"id": "sun", "shape": "star", "color": "gold", "size": "large"}}]
    patched = apply_patch(BASE, Patch.model_validate({"edit": edits}))
    kept, reverted = keep_base(BASE, patched, "then fade the square out and add a sun")
    assert kept == patched and reverted == []
    swapped = [{"set": "ball", "do": [{"fade": "in", "dur": 3}, {"move": "left", "by": 200}]}]
    patched = apply_patch(BASE, Patch.model_validate({"edit": swapped}))
    assert keep_base(BASE, patched, "make the ball fade in first") == (patched, [])


def test_nothing_to_keep_returns_the_patched_scene_itself():
    patched = apply_patch(BASE, Patch.model_validate({"edit": [{"bg": "black"}]}))
    assert keep_base(BASE, patched, "make the background black") == (patched, [])


def test_a_step_rewritten_with_another_verb_of_its_kind_keeps_its_timing_and_what_it_does():
    """Measured on the default model: "spin anticlockwise" on a converted v1 base wrote {"spin":"ccw"} for
    {"rotate":360,"dur":4,...} (a spin's default is 2 s a turn: twice the speed), and "move with an elastic ease"
    wrote a relative move for an absolute one (another destination)."""
    base = V2Scene.model_validate({"items": [
        {"id": "star", "shape": "star", "xy": [400, 250], "do": [{"rotate": 360, "dur": 4, "ease": "linear",
                                                                    "times": -1}]},
        {"id": "ball", "xy": [200, 300], "do": [{"xy": [200, 500], "dur": 1, "ease": "linear", "times": -1,
                                                 "yoyo": True}]}]})
    spun = apply_patch(base, Patch.model_validate({"edit": [{"set": "star", "do": [{"spin": "ccw"}]}]}))
    kept, reverted = keep_base(base, spun, "make the star spin anticlockwise")
    assert kept.items[0].do[0].model_dump(by_alias=True, exclude_defaults=True) == {"spin": "ccw", "dur": 4.0}
    assert reverted == ["items.star.do.0.dur"]
    moved = apply_patch(base, Patch.model_validate({"edit": [{"set": "ball", "do": [
        {"move": "up", "by": "edge", "dur": 1, "ease": "elastic", "times": -1, "yoyo": True}]}]}))
    kept, reverted = keep_base(base, moved, "make the ball move with an elastic ease")
    assert kept.items[1].do[0].model_dump(by_alias=True, exclude_defaults=True) == {
        "xy": [200, 500], "dur": 1.0, "ease": "elastic", "times": -1, "yoyo": True}
    assert reverted == ["items.ball.do.0.move"]
    # Asked for: the new verb's direction and timing stay.
    kept, _ = keep_base(base, moved, "make the ball move up to the edge, elastic")
    assert kept == moved
    spun_cw = apply_patch(base, Patch.model_validate({"edit": [{"set": "star", "do": [{"spin": "cw", "dur": 1}]}]}))
    kept, reverted = keep_base(base, spun_cw, "make the star spin faster")
    assert kept.items[0].do[0].model_dump(by_alias=True, exclude_defaults=True) == {"spin": "cw", "dur": 1.0}
    assert reverted == []


def test_asking_for_the_verb_brings_its_own_easing_and_repeats():
    """"Make it spin" on a base that turns once by 90 degrees: a spin, forever and linear as spins are; only
    the base's duration stays (the sentence says nothing about speed)."""
    base = V2Scene.model_validate({"items": [{"id": "box", "shape": "square", "do": [{"rotate": 90, "dur": 3}]}]})
    spun = apply_patch(base, Patch.model_validate({"edit": [{"set": "box", "do": [{"spin": "cw"}]}]}))
    kept, reverted = keep_base(base, spun, "make the square spin")
    assert kept.items[0].do[0].model_dump(by_alias=True, exclude_defaults=True) == {"spin": "cw", "dur": 3.0}
    assert reverted == ["items.box.do.0.dur"]
