"""The peer benchmark and the memory report: their statistics on synthetic figures, and a tiny real run.

The full runs (default model, 8 prompts) are commands in docs/performance.md, not tests.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

from text2pixi import registry
from text2pixi.settings import Settings

BENCH = Path(__file__).resolve().parents[2] / "bench"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


peer = _load("peer")
memory = _load("memory")


def _sample(system: str, prompt: str, wall: float, **kw) -> object:
    base = {"valid": True, "ttft_s": 0.1, "output_tokens": 100, "decode_tps": 10.0}
    return peer.Sample(system=system, prompt=prompt, wall_s=wall, **{**base, **kw})


def test_summary_ratios_on_synthetic_timings():
    samples = [
        _sample("fast", "a", 1.0, sampled_tps=9.5, forced_tps=20.0, forced_tokens=40),
        _sample("fast", "b", 2.0, sampled_tps=9.7, forced_tps=30.0, forced_tokens=40),
        _sample("fast", "c", 3.0, sampled_tps=9.9, forced_tps=float("inf"), forced_tokens=20),
        _sample("llama-server", "a", 4.0),
        _sample("llama-server", "b", 4.0, valid=False),
        _sample("llama-server", "c", 8.0),
        _sample("reference", "a", 2.0, attempts=2),
    ]
    summary = peer.summarize(samples, {"tg64": 10.0, "pp128": 40.0}, {"fast": 1100.0, "reference": 1000.0},
                             {"fast": 5.0})
    fast, server = summary["systems"]["fast"], summary["systems"]["llama-server"]
    assert fast["median_wall_s"] == 2.0 and server["median_wall_s"] == 4.0
    assert server["validity"] == pytest.approx(2 / 3, abs=1e-3)
    assert summary["systems"]["reference"]["first_attempt_validity"] == 0.0
    assert fast["median_sampled_tps"] == 9.7
    assert fast["median_forced_tps"] == 25.0  # the infinite rate (no measurable extra cost) is left out
    assert fast["forced_share"] == pytest.approx(100 / 300, abs=1e-3)
    ratios = summary["ratios"]
    assert ratios["fast / llama-server median wall"] == 0.5
    assert ratios["fast / llama-server median of per-prompt wall ratios"] == 0.375  # 0.25, 0.5, 0.375
    assert ratios["fast sampled decode / llama-bench tg"] == 0.97
    assert ratios["cold / warm time to first token (fast)"] == 50.0
    assert ratios["peak RSS fast / reference"] == 1.1
    assert ratios["service / llama-server median wall"] is None  # not measured in this run


def test_kv_cache_size_from_gguf_metadata():
    qwen = {"general.architecture": "qwen2", "qwen2.block_count": "28", "qwen2.attention.head_count": "12",
            "qwen2.attention.head_count_kv": "2", "qwen2.embedding_length": "1536"}
    assert memory.kv_cache_bytes(qwen, 4096) == 4096 * 28 * 2 * 128 * 2 * 2  # 112 MiB


def test_prompt_set_is_large_enough():
    prompts = peer.load_prompts()
    assert len(prompts) >= 30 and len(set(prompts)) == len(prompts)


def _llama_bin() -> Path | None:
    cached = sorted((Settings().cache_dir / "llama-server").glob("*/bin/llama-server"))
    return cached[-1].parent if cached else None


@pytest.mark.model
def test_peer_benchmark_runs_on_the_small_model(tmp_path, monkeypatch):
    """One prompt through both engine paths and llama-server; a JSON report with every system."""
    bin_dir = _llama_bin()
    if bin_dir is None and not shutil.which("cmake"):
        pytest.skip("llama-server not built (scripts/build-llama-server.sh) and no cmake to build it")
    code = peer.main(["--model", registry.SMALL_MODEL, "--threads", "1", "--n-ctx", "4096",
                      "--max-tokens", "64", "--prompts", "1", "--systems", "fast,reference,llama-server",
                      "--bench-depth", "256", "--out", str(tmp_path)])
    assert code == 0
    [report] = tmp_path.glob("peer-*.json")
    result = json.loads(report.read_text())
    systems = result["summary"]["systems"]
    assert set(systems) == {"fast", "reference", "llama-server"}
    assert {"pp128", "tg64", "tg64@d256"} <= set(result["summary"]["llama_bench"])
    assert result["summary"]["ratios"]["fast sampled decode / llama-bench tg at the prompt depth"] > 0
    assert all(s["output_tokens"] > 0 and s["wall_s"] > 0 for s in result["samples"])
    assert all(v["peak_rss_mb"] > 50 for v in systems.values())
    # At temperature 0 our two paths write the same document, whatever its validity.
    fast, reference = (next(s for s in result["samples"] if s["system"] == name) for name in ("fast", "reference"))
    assert fast["output"] == reference["output"]


@pytest.mark.model
def test_memory_report_on_the_small_model(tmp_path):
    assert memory.main(["--models", registry.SMALL_MODEL, "--threads", "1", "--n-ctx", "4096",
                        "--out", str(tmp_path)]) == 0
    [report] = tmp_path.glob("memory-*.json")
    [row] = json.loads(report.read_text())["rows"]
    assert row["peak_rss_mib"] >= row["rss_loaded_mib"] > row["rss_python_mib"] > 0
    assert row["kv_cache_mib"] > 0 and row["workers_per_6gi"] >= 1
