"""What a sentence states about colours: the background's, and the objects' (by kind where a noun follows).

IO-free. :mod:`text2pixi.core.sanity` must never change a colour the user asked for and must re-ask when
the model contradicts one, so it needs to know which colours the sentence names and for what. A colour
phrase is a CSS name ("skyblue") or hex colour, a family word or alias ("blue", "navy", "gray"), optionally after
"dark"/"light"/"bright"/"pale"/"deep", or such a modifier alone before a background word ("a dark
background"). It belongs to the background when a background word follows it within two words ("dark blue
background") or comes just before it ("the background is navy"); otherwise to the objects, and to the kind of
object named by a noun within two words after it ("white text", "red ball"). English only: other languages
state nothing, so their colours are never protected by this module (nor re-asked about).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from text2pixi.core.colors import CSS_COLOR_NAMES, FAMILIES, FAMILY_ALIASES, color_family, color_matches
from text2pixi.core.edit_words import kinds_named
from text2pixi.core.timeline import rgb

BG_WORDS = frozenset({"background", "backdrop", "bg", "backgrounds", "sky"})
"""Nouns that make the colour next to them the stage's."""
_MODIFIERS = {"dark": "dark", "deep": "dark", "darker": "dark", "light": "light", "lighter": "light",
              "pale": "light", "bright": "light", "pastel": "light"}
_LINKS = frozenset({"is", "of", "in", "be", "colour", "color", "coloured", "colored", "a", "an", "the", "should",
                    "to"})
"""Words allowed between a background word and its colour ("the background is a dark navy")."""


@dataclass(frozen=True)
class ColorWord:
    """One colour phrase of the sentence: its family (None for a bare "dark"/"light") and lightness modifier."""

    text: str
    family: str | None
    shade: str | None = None

    def accepts(self, color: str) -> bool:
        """Does a scene colour answer this phrase (same family, tolerantly; the right side of mid-grey)?"""
        if self.family is not None and not color_matches(color, self.family):
            return False
        if self.shade is None:
            return True
        r, g, b = rgb(color)
        value = max(r, g, b) / 255
        lightness = (max(r, g, b) + min(r, g, b)) / 510
        return value < 0.6 if self.shade == "dark" else lightness > 0.5


@dataclass(frozen=True)
class StatedColors:
    """The colours a sentence names for the background and for the objects (``kinds`` by object type)."""

    background: list[ColorWord] = field(default_factory=list)
    objects: list[ColorWord] = field(default_factory=list)
    kinds: dict[str, list[ColorWord]] = field(default_factory=dict)

    def bg_stated(self) -> bool:
        return bool(self.background)

    def bg_accepts(self, color: str) -> bool:
        """True when the sentence names no background colour, or the scene's answers one it names."""
        return not self.background or any(word.accepts(color) for word in self.background)

    def object_stated(self, color: str) -> bool:
        """Does the sentence name this colour for some object? Then it is the user's, not ours to change."""
        return any(word.family is not None and word.accepts(color) for word in self.objects)

    def kind_mismatch(self, kind: str, color: str) -> list[ColorWord]:
        """The colours named for objects of this kind when ``color`` answers none of them, else []."""
        named = self.kinds.get(kind, [])
        if not named or any(word.accepts(color) for word in named):
            return []
        return named


def _family(word: str) -> str | None:
    if word.startswith("#"):
        return color_family(word)
    if word in FAMILIES:
        return word
    if word in FAMILY_ALIASES:
        return FAMILY_ALIASES[word]
    if word in CSS_COLOR_NAMES:
        return color_family(word)
    return None


def stated_colors(prompt: str) -> StatedColors:
    """Parse the colour phrases of ``prompt`` (see the module docstring)."""
    words = re.findall(r"#[0-9a-f]{6}\b|[a-z]+", prompt.lower())
    result = StatedColors()
    i = 0
    while i < len(words):
        shade = _MODIFIERS.get(words[i])
        family = _family(words[i + 1]) if shade and i + 1 < len(words) else None
        if shade and family:
            phrase, end = ColorWord(f"{words[i]} {words[i + 1]}", family, shade), i + 2
        elif _family(words[i]) is not None:
            phrase, end = ColorWord(words[i], _family(words[i])), i + 1
        elif shade and i + 1 < len(words) and words[i + 1] in BG_WORDS:
            phrase, end = ColorWord(words[i], None, shade), i + 1
        else:
            i += 1
            continue
        after = words[end:end + 2]
        before = words[max(0, i - 4):i]
        lead = [w for w in reversed(before) if w not in _LINKS]
        if any(w in BG_WORDS for w in after) or (lead and lead[0] in BG_WORDS and not _noun_follows(after)):
            result.background.append(phrase)
        elif phrase.family is not None:
            result.objects.append(phrase)
            for kind in {k for w in after for k in kinds_named(w)}:
                result.kinds.setdefault(kind, []).append(phrase)
        i = end
    return result


def _noun_follows(after: list[str]) -> bool:
    return any(kinds_named(w) for w in after)
