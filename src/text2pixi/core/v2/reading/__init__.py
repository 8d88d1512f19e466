"""A v2 reply read together with its sentence, before compiling (pure).

The compiler reads the source alone and never guesses. Where the model's slip is plain from the sentence, these
passes set it right, in this order, each one reported in the result's ``fixes``:

1. items written twice over in one place are dropped (:mod:`~text2pixi.core.v2.reading.repeats`);
2. colours the sentence states and the reply left out are filled in, and per-copy colours with no count get one
   copy each (:mod:`~text2pixi.core.v2.reading.fill`);
3. seconds written as a distance become a duration, invisible swings get their usual size
   (:mod:`~text2pixi.core.v2.reading.units`);
4. a loop the sentence asks for is added to a finite sequence (:mod:`~text2pixi.core.v2.reading.loops`);
5. a move by a distance goes to the one stage place the sentence moves it to (:mod:`~text2pixi.core.v2.reading.places`);
6. the pivot ("about its bottom-left corner") and a lone item's shape ("a bar") the sentence names and the reply
   left out are filled in (:mod:`~text2pixi.core.v2.reading.pivots`);
7. an item in the background's own colour is settled (:mod:`~text2pixi.core.v2.reading.clash`), and a colour that
   dropped there is filled from the sentence where it names one ("a grey cloud in a blue sky" written with a
   blue cloud).

1-6 read a fresh request's sentence, which describes the scene; a refinement's instruction describes a change,
so only 7 applies to it.
"""

from __future__ import annotations

from text2pixi.core.v2.reading.clash import settle_clashes
from text2pixi.core.v2.reading.fill import copies_for_colors, fill_stated
from text2pixi.core.v2.language import V2Scene
from text2pixi.core.v2.reading.loops import add_loops
from text2pixi.core.v2.reading.pivots import fill_pivot_and_shape
from text2pixi.core.v2.reading.places import go_to_named_place
from text2pixi.core.v2.reading.repeats import drop_repeats
from text2pixi.core.v2.reading.units import fix_units


def read_with_sentence(scene: V2Scene, prompt: str, *, fresh: bool) -> tuple[V2Scene, list[str]]:
    """``scene`` with the slips its sentence makes plain set right (see the module doc), and what was done."""
    fixes: list[str] = []
    if fresh:
        for fix in (drop_repeats, copies_for_colors, lambda s: fill_stated(s, prompt),
                    lambda s: fix_units(s, prompt), lambda s: add_loops(s, prompt),
                    lambda s: go_to_named_place(s, prompt), lambda s: fill_pivot_and_shape(s, prompt)):
            scene, done = fix(scene)
            fixes += done
    scene, settled = settle_clashes(scene, prompt)
    fixes += settled
    if fresh and settled:
        scene, filled = fill_stated(scene, prompt)
        fixes += filled
    return scene, fixes
