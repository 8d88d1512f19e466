"""HTTP fuzzing of every endpoint in the published OpenAPI document (``TEXT2PIXI_FUZZ_COUNT``
requests, default 500; ``make fuzz`` sends 10,000)."""

from __future__ import annotations

import json
import os

import pytest
import requests

from text2pixi.web import openapi

from . import harness
from .fuzz import run_fuzz

pytestmark = [pytest.mark.model, pytest.mark.stack]

COUNT = int(os.environ.get("TEXT2PIXI_FUZZ_COUNT", "500"))


def test_gateway_publishes_the_openapi_document(fault_stack: harness.Stack) -> None:
    answer = requests.get(fault_stack.url("/openapi.json"), timeout=10)
    assert answer.status_code == 200
    document = answer.json()
    assert document == json.loads(openapi.document_json())
    assert document["openapi"].startswith("3.1")
    assert {"/function/translate", "/function/status/{id}", "/function/warmup"} <= set(document["paths"])


def test_fuzzed_requests_get_documented_answers_and_no_5xx(fault_stack: harness.Stack) -> None:
    result = run_fuzz(fault_stack.cfg.gateway_url, fault_stack.key, COUNT)
    print(json.dumps(result, indent=2))
    assert result["requests"] >= COUNT * 0.95, result
    assert result["5xx"] == 0, result
    assert result["findings"] == {}, result
    harness.wait_healthy(fault_stack, timeout=30)
