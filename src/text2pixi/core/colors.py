"""Colours: the CSS names and hex forms a scene accepts, and the families a prompt's colour words mean.

IO-free. The scene validates colours here; the evaluation and the refinement checks ask whether a colour
belongs to the family a sentence named ("blue" accepts navy and skyblue), with the same tolerance.
"""

from __future__ import annotations

import colorsys

import webcolors

CSS_COLOR_NAMES: tuple[str, ...] = tuple(webcolors.names("css3"))
HEX_COLOR_PATTERN = r"^#[0-9a-fA-F]{6}$"


def check_color(value: str) -> str:
    """A CSS colour name or ``#rrggbb``, lower-cased; anything else is a ``ValueError``."""
    lowered = value.strip().lower()
    if lowered in CSS_COLOR_NAMES:
        return lowered
    if len(lowered) == 7 and lowered[0] == "#" and all(c in "0123456789abcdef" for c in lowered[1:]):
        return lowered
    raise ValueError(f"{value!r} is not a CSS colour name or a #rrggbb hex colour")


def color_to_hex(color: str) -> str:
    """Normalise a validated colour to ``#rrggbb``."""
    return color if color.startswith("#") else webcolors.name_to_hex(color, spec="css3")


FAMILIES = ("red", "orange", "yellow", "green", "cyan", "blue", "purple", "pink", "brown", "white", "grey", "black")
FAMILY_ALIASES = {"gray": "grey", "violet": "purple", "magenta": "purple", "teal": "cyan", "turquoise": "cyan",
                  "navy": "blue", "gold": "yellow", "silver": "grey", "lime": "green"}
# Families a word in a prompt may reasonably produce besides its own (e.g. "purple" -> violet is
# purple, but magenta reads as pink by hue; "brown" is a dark orange or red).
FAMILY_ALSO = {"purple": {"pink"}, "pink": {"purple"}, "brown": {"orange", "red"}, "cyan": {"blue"},
               "grey": {"white"}}


def color_family(color: str) -> str:
    """The family (one of :data:`FAMILIES`) of a validated scene colour, by hue, saturation and value."""
    hexa = color_to_hex(color)
    r, g, b = (int(hexa[i:i + 2], 16) / 255 for i in (1, 3, 5))
    h, s, v = colorsys.rgb_to_hsv(r, g, b)
    hue = h * 360
    if v < 0.2:
        return "black"
    if s < 0.15:
        return "white" if v > 0.85 else "grey"
    if hue >= 345 or hue < 15:
        if s < 0.5 and v > 0.8:
            return "pink"
        return "red"
    if hue < 40:
        return "brown" if v < 0.7 else "orange"
    if hue < 70:
        return "yellow"
    if hue < 165:
        return "green"
    if hue < 185:
        return "cyan"
    if hue < 255:
        return "blue"
    if hue < 315:
        return "purple"
    return "pink"


def normalize_family(name: str) -> str:
    word = name.strip().lower()
    word = FAMILY_ALIASES.get(word, word)
    if word not in FAMILIES:
        raise ValueError(f"unknown colour family {name!r}; use one of {', '.join(FAMILIES)}")
    return word


def color_matches(color: str, family: str) -> bool:
    """Does a scene colour belong to the family a prompt asked for (tolerantly)?"""
    want = normalize_family(family)
    got = color_family(color)
    return got == want or got in FAMILY_ALSO.get(want, set())
