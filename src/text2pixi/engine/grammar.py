"""JSON schema to a whitespace-free GBNF grammar.

llama.cpp's converter (shipped with llama-cpp-python) allows an optional space after every
punctuation mark. Those spaces are tokens the model may spend and choices the grammar has to check,
so we replace the ``space`` rule with the empty string: the grammar then admits exactly one
spelling of each document, compact JSON. Conversion is cached per schema.

The converter (and llguidance, see ``fastforward.ordered_schema``) writes an object's required properties
before its optional ones. :func:`in_property_order` makes a schema's grammar follow its ``properties`` order
instead, for languages whose documents put optional keys first (v2: ``{"bg":...,"items":[...]}``), and
:func:`language_schema` also spells pydantic's ``oneOf`` (tagged unions, whose tags exclude each other) as
``anyOf``, which llguidance compiles (it refuses ``oneOf``) and llama.cpp's converter reads the same way.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import Any

from llama_cpp.llama_grammar import json_schema_to_gbnf

_SPACE_RULE = re.compile(r"^space ::= .*$", re.MULTILINE)


@lru_cache(maxsize=16)
def _compact_gbnf_cached(schema_json: str) -> str:
    gbnf = json_schema_to_gbnf(schema_json)
    compact, count = _SPACE_RULE.subn('space ::= ""', gbnf)
    if count != 1:
        raise RuntimeError("unexpected grammar layout from llama.cpp's converter: no single 'space' rule")
    return compact


def compact_gbnf(schema: dict[str, Any]) -> str:
    """GBNF for ``schema`` that admits compact JSON only (no whitespace between tokens).

    Key order matters (it is the order the grammar enforces), so the schema is not re-sorted.
    """
    return _compact_gbnf_cached(json.dumps(schema))


def in_property_order(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` for a grammar that keeps each object's keys in ``properties`` order.

    A required key that follows an optional one is made optional for the grammar (the converters put required
    keys first); pydantic still requires it, so leaving it out fails validation and is re-asked like any error.
    Objects whose required keys already come first are unchanged.
    """

    def visit(node: Any) -> Any:
        if isinstance(node, list):
            return [visit(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {key: visit(value) for key, value in node.items()}
        props, required = out.get("properties"), out.get("required")
        if isinstance(props, dict) and required:
            leading: list[str] = []
            for key in props:
                if key not in required:
                    break
                leading.append(key)
            if set(leading) != set(required):
                if leading:
                    out["required"] = leading
                else:
                    del out["required"]
        return out

    result = visit(schema)
    assert isinstance(result, dict)
    return result


def language_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema a language's grammar is built from: :func:`in_property_order`, ``oneOf`` written ``anyOf``."""

    def visit(node: Any) -> Any:
        if isinstance(node, list):
            return [visit(item) for item in node]
        if not isinstance(node, dict):
            return node
        return {("anyOf" if key == "oneOf" else key): visit(value) for key, value in node.items()}

    result = visit(in_property_order(schema))
    assert isinstance(result, dict)
    return result
