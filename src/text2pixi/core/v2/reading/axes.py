"""A one-way scale the sentence never asked for, made whole again (pure).

A small model copies ``"axis":"x"`` from its examples onto a size change that has no direction: "a purple square
grows to three times its size from its top-left corner" written ``{"scale":3,"axis":"x","about":"top-left"}``,
"the word GOAL growing bigger and bigger" written ``{"scale":2,"axis":"x"}``: the square becomes a long bar, the
word a smear. When the sentence says nothing of one direction (no :data:`ONE_WAY` word: "wider", "taller",
"horizontally", "sideways", "stretch", "in x", ...; no "to the left", "upward"; no bar or line, which grow one
way by nature), each scale, grow and shrink step on one axis scales both (``xy``, the default). "A long blue
rectangle gets wider, only horizontally" keeps its ``x``. English only, fresh scenes only
(:mod:`text2pixi.core.v2.reading`).
"""

from __future__ import annotations

import re

from text2pixi.core.edit_words import DIRECTIONAL_SIZE, tokens
from text2pixi.core.v2.language import GrowStep, ScaleStep, ShrinkStep, V2Scene

ONE_WAY = DIRECTIONAL_SIZE | {
    "horizontal", "horizontally", "vertical", "vertically", "sideways", "lengthwise", "widthwise", "x", "y",
    "axis", "direction", "dimension", "aspect", "widen", "widens", "widening", "broad", "broader", "long",
    "longer", "length", "lengthen", "lengthens", "elongate", "elongates", "elongated", "extend", "extends",
    "extending", "thin", "thinner", "thick", "thicker", "fat", "fatter", "skinny", "stretches", "stretching",
    "squashes", "squashing", "squish", "squishes", "squeeze", "squeezes", "flatten", "flattens", "flattening",
    "side", "sides", "edge", "edges", "end", "ends", "bar", "bars", "line", "lines", "progress", "loading",
    "fill", "fills", "filling", "meter", "gauge"}
"""Words that give a size change a direction, or name an object that grows one way (a bar, a line)."""
_TOWARD = re.compile(r"\b(?:to|towards|toward) the (?:left|right)\b|\b(?:up|down|left|right)wards?\b")
"""Phrases that send a growth one way ("grows to the right", "stretches upward")."""
SCALES = (ScaleStep, GrowStep, ShrinkStep)


def says_one_way(prompt: str) -> bool:
    """Does the sentence give a size change a direction (or could it)?"""
    return bool(tokens(prompt) & ONE_WAY) or _TOWARD.search(prompt.lower()) is not None


def drop_unstated_axis(scene: V2Scene, prompt: str) -> tuple[V2Scene, list[str]]:
    """``scene`` with its one-axis scale steps on both axes when the sentence gives no direction."""
    if says_one_way(prompt):
        return scene, []
    items, fixes = list(scene.items), []
    for k, item in enumerate(items):
        steps = list(item.do)
        for j, step in enumerate(steps):
            if isinstance(step, SCALES) and step.axis != "xy":
                steps[j] = step.model_copy(update={"axis": "xy"})
                fixes.append(f"item {item.id or item.shape} step {j + 1}: scales both ways, the sentence gives no "
                             f"direction (the reply scaled along {step.axis} only)")
        if steps != list(item.do):
            items[k] = item.model_copy(update={"do": steps})
    return (scene.model_copy(update={"items": items}), fixes) if fixes else (scene, [])
