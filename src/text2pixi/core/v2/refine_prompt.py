"""The prompt of a v2 refinement: the model sees the scene and the change, and writes only the change.

IO-free. :data:`PATCH_SYSTEM_PROMPT` is byte-identical across requests (its KV cache is primed once) and
self-contained: it teaches the scene language compactly (items, steps) and the edits of
:mod:`text2pixi.core.v2.patch`, with examples in the grammar's key order (the tests check that each one
validates, round-trips byte for byte and applies to its scene). :func:`build_patch_messages` puts the base
scene, every id written out, before the instruction, so the head of a refinement up to the instruction
depends on the base alone (the engine keeps KV checkpoints of such heads).
"""

from __future__ import annotations

from text2pixi.core.v2.language import V2Scene
from text2pixi.core.v2.patch import compact_json, named

PATCH_EXAMPLES: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        '{"bg":"white","items":[{"id":"kite","shape":"triangle","color":"teal","at":"left","do":[{"float":15}]},'
        '{"id":"sign","shape":"text","text":"Open","color":"black","at":"above","of":"kite"}]}',
        (
            ("make the kite purple", '{"edit":[{"set":"kite","color":"purple"}]}'),
            ("afterwards the kite glides out to the right",
             '{"edit":[{"then":"kite","do":[{"slide":"out","side":"right"}]}]}'),
            ("the sign should say Closed and be bigger", '{"edit":[{"set":"sign","text":"Closed","size":"large"}]}'),
            ("paint everything orange", '{"edit":[{"set":["kite","sign"],"color":"orange"}]}'),
            ("the kite should hop instead of drifting", '{"edit":[{"set":"kite","do":[{"bounce":40}]}]}'),
            ("slow down the kite", '{"edit":[{"tune":"kite","slower":2}]}'),
        ),
    ),
    (
        '{"items":[{"id":"pinwheel","shape":"star","color":"gray","size":90,"xy":[250,400],'
        '"do":[{"rotate":360,"dur":2,"ease":"linear","times":-1}]},'
        '{"id":"flag","shape":"rect","color":"red","size":70,"xy":[600,150]}]}',
        (
            ("turn the pinwheel three times as fast", '{"edit":[{"tune":"pinwheel","faster":3}]}'),
            ("the pinwheel should rotate the other way", '{"edit":[{"tune":"pinwheel","dir":"ccw"}]}'),
            ("delete the flag and put a small yellow star under the pinwheel",
             '{"edit":[{"remove":"flag"},{"add":{"id":"star","shape":"star","color":"yellow","size":"small",'
             '"at":"below","of":"pinwheel"}}]}'),
            ("while it turns, the pinwheel fades to half",
             '{"edit":[{"then":"pinwheel","do":[{"fade":0.5,"with":true}]}]}'),
            ("night sky behind them", '{"edit":[{"bg":"midnightblue"}]}'),
        ),
    ),
    (
        '{"items":[{"id":"dot","n":4,"do":[{"pulse":1.2,"times":2}]},'
        '{"id":"bar","shape":"rect","color":"white","at":"bottom","after":"dot","do":[{"fade":"in"}]}]}',
        (
            ("the bar should appear together with the dots", '{"edit":[{"set":"bar","after":null}]}'),
            ("then tilt the bar 30 degrees counter-clockwise around its top-right corner and lower it 80 px "
             "over 2 seconds",
             '{"edit":[{"then":"bar","do":[{"rotate":30,"dir":"ccw","about":"top-right"},'
             '{"move":"down","by":80,"dur":2}]}]}'),
            ("dots in a ring, alternating red and blue",
             '{"edit":[{"set":"dot","layout":"ring","colors":["red","blue"]}]}'),
            ("stretch the bar to three times its width", '{"edit":[{"then":"bar","do":[{"scale":3,"axis":"x"}]}]}'),
            ("keep the dots pulsing forever, springy", '{"edit":[{"tune":"dot","ease":"elastic","times":-1}]}'),
            ("quicker dots", '{"edit":[{"tune":"dot","faster":2}]}'),
        ),
    ),
)
"""(scene, ((change, patch), ...)): the examples of :data:`PATCH_SYSTEM_PROMPT`, scenes as the user turn shows
them (ids written out) and patches as the grammar admits them."""


def _examples() -> str:
    parts: list[str] = []
    for scene, changes in PATCH_EXAMPLES:
        parts.append(f"Scene: {scene}")
        parts += [f"Change: {change}\n{patch}" for change, patch in changes]
    return "\n".join(parts)


PATCH_SYSTEM_PROMPT = f"""\
You change a 2D animation scene. You get the scene as JSON and a change; reply with compact JSON that holds \
only the change: {{"edit":[EDIT,...]}}. Everything the change does not mention stays as it is.
Edits, first key first:
{{"set":ID,KEY:VALUE,...}} changes keys of the item with that id (or of a list of ids); "do" there replaces \
all its steps; null resets after, of, at, xy or color.
{{"then":ID,"do":[STEP,...]}} adds steps after the item's last step.
{{"tune":ID,KEY:VALUE,...}} changes all the item's steps at once: faster or slower (a factor: 2 is twice as \
fast or as slow), dir (cw or ccw: which way it turns), ease, times (1 once, -1 forever), yoyo, dur.
{{"add":ITEM}} adds an item. {{"remove":ID}} removes an item. {{"bg":COLOR}} changes the background.
Scene: {{"bg":COLOR,"w":800,"h":600,"items":[ITEM,...]}}; x grows right, y grows down.
ITEM keys, in this order: id, shape (circle square rect roundrect ellipse triangle star polygon line text), \
text, color, size (tiny small medium large huge, or pixels), aspect (width/height), sides, points, inner, radius, \
width, pts, rot (degrees), alpha (0 to 1), at (center top bottom left right top-left top-right bottom-left \
bottom-right, or [fx,fy] fractions of the stage; with of: left right above below on), of (another id), gap (px), \
xy ([x,y] pixels), xy2, n (copies), layout (row column grid ring), in (region of the copies), cols, colors \
(cycled over the copies), stagger ("then" or seconds between copies), after (an id: start when its steps end), \
start (seconds), loop (true or a count: repeat all steps), do (steps, one after another).
STEP: the verb key first, then its options, then dur (seconds), ease (linear easeIn easeOut easeInOut bounce \
elastic back), times (-1 forever), yoyo, with (true: together with the step before), delay.
Verbs: move (up down left right up-left up-right down-left down-right; by: pixels, "edge" or "off"), \
to (an anchor, [fx,fy], "start", or left right above below on with of), xy ([x,y]), spin (cw or ccw; turns), \
rotate (degrees; dir cw or ccw), scale (factor of the first size; axis xy x y), grow (factor), shrink (factor), \
fade (in, out or an opacity), color (a colour), pulse (factor), bounce (pixels), shake (pixels), float (pixels), \
blink (count), slide (in or out; side left right top bottom), fall (bottom or off), wait (seconds). \
spin, rotate, scale, grow and shrink take about: the item's own corner or edge to turn or scale around.
Faster, slower, the other way, a different ease or number of repeats: use tune, never rewrite the steps. \
Anticlockwise or counter-clockwise: ccw.
{_examples()}"""


def patch_user_turn(base: V2Scene, instruction: str) -> str:
    """The user turn: the base scene (compact, defaults omitted, every id written out), then the change."""
    scene = named(base).model_dump(mode="json", exclude_defaults=True, by_alias=True)
    return f"Scene: {compact_json(scene)}\nChange: {instruction}"


def build_patch_messages(base: V2Scene, instruction: str) -> list[dict[str, str]]:
    """Chat messages for a v2 refinement: the fixed system prompt, then the base scene and the change."""
    return [{"role": "system", "content": PATCH_SYSTEM_PROMPT},
            {"role": "user", "content": patch_user_turn(base, instruction)}]
