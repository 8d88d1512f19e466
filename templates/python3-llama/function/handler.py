"""Example function: the template calls ``handle(event, context)`` once per request.

Keep handlers free of Flask: ``event`` carries ``body`` (bytes), ``headers`` (lower-cased), ``method``,
``query`` and ``path``; ``context`` carries ``hostname``. Return a dict with ``statusCode``, ``body``
(a dict or list becomes JSON) and ``headers``, a plain string, or ``None`` for an empty 200.
"""

from __future__ import annotations

from typing import Any


def handle(event: Any, context: Any) -> dict[str, Any]:
    return {"statusCode": 200, "body": {"hello": "world"}}
