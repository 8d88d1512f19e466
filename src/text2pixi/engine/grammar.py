"""JSON schema to a whitespace-free GBNF grammar.

llama.cpp's converter (shipped with llama-cpp-python) allows an optional space after every
punctuation mark. Those spaces are tokens the model may spend and choices the grammar has to check,
so we replace the ``space`` rule with the empty string: the grammar then admits exactly one
spelling of each document, compact JSON. Conversion is cached per schema.
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
