"""The one motion a sentence states, where the reply wrote a still scene (pure).

"five squares spinning in a row, spread evenly across the screen" came back as
``{"items":[{"shape":"square","color":"blue","size":"small","n":5}]}``: five squares, standing still. When the
scene has no step at all, it is one item (copies allowed), the sentence names one kind of object at most, and
it names exactly one motion (:data:`MOTIONS`, "fading in" or "out", a move verb with the sentence's one
direction right after it: "moving right", "rolls to the left", or with the one stage place it goes to: "moves
to the bottom right corner", :func:`~text2pixi.core.v2.reading.places.destination`) and nothing else that moves
(:data:`OTHER`), the item gets that motion's usual step.

"a ball moving right on a white background" came back as ``{"bg":"white","items":[{"at":"right"}]}``: the
direction written as the place. An item at the very side it moves towards cannot go that way, so when the
sentence names no place, that ``at`` goes too. Amounts ("90 degrees", "3 times"), negations, a second colour
for a flash and a direction for a motion in place ("bouncing to the right") are not plain: nothing is done.
English only, fresh scenes only (:mod:`text2pixi.core.v2.reading`).
"""

from __future__ import annotations

import re
from typing import Any

from text2pixi.core.edit_words import kinds_named, tokens
from text2pixi.core.stated import stated_colors
from text2pixi.core.v2.language import Item, V2Scene
from text2pixi.core.v2.reading.places import destination
from text2pixi.core.v2.reading.units import USUAL

MOTIONS: dict[str, tuple[frozenset[str], dict[str, Any]]] = {
    "spin": (frozenset({"spin", "spins", "spinning", "rotate", "rotating", "rotates", "twirl", "twirls", "twirling",
                        "whirling", "whirls", "revolving", "revolves"}), {"spin": "cw"}),
    "pulse": (frozenset({"pulse", "pulses", "pulsing", "pulsate", "pulsates", "pulsating", "throbbing", "throbs"}),
              {"pulse": 1.2}),
    "bounce": (frozenset({"bounce", "bounces", "bouncing", "hop", "hops", "hopping"}), {"bounce": USUAL["bounce"]}),
    "float": (frozenset({"floating", "floats", "bobbing", "bobs", "hovering", "hovers"}), {"float": USUAL["float"]}),
    "blink": (frozenset({"blink", "blinks", "blinking", "flash", "flashes", "flashing"}), {"blink": 1, "times": -1}),
    "shake": (frozenset({"shake", "shakes", "shaking", "trembling", "trembles", "vibrating", "vibrates",
                         "quivering", "quivers"}), {"shake": USUAL["shake"]}),
}
"""Motions in place, each with its words and the step it is (the sizes are the presets' usual ones)."""
MOVE_VERBS = ("moving|moves|move|going|goes|rolling|rolls|sliding|slides|drifting|drifts|gliding|glides|"
              "travell?ing|travels|flying|flies|heading|heads|walking|walks|running|runs|racing|races")
_MOVE = re.compile(rf"\b(?:{MOVE_VERBS})\b")
_HEADING = re.compile(rf"\b(?:{MOVE_VERBS}) (?:(?:to|towards?) the )?(left|right|up|down)(?:wards?)?\b")
FADES = frozenset({"fade", "fades", "fading"})
_FADE = re.compile(r"\bfad(?:e|es|ing) (in|out|away)\b( and (?:back )?(?:in|out))?")
DIRECTION = re.compile(r"\b(?:(?:to|towards?) the (?:left|right)|(?<!the )(?<!top )(?<!bottom )(?<!upper )(?<!lower )"
                       r"(?<!-)(?:left|right)(?! (?:side|edge|corner|half|hand|of)\b)|up|down|upwards?|downwards?"
                       r"|leftwards?|rightwards?|away)\b")
"""A direction ("right", "to the left", not a place: "on the right", "top right"); with a motion in place it is a
second motion ("bouncing to the right"), not plain."""
_ACROSS = re.compile(r"(\w+) (?:across|along|through|over|around the (?:screen|stage))\b")
OTHER = FADES | frozenset({"grow", "grows", "growing", "shrink", "shrinks", "shrinking",
                   "expand", "expands", "expanding", "fall", "falls", "falling", "drop", "drops", "dropping", "jump",
                   "jumps", "jumping", "orbit", "orbits", "orbiting", "swing", "swings", "swinging", "zoom", "zooms",
                   "zooming", "wave", "waves", "waving", "wiggle", "wiggles", "wiggling", "wobble", "wobbles",
                   "wobbling", "dance", "dances", "dancing", "appear", "appears", "appearing", "disappear",
                   "disappears", "disappearing", "vanish", "vanishes", "vanishing", "change", "changes", "changing",
                   "turn", "turns", "turning", "become", "becomes", "flip", "flips", "flipping", "rise", "rises",
                   "rising", "sink", "sinks", "sinking", "circling", "swirling", "stretch", "stretches", "twinkle",
                   "twinkles", "twinkling", "flicker", "flickers", "flickering", "glow", "glows", "glowing",
                   "then", "while", "enter", "enters", "leave", "leaves", "exit", "exits", "stop", "stops", "still",
                   "not", "no", "never", "without", "motionless", "static", "stationary", "frozen"})
"""Words of another motion, of a sequence, or of none: with one of them the sentence is not one plain motion."""
AMOUNT = re.compile(r"\d+(?:\.\d+)?\s*(?:degrees?|°|times|turns?|x)\b|\b(?:degrees?|once|twice|thrice|half|quarter)\b"
                    r"|n't\b")
"""An amount or a count a usual step would not honour."""
SIDE = {"left": "left", "right": "right", "up": "top", "down": "bottom"}
"""The stage side a direction heads for."""


def stated_motion(prompt: str) -> dict[str, Any] | None:
    """The step of the one motion the sentence names and nothing else moves, or None (see the module doc)."""
    text, words = prompt.lower(), tokens(prompt)
    fades = _FADE.findall(text)
    found = [step for words_of, step in MOTIONS.values() if words & words_of]
    found += [{"fade": "out" if way == "away" else way} for way, both in fades if not both]
    other = OTHER - FADES if fades else OTHER
    if AMOUNT.search(text) or words & other or len(found) + bool(_MOVE.search(text)) != 1:
        return None
    if found:
        flash = words & MOTIONS["blink"][0] - {"blink", "blinks", "blinking"}
        travels = {w for w in _ACROSS.findall(text) if any(w in words_of for words_of, _ in MOTIONS.values())}
        if DIRECTION.search(_FADE.sub(" ", text)) or travels or (flash and len(stated_colors(prompt).objects) > 1):
            return None  # "bouncing to the right", "bouncing across", "flashing red and blue": a second motion
        if "spin" in found[0] and re.search(r"\b(?:anti|counter)[ -]?clockwise\b", text):
            return {"spin": "ccw"}
        return found[0]
    if (place := destination(prompt)) is not None:
        return place  # "moves to the bottom right corner", "glides to the left edge": the one place it goes to
    headings = _HEADING.findall(text)
    if len(headings) != 1 or len(DIRECTION.findall(text)) != 1:
        return None
    return {"move": headings[0]}


def add_stated_motion(scene: V2Scene, prompt: str) -> tuple[V2Scene, list[str]]:
    """``scene``'s one still item given the one motion its sentence states (see the module doc)."""
    if len(scene.items) != 1 or scene.items[0].do:
        return scene, []
    nouns = {w.removesuffix("es") if w.endswith("xes") else w.removesuffix("s") for w in tokens(prompt)
             if kinds_named(w)}
    step = stated_motion(prompt) if len(nouns) <= 1 else None
    if step is None:
        return scene, []
    item = scene.items[0]
    source = item.model_dump(by_alias=True, exclude_unset=True) | {"do": [step]}
    name, verb = item.id or item.shape, next(iter(step))
    fix = f"item {name}: {verb} {step[verb]}, the motion the sentence states (the reply stood still)"
    side = SIDE.get(step.get("move", ""))
    places = tokens(prompt) & {"top", "bottom", "centre", "center", "middle", "corner", "edge", "side"}
    heads = (side and side in str(item.at).split("-") and not places) or step.get("to") == item.at or (
        step.get("by") == "edge" and step.get("move") == item.at)
    if heads and isinstance(item.at, str) and item.of is None:
        del source["at"]
        fix += f"; it starts in the middle, not at the {item.at} it heads for"
    return scene.model_copy(update={"items": [Item.model_validate(source)]}), [fix]
