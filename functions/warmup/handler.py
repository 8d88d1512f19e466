"""OpenFaaS function `warmup`: a thin adapter over text2pixi.service.functions (all logic lives there)."""

from __future__ import annotations

from typing import Any

from text2pixi.service.functions import handle_warmup


def handle(event: Any, context: Any) -> dict[str, Any]:
    return handle_warmup(event)
