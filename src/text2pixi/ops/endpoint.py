"""Which gateway a client command talks to, and with which API key: one answer for every command.

The gateway: ``--gateway``, else ``OPENFAAS_URL`` (faas-cli's variable, in faas-cli's order), else the
local stack's (``make up``). The key: ``--api-key``, else ``TEXT2PIXI_API_KEY`` or its secret file (as the
functions read it, :attr:`text2pixi.settings.Settings.resolved_api_key`), else the local stack's key,
generated on first use. ``text2pixi submit``, ``view``, ``translate --base`` and ``invoke`` all ask here.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from text2pixi.ops.localstack import StackConfig
from text2pixi.ops.localstack import api_key as stack_api_key
from text2pixi.settings import Settings

DEFAULT_GATEWAY = StackConfig().gateway_url
"""The local stack's gateway, the last resort (``http://127.0.0.1:8080``)."""


def resolve_gateway(explicit: str | None = None, env: Mapping[str, str] = os.environ, *,
                    stack: StackConfig | None = None) -> str:
    """``--gateway``, else ``OPENFAAS_URL``, else the local stack's gateway; without a trailing slash."""
    local = stack.gateway_url if stack is not None else DEFAULT_GATEWAY
    return (explicit or env.get("OPENFAAS_URL") or local).rstrip("/")


def resolve_api_key(explicit: str | None = None, *, settings: Settings | None = None,
                    stack: StackConfig | None = None) -> str:
    """``--api-key``, else ``TEXT2PIXI_API_KEY`` (or the secret file), else the local stack's key."""
    return explicit or (settings or Settings()).resolved_api_key or stack_api_key(stack or StackConfig())
