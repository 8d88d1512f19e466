"""What an edit instruction mentions: the field categories it gives a reason to change, and the objects it names.

IO-free. The vocabularies below are a heuristic over words, deliberately generous: a category an
instruction does not mention is one :func:`text2pixi.core.preserve.preserve` keeps at its base value,
so a missed word costs an intended change, an extra one only lets the model's own change through.
"""

from __future__ import annotations

import re

from text2pixi.core.colors import CSS_COLOR_NAMES
from text2pixi.core.scene import Scene

_WORDS: dict[str, frozenset[str]] = {
    "color": frozenset({"color", "colour", "colors", "colours", "colored", "coloured", "paint", "tint", "hue",
                        "darker", "lighter", "brighter", "dark", "light", "bright", "pale", "gray", "grey"}
                       | set(CSS_COLOR_NAMES)),
    "alpha": frozenset({"transparent", "opaque", "opacity", "alpha", "fade", "fades", "faded", "fading", "visible",
                        "invisible", "translucent", "dim", "disappear", "disappears", "appear", "appears",
                        "vanish", "vanishes"}),
    "rot": frozenset({"rotate", "rotates", "rotation", "rotated", "rotating", "tilt", "tilted", "angle", "spin",
                      "spins", "spinning", "turn", "turns", "turning", "upside", "clockwise", "anticlockwise",
                      "counterclockwise", "degrees", "twirl", "twirls"}),
    "tilt": frozenset({"tilt", "tilted", "angle", "angled", "rotated", "upside", "degrees", "lean", "leans",
                       "slant", "slanted"}),
    "pos": frozenset({"move", "moves", "moving", "position", "left", "right", "up", "down", "top", "bottom",
                      "centre", "center", "centered", "centred", "corner", "middle", "higher", "lower", "closer",
                      "apart", "further", "farther", "edge", "side", "place", "put", "shift", "slide", "slides",
                      "across", "row", "column", "spread", "travel", "travels", "drop", "drops", "fall", "falls",
                      "rise", "rises", "jump", "jumps", "bounce", "bounces", "bouncing", "far", "distance"}),
    "size": frozenset({"size", "bigger", "smaller", "larger", "big", "small", "tiny", "huge", "large", "grow",
                       "grows", "growing", "shrink", "shrinks", "shrinking", "wider", "narrower", "taller",
                       "thicker", "thinner", "radius", "width", "height", "scale", "scales", "double", "half",
                       "pulse", "pulses", "pulsing", "twice", "points", "tips", "thick", "thin"}),
    "text": frozenset({"text", "say", "says", "word", "words", "read", "reads", "label", "write", "written",
                       "font", "title", "letters"}),
    "type": frozenset({"into", "instead", "replace", "shape", "turn"}),
    "dur": frozenset({"slow", "slower", "slowly", "fast", "faster", "quick", "quicker", "quickly", "speed",
                      "duration", "seconds", "second", "sec", "rapid", "rapidly", "longer", "shorter", "tempo",
                      "pace", "sluggish", "snappy", "speedy", "long", "short"}),
    "delay": frozenset({"delay", "delayed", "after", "wait", "waits", "later", "sooner", "earlier", "then",
                        "start", "starts", "stagger", "staggered", "sequence", "together", "simultaneously",
                        "immediately", "before", "another"}),
    "ease": frozenset({"ease", "easing", "bounce", "bouncy", "bouncing", "elastic", "smooth", "smoothly", "linear",
                       "springy", "spring", "accelerate", "accelerates", "decelerate", "gently", "abrupt",
                       "abruptly", "overshoot", "wobble"}),
    "repeat": frozenset({"loop", "loops", "looping", "forever", "repeat", "repeats", "repeating", "once", "twice",
                         "times", "again", "endless", "endlessly", "continuously", "stop", "stops", "yoyo", "back",
                         "forth", "pulse", "pulsing", "spinning", "bouncing", "infinite", "infinitely"}),
    "bg": frozenset({"background", "bg", "backdrop", "behind"}),
    "stage": frozenset({"stage", "canvas", "screen", "resolution", "widescreen", "portrait", "landscape"}),
    "structure": frozenset({"add", "adds", "another", "more", "remove", "delete", "without", "fewer", "extra",
                            "third", "copy", "duplicate", "new", "also", "two", "three", "four", "five", "six",
                            "seven", "eight", "nine", "ten", "only", "single", "no", "none", "drop", "rid", "stop",
                            "don't", "not", "second", "pair", "both", "others", "multiple", "several"}),
}
"""Words that give an instruction a reason to touch a category of fields."""

_ALL_WORDS = frozenset({"all", "every", "everything", "each", "both", "them", "they", "whole", "scene", "objects",
                        "shapes"})
"""Words that address every object, so naming one does not freeze the others."""

_KIND_WORDS: dict[str, frozenset[str]] = {
    "circle": frozenset({"circle", "circles", "ball", "balls", "dot", "dots", "disc", "disk", "sun", "planet"}),
    "rect": frozenset({"square", "squares", "rectangle", "rectangles", "rect", "box", "boxes", "block", "blocks",
                       "bar", "bars"}),
    "roundrect": frozenset({"square", "squares", "rectangle", "rectangles", "box", "boxes", "rounded", "button",
                            "card"}),
    "ellipse": frozenset({"ellipse", "ellipses", "oval", "ovals", "egg"}),
    "triangle": frozenset({"triangle", "triangles", "arrow"}),
    "star": frozenset({"star", "stars"}),
    "polygon": frozenset({"polygon", "polygons", "hexagon", "pentagon", "octagon", "shape"}),
    "line": frozenset({"line", "lines", "stick", "stroke"}),
    "text": frozenset({"text", "word", "words", "title", "label", "letters", "caption"}),
}

COLOR_CHANGE_WORDS = frozenset({"change", "changes", "changing", "turn", "turns", "turning", "become", "becomes",
                                "becoming", "shift", "shifts", "cycle", "cycles", "flash", "flashes", "flashing",
                                "tint", "recolor", "recolour", "blend", "blends", "color", "colour", "colors",
                                "colours"})
"""Words that ask for a colour to change over time (the ``color`` category also holds every colour name)."""


def kinds_named(word: str) -> set[str]:
    """The object types (``circle``, ``rect``, ...) a noun such as "ball" or "box" may name."""
    return {kind for kind, nouns in _KIND_WORDS.items() if word in nouns}


DIRECTIONAL_SIZE = frozenset({"wider", "narrower", "taller", "shorter", "width", "height", "wide", "tall",
                              "narrow", "flat", "flatter", "stretch", "stretched", "squash", "squashed"})
"""Words that change one side of a box; without them, "smaller" keeps its proportions."""


NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
                "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16}
"""English numbers spelled out, from two to the most copies an item may have."""


def tokens(text: str) -> set[str]:
    """The lower-case words of ``text`` (apostrophes kept: "don't")."""
    return set(re.findall(r"[a-z0-9']+", text.lower()))


MOTION_NOUNS = frozenset({"pulse", "pulses", "pulsing", "bounce", "bounces", "bouncing", "spin", "spins",
                          "spinning", "turn", "turns", "rotation", "wobble", "shake", "blink", "blinking", "fade",
                          "twirl", "twirls"})
"""Names of a motion: in "make the pulse slower" they only say which motion gets the new tempo."""


def mentioned(instruction: str) -> set[str]:
    """The field categories an instruction gives a reason to change (see :data:`_WORDS`)."""
    words = tokens(instruction)
    found = {category for category, vocabulary in _WORDS.items() if words & vocabulary}
    if '"' in instruction or "'" in instruction.replace("'s", ""):
        found.add("text")
    return found


def edit_mentioned(instruction: str) -> set[str]:
    """:func:`mentioned` for a refinement: a tempo change that names its motion ("make the pulse slower", "the
    spin faster") gives no reason to change what that motion's name also stands for (size, angle, place)."""
    found = mentioned(instruction)
    if "dur" not in found:
        return found
    words = tokens(instruction)
    return {c for c in found if c not in _WORDS or c == "dur" or (words & _WORDS[c]) - MOTION_NOUNS}


def targeted(base: Scene, instruction: str) -> set[str] | None:
    """Ids of the objects the instruction names (by id, kind or colour), or ``None`` for all of them."""
    words = tokens(instruction)
    if words & _ALL_WORDS or (words & {"it", "its"} and len(base.objects) == 1):
        return None
    hits: set[str] = set()
    for obj in base.objects:
        names = {obj.id, obj.id.rstrip("0123456789_"), *obj.id.split("_")}
        if words & names or words & _KIND_WORDS.get(obj.type, frozenset()):
            hits.add(obj.id)
        elif obj.color in words and len(obj.color) > 2:
            hits.add(obj.id)
    return hits or None
