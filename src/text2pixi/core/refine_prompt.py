"""The prompt side of a refinement: the base scene as the model writes it, and the user turn around it.

IO-free. :func:`ordered_json` writes a scene in the key order the decoding grammar enforces (required
keys first, then optional ones, as the prompt's examples do), so the model can copy the base verbatim
and the engine's look-up drafts (``engine/lookup.py``) match what it writes token for token.
:func:`refinement_message` is the user turn of a refinement: the system prefix and the examples stay
byte-identical to a fresh request's, so the primed KV cache is reused; only this turn is new.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from text2pixi.core.scene import Scene

SHOWN_DEFAULTS = frozenset({"dur", "ease"})
"""Animation keys written even at their default value: to make an animation slower or elastic, a small model
edits a number or a word it can see far more reliably than it adds a key it cannot (measured: with them
omitted, "make the ball bounce slower" came back unchanged)."""


def _ordered(model: BaseModel, shown: frozenset[str] = frozenset()) -> dict[str, Any]:
    """One model's non-default fields (plus ``shown`` ones), required ones first in declaration order, then
    optional ones; integral floats as integers, as the prompt's examples write them."""
    fields = type(model).model_fields
    full = model.model_dump(mode="json")
    data = model.model_dump(mode="json", exclude_defaults=True) | {k: full[k] for k in shown if k in full}
    required = [k for k, f in fields.items() if f.is_required() and k in data]
    optional = [k for k, f in fields.items() if not f.is_required() and k in data]
    return {k: int(v) if isinstance(v, float) and v.is_integer() else v
            for k, v in ((k, data[k]) for k in required + optional)}


def ordered_json(scene: Scene) -> str:
    """Compact JSON of ``scene`` in the grammar's key order (what the model writes), defaults omitted except
    an animation's duration and easing (:data:`SHOWN_DEFAULTS`)."""
    top = _ordered(scene)
    top["objects"] = [_ordered(o) for o in scene.objects]
    if "anims" in top:
        top["anims"] = [_ordered(a, SHOWN_DEFAULTS) for a in scene.anims]
    return json.dumps(top, separators=(",", ":"), ensure_ascii=False)


def refinement_message(base: Scene, instruction: str) -> str:
    """The user turn of a refinement: the current scene, then the change (after the cached prefix)."""
    return (
        f"Current scene: {ordered_json(base)}\n"
        f"Change: {instruction}\n"
        "Reply with the whole new scene. Keep every object, position, colour and timing the change "
        "does not mention exactly as it is."
    )
