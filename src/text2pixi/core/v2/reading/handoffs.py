"""An item the sentence starts after another, where the reply started both at once (pure).

"first a blue circle fades in, and after that a green square slides in from the left" is often written as two
items with no ``after``: both play from 0, and the order the sentence gives is lost. When every item is mentioned
by words of its own (its colour, shape nouns, text or id that no other item has: :mod:`.mentions`), and an
item's first mention comes right after a sequence word ("then the Y", "afterwards a Y", "followed by a Y";
"after that a Y", "once it stops, the Y": :data:`THEN_WORDS`, :data:`SINCE_WORDS` before a pronoun), with only
small words between (:data:`FILLER`), it starts ``"after"`` the item mentioned just before it, by the name the
compiler gives that item (its id, else its shape: :func:`~text2pixi.core.v2.layout.item_names`). A chain
("first X, then Y, then Z") links each plain pair. Nothing happens where the "then" is inside one item's clause
("a square moves right then turns red, and a circle spins": the circle follows "and"), where the later item
already has ``after``, ``start``, a delay or a wait, or where the earlier item is mentioned again after the
later one (the sentence interleaves them). English only, fresh scenes only (:mod:`text2pixi.core.v2.reading`).
"""

from __future__ import annotations

from itertools import pairwise

from text2pixi.core.v2.language import Item, V2Scene, verb_of
from text2pixi.core.v2.layout import item_names
from text2pixi.core.v2.reading.mentions import WORD, own_words

THEN_WORDS = frozenset({"then", "afterwards", "afterward", "later", "next", "finally", "subsequently", "followed"})
"""Words after which the next clause happens later ("then a green square ...")."""
SINCE_WORDS = frozenset({"after", "once", "when"})
"""Words that order only when a pronoun follows ("after that a square", "once it stops, the square"); before a
noun they name the earlier item instead ("a square slides in after the circle")."""
PRONOUNS = frozenset({"it", "it's", "that", "this", "which", "they", "they're"})
FILLER = frozenset({"a", "an", "the", "that", "this", "which", "it", "it's", "its", "they", "they're", "has", "have",
                    "is", "are", "been", "stops", "stop", "stopped", "ends", "ended", "finishes", "finished", "done",
                    "over", "by", "one", "other", "second", "small", "big", "little", "large", "tiny", "huge"})
"""Small words that may stand between a sequence word and the item it starts ("then the small blue one")."""
MAX_GAP = 5
"""At most this many small words between the sequence word and the mention ("once it has stopped, the Y")."""
def _plain(item: Item) -> bool:
    """Does ``item`` start at 0 with nothing delaying its steps?"""
    return item.after is None and item.start == 0 and not any(
        verb_of(s) == "wait" or getattr(s, "delay", 0.0) > 0 for s in item.do)


def _cue(words: list[str], at: int, since: int) -> bool:
    """Does a sequence word stand just before ``words[at]`` (and after ``words[since]``)?"""
    j = at - 1
    while j > since and words[j] in FILLER and at - j <= MAX_GAP:
        if words[j] in PRONOUNS and words[j - 1] in SINCE_WORDS:
            return True
        j -= 1
    return j > since and words[j] in THEN_WORDS


def hand_off(scene: V2Scene, prompt: str) -> tuple[V2Scene, list[str]]:
    """``scene`` with each item the sentence starts after the one before it waiting for it (see the module doc)."""
    items = list(scene.items)
    if len(items) < 2:
        return scene, []
    words = WORD.findall(prompt.lower())
    own = [own_words(i, unwritten_shape=True) for i in items]
    mentions: list[list[int]] = []
    for k, mine in enumerate(own):
        distinct = mine - set().union(*(o for j, o in enumerate(own) if j != k))
        mentions.append([i for i, w in enumerate(words) if w in distinct])
    if not all(mentions):
        return scene, []
    names = item_names(items)
    order = sorted(range(len(items)), key=lambda k: mentions[k][0])
    fixes: list[str] = []
    linked: set[int] = set()
    for a, b in pairwise(order):
        first = mentions[b][0]
        if not (items[a].do and items[b].do and _plain(items[b]) and (a in linked or _plain(items[a]))):
            continue
        if any(i > first for i in mentions[a]) or not _cue(words, first, mentions[a][0]):
            continue
        items[b] = items[b].model_copy(update={"after": names[a]})
        linked.add(b)
        fixes.append(f"item {names[b]}: starts after {names[a]}, as the sentence orders them (the reply started "
                     "both at once)")
    return (scene.model_copy(update={"items": items}), fixes) if fixes else (scene, [])
