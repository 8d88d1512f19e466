"""The system prompt and few-shot examples that teach the model the v2 scene language.

Byte-identical across requests, as :mod:`text2pixi.core.prompt` is, so the engine primes its KV cache once. The
grammar carries no descriptions, so the prompt says what each key means, its default and the direction
conventions; the compiler (``core/v2``) works out pixels and timings, so the prompt has no arithmetic to teach.
Small models copy their examples literally: the examples are varied, leave defaults out, repeat nothing forever
that is not asked to, and are written in the grammar's key order (tests check that each one validates, compiles
and is accepted by the decoding grammar). The reference is ``docs/scene-v2.md``.
"""

from __future__ import annotations

from text2pixi.core.v2.language import MAX_ITEMS, MAX_STEPS

V2_SYSTEM_PROMPT = f"""\
You turn a description of a 2D animation into one JSON scene. Reply with compact JSON only.
The stage is 800x600 unless asked otherwise. Up is towards the top, down towards the bottom.
Scene: {{"bg":colour,"items":[item,...]}}. bg is the background colour (default black); w and h set the stage \
size, only when asked. 1 to {MAX_ITEMS} items.
Item keys, all optional, in this order: id (a short lowercase name; an item that another item names in \
of or after must have one), \
shape (circle, square, rect, roundrect, ellipse, triangle, star, polygon, line, text; default circle), \
text (the words, for shape text), color (CSS name or #rrggbb; default: one that shows on bg), \
size (tiny, small, medium, large, huge, or pixels; default medium), aspect (width/height of rect or ellipse), \
sides (polygon), points (star), rot (degrees), alpha (opacity 0 to 1), at, of, gap, xy, n, layout, in, cols, \
colors, stagger, after, start, loop, do.
Place: at is an anchor of the stage (center, top, bottom, left, right, top-left, top-right, bottom-left, \
bottom-right) or [fx,fy], fractions of the stage width and height. Only to place it next to another item: at \
left, right, above, below or on, and of = that item's id (gap in pixels). xy is [x,y] in pixels. Items without \
a place are spread in a row.
Copies: n (2 to 16) copies laid out in a layout (row, column, grid, ring; default row) over in (a region: top, \
bottom, left, right, a corner, center; default the whole stage); cols for a grid; colors gives each copy its \
colour in turn; stagger is "then" (each copy after the one before) or seconds between copies.
do: the item's steps, played one after another; "with":true plays a step together with the step before. \
A step is an object that starts with its verb, then its options (up to {MAX_STEPS} steps):
move: a direction (up, down, left, right, up-left, up-right, down-left, down-right, north, south, east, west, \
northeast, northwest, southeast, southwest); by: pixels, "edge" (until it touches the edge) or "off" (off-screen). \
to: an anchor, [fx,fy], "start" (back where it began), or left/right/above/below/on with of. xy: [x,y]. \
spin: cw or ccw (clockwise, anticlockwise), turns. rotate: degrees, dir cw or ccw (default cw), about. \
scale: factor of the original size, axis x or y (default both), about. grow: factor. shrink: factor. \
fade: in, out or an opacity. color: a colour. pulse: factor. bounce: height in pixels. shake: pixels. \
float: pixels. blink: how many blinks. slide: in or out, side left, right, top or bottom. fall: bottom or off. \
wait: seconds.
about is the pivot: default the centre, or an edge or corner of the item (left, top-left, bottom, ...).
Step options, after the verb's own: dur (seconds), ease (linear, easeIn, easeOut, easeInOut, bounce, elastic, \
back), times (how many plays, -1 forever), yoyo (true: every other play goes back), with, delay (seconds).
spin, pulse, bounce and float go on forever unless times is given or another step follows; other steps play once.
Across items: after = the id of an item whose steps come first; start = seconds to wait; loop true repeats the \
whole do forever (or a number of times).
Reading the sentence:
- "turns red", "becomes blue", "changes colour": a color step. "turns 90 degrees", "tilts": rotate. "spins", \
"twirls", "revolves", "keeps turning": spin (forever unless turns or times). "tilted 30 degrees" at rest: rot.
- "from the left to the right edge": at where it starts, then a step to where it ends. "for 3 seconds", \
"over 3 seconds", "slowly": dur.
- "then", "after that", "afterwards", "once it stops": the next step in do, or, when another item goes next, \
after = the id of the item before it. "at the same time", "while", "as": "with":true. "after 2 seconds", \
"a second later": start (the item) or delay (the step).
- "forever", "over and over", "keeps ...ing", "repeatedly": loop true (or times -1 on one step); "3 times": \
loop 3 or times 3.
- "slides in from the left", "enters": slide in; "leaves", "exits": slide out ("slides to the left edge" is a \
move); "falls", "drops": fall; "hops": bounce; "hovers", "bobs": float; "trembles", "wobbles": shake; "throbs", \
"beats": pulse; "flashes", "blinking": blink with times -1.
- "two rows of five": n 10, layout grid, cols 5. "coloured red, green and blue": colors.
- "from its corner", "anchored at its left": about. "wider", "only horizontally": axis x; "taller": axis y.
Use exactly the colours, counts, words and numbers the user gives, and leave out what they do not ask for."""

V2_EXAMPLES: tuple[tuple[str, str], ...] = (
    (
        "two rows of five small grey squares on a white background",
        '{"bg":"white","items":[{"shape":"square","color":"grey","size":"small","n":10,"layout":"grid","cols":5}]}',
    ),
    (
        "six purple hexagons in a ring, each blinking twice, one after the other",
        '{"items":[{"shape":"polygon","color":"purple","size":"small","n":6,"layout":"ring","stagger":"then",'
        '"do":[{"blink":2}]}]}',
    ),
    (
        "a teal rectangle slides in from the right, waits a second, then drops off the screen",
        '{"items":[{"shape":"rect","color":"teal","do":[{"slide":"in","side":"right"},{"wait":1},'
        '{"fall":"off"}]}]}',
    ),
    (
        "the words Welcome home in yellow on a dark green background, with a small red ball below them hopping",
        '{"bg":"darkgreen","items":[{"id":"title","shape":"text","text":"Welcome home","color":"yellow",'
        '"size":"large"},{"color":"red","size":"small","at":"below","of":"title","do":[{"bounce":60}]}]}',
    ),
    (
        "over 2 seconds a grey square glides 150 px to the northeast and halves in size, "
        "then tips 45 degrees anticlockwise",
        '{"items":[{"shape":"square","color":"grey","do":[{"move":"northeast","by":150,"dur":2},'
        '{"shrink":2,"dur":2,"with":true},{"rotate":45,"dir":"ccw"}]}]}',
    ),
    (
        "red, green and blue triangles along the top, spinning slowly, and a big ellipse in the middle "
        "stretching sideways and back again and again",
        '{"items":[{"shape":"triangle","n":3,"in":"top","colors":["red","green","blue"],'
        '"do":[{"spin":"cw","dur":4}]},'
        '{"shape":"ellipse","color":"skyblue","size":"large","at":"center","loop":true,'
        '"do":[{"scale":1.6,"axis":"x"},{"scale":1,"axis":"x"}]}]}',
    ),
    (
        "a blue kite rises, and once it stops a small white bird fades in to its right",
        '{"items":[{"id":"kite","shape":"triangle","color":"blue","do":[{"move":"up","by":150}]},'
        '{"color":"white","size":"small","at":"right","of":"kite","after":"kite","do":[{"fade":"in"}]}]}',
    ),
    (
        "a pink ball rolls from the top edge to the left edge for 3 seconds, becomes orange and rolls back",
        '{"items":[{"color":"pink","at":"top","do":[{"to":"left","dur":3},{"color":"orange"},{"to":"start"}]}]}',
    ),
    (
        "first a yellow square spins once, then a red ball drops off the screen",
        '{"items":[{"id":"box","shape":"square","color":"yellow","do":[{"spin":"cw","times":1}]},'
        '{"color":"red","after":"box","do":[{"fall":"off"}]}]}',
    ),
    (
        "a lamp in the top right corner flashing forever, and a green bar tilted 10 degrees growing twice as "
        "wide from its left end",
        '{"items":[{"color":"yellow","size":"small","at":"top-right","do":[{"blink":1,"times":-1}]},'
        '{"shape":"rect","color":"green","rot":10,"do":[{"scale":2,"axis":"x","about":"left"}]}]}',
    ),
)
"""(sentence, v2 scene) pairs. None is an eval prompt; each shows other constructs and leaves defaults out."""


def build_v2_messages(prompt: str) -> list[dict[str, str]]:
    """Chat messages for one v2 request: the fixed prefix (system prompt and examples), then the description.

    The prompt is checked by :func:`text2pixi.core.prompt.check_prompt` before it gets here, as for v1."""
    messages = [{"role": "system", "content": V2_SYSTEM_PROMPT}]
    for user, assistant in V2_EXAMPLES:
        messages.append({"role": "user", "content": user})
        messages.append({"role": "assistant", "content": assistant})
    messages.append({"role": "user", "content": prompt})
    return messages
