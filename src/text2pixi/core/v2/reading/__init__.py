"""A v2 reply read together with its sentence, before compiling (pure).

The compiler reads the source alone and never guesses. Where the model's slip is plain from the sentence, these
passes set it right, in this order, each change reported in the result's ``fixes``. Each pass is a module of
this package that fires only when the sentence is plain and the reply clearly disagrees with it:

1. what there is: items written twice over in one place are dropped (:mod:`.repeats`); per-copy colours with no
   count get one copy each (:mod:`.fill`); an item that a reference names and the reply left out is added from
   the sentence's words for it (:mod:`.referents`); a stray place, copies counted twice over, the layout the
   sentence names (:mod:`.arrangements`); the shape nouns of the sentence (:mod:`.nouns`); colours it states
   and the reply left out, the background's included (:mod:`.fill`);
2. what it does: the one motion a still scene's sentence names (:mod:`.motions`); seconds written as a distance,
   invisible swings (:mod:`.units`); an axis the sentence never names (:mod:`.axes`); a count of plays for an
   unrolled pattern, a forever loop the sentence asks for (:mod:`.loops`); the stage place a move goes to and
   the side a slide comes from (:mod:`.places`); off the screen and back (:mod:`.offscreen`); "slowly"
   (:mod:`.tempo`); the pivot (:mod:`.pivots`);
3. where and when, across items: the relation one item has to another (:mod:`.relations`); steps "at the same
   time" (:mod:`.together`); an item that goes "then", after another (:mod:`.handoffs`);
4. always: an item in the background's own colour is settled (:mod:`.clash`), and a colour that dropped there is
   filled from the sentence where it names one ("a grey cloud in a blue sky" written with a blue cloud).

1-3 read a fresh request's sentence, which describes the scene; a refinement's instruction describes a change,
so only 4 applies to it. English only: a sentence in another language matches none of the words.
"""

from __future__ import annotations

from collections.abc import Callable

from text2pixi.core.v2.language import V2Scene
from text2pixi.core.v2.reading.arrangements import arrange_as_said
from text2pixi.core.v2.reading.axes import drop_unstated_axis
from text2pixi.core.v2.reading.clash import settle_clashes
from text2pixi.core.v2.reading.fill import copies_for_colors, fill_stated
from text2pixi.core.v2.reading.handoffs import hand_off
from text2pixi.core.v2.reading.loops import add_loops, count_loops
from text2pixi.core.v2.reading.motions import add_stated_motion
from text2pixi.core.v2.reading.nouns import fill_shapes
from text2pixi.core.v2.reading.offscreen import go_off_screen
from text2pixi.core.v2.reading.pivots import fill_pivot
from text2pixi.core.v2.reading.places import go_to_named_place, slide_from_named_side
from text2pixi.core.v2.reading.referents import add_missing_referents
from text2pixi.core.v2.reading.relations import place_as_said
from text2pixi.core.v2.reading.repeats import drop_repeats
from text2pixi.core.v2.reading.tempo import slow_down
from text2pixi.core.v2.reading.together import play_together
from text2pixi.core.v2.reading.units import fix_units

Pass = Callable[[V2Scene, str], tuple[V2Scene, list[str]]]

FRESH_PASSES: tuple[Pass, ...] = (
    lambda s, _: drop_repeats(s), lambda s, _: copies_for_colors(s), add_missing_referents, arrange_as_said,
    fill_shapes, fill_stated,
    add_stated_motion, fix_units, drop_unstated_axis, count_loops, add_loops, go_to_named_place,
    slide_from_named_side, go_off_screen, slow_down, fill_pivot,
    place_as_said, play_together, hand_off,
)
"""The passes of a fresh scene, in order (see the module doc: later ones see what earlier ones added)."""


def read_with_sentence(scene: V2Scene, prompt: str, *, fresh: bool) -> tuple[V2Scene, list[str]]:
    """``scene`` with the slips its sentence makes plain set right (see the module doc), and what was done."""
    fixes: list[str] = []
    if fresh:
        for fix in FRESH_PASSES:
            scene, done = fix(scene, prompt)
            fixes += done
    scene, settled = settle_clashes(scene, prompt)
    fixes += settled
    if fresh and settled:
        scene, filled = fill_stated(scene, prompt)
        fixes += filled
    return scene, fixes
