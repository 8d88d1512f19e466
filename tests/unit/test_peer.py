"""bench/peer.py's pure parts: the v2 reply check of llama-server-v2, the systems' languages, the v2 ratios."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from text2pixi.core.v2.prompt import V2_EXAMPLES

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def peer() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_peer_unit", BENCH / "peer.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_validate_v2_accepts_a_scene_that_compiles(peer: ModuleType) -> None:
    text = V2_EXAMPLES[0][1]
    assert peer.validate_v2(text) is None
    assert peer.validate(text) is not None  # a v2 scene is not a v1 (compiled) scene


@pytest.mark.parametrize("text, why", [
    ('{"items":[{"shape":"blob"}]}', "shape"),  # not in the language
    ('{"items":[{"shape":"circle","at":"left","of":"nobody"}]}', "nobody"),  # valid, but does not compile
    ('{"items":[', "Invalid JSON"),  # cut off
])
def test_validate_v2_says_why_a_reply_is_not_a_scene(peer: ModuleType, text: str, why: str) -> None:
    error = peer.validate_v2(text)
    assert error is not None and why in error and "\n" not in error and len(error) <= 300


def test_systems_name_their_decoder_and_language(peer: ModuleType) -> None:
    assert peer.ENGINE_SYSTEMS["fast"] == ("fast", "v2")
    assert peer.ENGINE_SYSTEMS["fast-v1"] == ("fast", "v1")
    assert peer.ENGINE_SYSTEMS["reference"] == ("reference", "v2")
    assert peer.SERVER_SYSTEMS == {"llama-server": "v1", "llama-server-v2": "v2"}


def test_summary_reports_the_v2_ratios_and_tokens(peer: ModuleType) -> None:
    def sample(system: str, prompt: str, wall: float, tokens: int) -> object:
        return peer.Sample(system=system, prompt=prompt, valid=True, wall_s=wall, ttft_s=0.1, output_tokens=tokens,
                           decode_tps=10.0)

    samples = [sample("fast", "a", 1.0, 60), sample("fast", "b", 2.0, 80),
               sample("fast-v1", "a", 2.0, 200), sample("fast-v1", "b", 3.0, 240),
               sample("llama-server", "a", 4.0, 210), sample("llama-server", "b", 6.0, 250),
               sample("llama-server-v2", "a", 2.0, 70), sample("llama-server-v2", "b", 4.0, 90)]
    summary = peer.summarize(samples, {}, {}, {})
    ratios = summary["ratios"]
    assert ratios["fast / llama-server median wall"] == 0.3  # 1.5 / 5
    assert ratios["fast / llama-server-v2 median wall"] == 0.5  # 1.5 / 3
    assert ratios["fast-v1 / llama-server median wall"] == 0.5  # 2.5 / 5
    assert summary["issue_target"]["ratio"] == "fast / llama-server median wall"
    assert summary["issue_target"]["value"] == 0.3 and summary["issue_target"]["met"] is True
    assert summary["median_output_tokens"] == {"fast": 70.0, "fast-v1": 220.0, "llama-server": 230.0,
                                               "llama-server-v2": 80.0}
    assert "fast / llama-server-v2 median wall" not in summary["targets"]  # reported, no target
