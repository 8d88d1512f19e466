"""Numbers written into the wrong key, or too small to see, set right from the sentence (pure).

Two slips of a small model that the compiler alone cannot tell from intent, but the sentence can:
- a duration written as a distance: "moves right for 2 seconds" as ``{"move":"right","by":2}`` (the first number
  key after the verb is ``by``). When the sentence gives that number in seconds and not in pixels, and the step
  has no ``dur``, the number is the step's ``dur`` and the distance is the default;
- a motion too small to see: ``{"bounce":1}`` for "a ball that bounces". When the sentence gives no number of
  pixels at all, a move, bounce, float or shake of under :data:`VISIBLE` pixels gets the preset's usual size.
Fresh scenes only, like :mod:`text2pixi.core.v2.reading.fill`; each change is reported.
"""

from __future__ import annotations

import re
from typing import Any

from text2pixi.core.v2.language import BounceStep, FloatStep, MoveStep, ShakeStep, V2Scene

VISIBLE = 4
"""Pixels under which a move or a preset's swing cannot be seen on a stage of hundreds of pixels."""
USUAL = {"bounce": 60, "float": 20, "shake": 10}
"""The usual size of each swinging preset (the prompt's examples and docs/scene-v2.md)."""
_NUMBER = r"(\d+(?:\.\d+)?)"
_SECONDS = re.compile(_NUMBER + r"\s*(?:s|sec|secs|second|seconds)\b")
_PIXELS = re.compile(_NUMBER + r"\s*(?:px|pixel|pixels)\b")


def _numbers(pattern: re.Pattern[str], prompt: str) -> set[float]:
    return {float(n) for n in pattern.findall(prompt.lower())}


def fix_units(scene: V2Scene, prompt: str) -> tuple[V2Scene, list[str]]:
    """``scene`` with seconds written as distances moved to ``dur`` and invisible swings made visible."""
    seconds, pixels = _numbers(_SECONDS, prompt), _numbers(_PIXELS, prompt)
    items, fixes = list(scene.items), []
    for k, item in enumerate(items):
        steps = list(item.do)
        for j, step in enumerate(steps):
            update: dict[str, Any] = {}
            where = f"item {item.id or item.shape} step {j + 1}"
            if isinstance(step, MoveStep) and isinstance(step.by, int):
                if step.by in seconds and step.by not in pixels and step.dur is None:
                    update = {"by": None, "dur": float(step.by)}
                    fixes.append(f"{where}: \"by\":{step.by} is the sentence's {step.by} seconds, so its dur")
                elif step.by < VISIBLE and not pixels:
                    update = {"by": None}
                    fixes.append(f"{where}: a move of {step.by} px cannot be seen; the usual distance instead")
            elif isinstance(step, BounceStep | FloatStep | ShakeStep) and not pixels:
                verb = "bounce" if isinstance(step, BounceStep) else "float" if isinstance(step, FloatStep) else "shake"
                size = step.bounce if isinstance(step, BounceStep) else (
                    step.float_ if isinstance(step, FloatStep) else step.shake)
                if size < VISIBLE:
                    update = {"float_" if verb == "float" else verb: USUAL[verb]}
                    fixes.append(f"{where}: a {verb} of {size} px cannot be seen; {USUAL[verb]} px instead")
            if update:
                steps[j] = step.model_copy(update=update)
        if steps != list(item.do):
            items[k] = item.model_copy(update={"do": steps})
    return (scene.model_copy(update={"items": items}), fixes) if fixes else (scene, [])
