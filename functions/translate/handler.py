"""OpenFaaS function `translate`: a thin adapter over text2pixi.service.functions (all logic lives there)."""

from __future__ import annotations

from typing import Any

from text2pixi.service.functions import handle_translate


def handle(event: Any, context: Any) -> dict[str, Any]:
    return handle_translate(event)
