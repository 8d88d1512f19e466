"""The system prompt and its few-shot examples.

Kept byte-identical across requests: the engine evaluates this prefix once and every later request
reuses its KV cache, which is what makes a warm request start in under a second. The model does
not see the JSON schema's descriptions through the grammar, so the prompt states what each key
means and its unit. The examples are written in the key order the grammar enforces (required keys
first, then optional ones) and are checked against the schema by the tests.
"""

from __future__ import annotations

from text2pixi.core.errors import EmptyPrompt, PromptTooLong
from text2pixi.core.refine_prompt import refinement_message
from text2pixi.core.scene import MAX_ANIMATIONS, MAX_OBJECTS, Scene

SYSTEM_PROMPT = f"""\
You turn a description of a 2D animation into one JSON scene. Reply with compact JSON only.
Stage: 800x600 pixels unless asked otherwise; origin top-left, x grows right, y grows down; centre is x 400, y 300.
Scene keys: objects (1 to {MAX_OBJECTS}), bg (background colour, default black), \
anims (0 to {MAX_ANIMATIONS}), w and h (stage size).
Object keys: type (circle, rect, roundrect, ellipse, triangle, star, polygon, line, text), id (unique lowercase name), \
x and y (centre, pixels), then by type: circle r (radius); rect, roundrect, ellipse, triangle w and h (pixels); \
roundrect radius; star r, points (tips), inner (inner radius); polygon pts (x1,y1,x2,y2,... relative to the centre); \
line x2 and y2 (end point) and width; text text and size (font pixels). \
Optional: color (CSS colour name or #rrggbb), alpha (opacity 0 to 1), rot (degrees).
Anim keys: type (move, rotate, scale, fade, color), target (object id), then: move x and y (destination); \
rotate by (degrees, 360 is one full turn, negative is anticlockwise); scale to (factor, 1 is normal size); \
fade to (opacity 0 to 1); color to (colour). Optional: dur (seconds), delay (seconds before start), \
ease (linear, easeIn, easeOut, easeInOut, bounce, elastic, back), repeat (extra times, -1 forever), \
yoyo (true goes back and forth).
Rules: keep every position inside the stage. Use exactly the colours, counts and words the user gives. \
Choose a background that contrasts with the objects. In a row means the same y with even x spacing across the stage. \
Right means larger x, left smaller x, down larger y, up smaller y. Spinning means rotate by 360 with repeat -1. \
Repeat only when the user asks for a loop, forever, spinning or bouncing."""

EXAMPLES: tuple[tuple[str, str], ...] = (
    (
        "a yellow star in the top left corner slowly spins",
        '{"objects":[{"type":"star","id":"star","x":120,"y":100,"r":60,"color":"yellow"}],'
        '"anims":[{"type":"rotate","target":"star","by":360,"dur":6,"repeat":-1}]}',
    ),
    (
        "four white triangles in a row grow bigger one after another",
        '{"objects":[{"type":"triangle","id":"tri1","x":160,"y":300,"w":80,"h":70,"color":"white"},'
        '{"type":"triangle","id":"tri2","x":320,"y":300,"w":80,"h":70,"color":"white"},'
        '{"type":"triangle","id":"tri3","x":480,"y":300,"w":80,"h":70,"color":"white"},'
        '{"type":"triangle","id":"tri4","x":640,"y":300,"w":80,"h":70,"color":"white"}],'
        '"bg":"midnightblue","anims":[{"type":"scale","target":"tri1","to":1.5,"dur":0.5},'
        '{"type":"scale","target":"tri2","to":1.5,"dur":0.5,"delay":0.5},'
        '{"type":"scale","target":"tri3","to":1.5,"dur":0.5,"delay":1},'
        '{"type":"scale","target":"tri4","to":1.5,"dur":0.5,"delay":1.5}]}',
    ),
    (
        "the word Hello at the top fades out, then a purple square slides down from the centre",
        '{"objects":[{"type":"text","id":"hello","x":400,"y":80,"text":"Hello","color":"navy",'
        '"size":48},{"type":"rect","id":"square","x":400,"y":300,"w":80,"h":80,"color":"purple"}],'
        '"bg":"white","anims":[{"type":"fade","target":"hello","to":0,"dur":1},'
        '{"type":"move","target":"square","x":400,"y":500,"dur":1.5,"delay":1,"ease":"easeOut"}]}',
    ),
    (
        "two green balls bounce up and down side by side forever",
        '{"objects":[{"type":"circle","id":"ball1","x":300,"y":200,"r":30,"color":"green"},'
        '{"type":"circle","id":"ball2","x":500,"y":200,"r":30,"color":"green"}],'
        '"bg":"#f0f0f0","anims":[{"type":"move","target":"ball1","x":300,"y":450,"dur":1,"ease":"bounce","repeat":-1,"yoyo":true},'
        '{"type":"move","target":"ball2","x":500,"y":450,"dur":1,"ease":"bounce","repeat":-1,"yoyo":true}]}',
    ),
)


def build_messages(prompt: str) -> list[dict[str, str]]:
    """Chat messages for one request: the fixed prefix, then the user's description."""
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    for user, assistant in EXAMPLES:
        messages.append({"role": "user", "content": user})
        messages.append({"role": "assistant", "content": assistant})
    messages.append({"role": "user", "content": prompt})
    return messages


def build_refinement_messages(base: Scene, instruction: str) -> list[dict[str, str]]:
    """Chat messages for a refinement: the same fixed prefix (so its KV cache is reused), then a user
    turn holding the base scene and the change (:func:`text2pixi.core.refine_prompt.refinement_message`)."""
    return build_messages(refinement_message(base, instruction))


def check_prompt(prompt: str, max_chars: int) -> str:
    """Reject empty or oversized prompts before they cost any model time."""
    text = prompt.strip()
    if not text:
        raise EmptyPrompt("the prompt is empty; describe the animation, e.g. 'a red ball bounces'")
    if len(text) > max_chars:
        raise PromptTooLong(f"the prompt has {len(text)} characters; the limit is {max_chars}")
    return text
