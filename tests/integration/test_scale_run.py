"""The scale experiment (bench/scale.py): a tiny real run on SmolLM2 through the local stack."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.mark.model
@pytest.mark.stack
def test_a_tiny_real_run_on_smollm2(tmp_path: Path, small_settings: object) -> None:
    out = tmp_path / "scale"
    doc = tmp_path / "performance.md"
    doc.write_text("# Performance\n")
    proc = subprocess.Popen(
        [sys.executable, str(ROOT / "bench" / "scale.py"), "--model", "smollm2-135m-instruct-q4_1",
         "--layouts", "1x1", "--concurrency", "1,2", "--requests", "2", "--rates", "1x", "--arrivals", "2",
         "--prompt", "a red circle", "--max-tokens", "160", "--max-retries", "0", "--max-queue-depth", "4",
         "--step-timeout", "90", "--max-minutes", "3", "--sample-interval", "0.25", "--out", str(out),
         "--doc", str(doc)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        stdout, stderr = proc.communicate(timeout=420)
    except subprocess.TimeoutExpired:
        proc.terminate()  # the script stops its stack on SIGTERM
        stdout, stderr = proc.communicate(timeout=120)
        pytest.fail("bench/scale.py did not finish in 420 s:\n" + stdout[-3000:] + stderr[-3000:])
    assert proc.returncode == 0, stdout[-3000:] + stderr[-3000:]
    for name in ("summary.json", "steps.csv", "requests.csv", "timeline.csv", "report.md",
                 "latency_vs_load.png", "throughput_vs_load.png", "queue_depth.png"):
        assert (out / name).stat().st_size > 0, name
    for name in ("latency_vs_load.png", "throughput_vs_load.png", "queue_depth.png"):
        assert (out / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    summary = json.loads((out / "summary.json").read_text())
    layout = summary["layouts"][0]
    assert layout["layout"] == "1x1" and layout["workers"] == 1 and layout["threads"] == 1
    steps = {s["step"]: s for s in layout["steps"]}
    assert {"closed c=1", "closed c=2"} <= set(steps) and any(k.startswith("open ") for k in steps)
    assert steps["closed c=1"]["submitted"] == 2
    assert sum(s["finished"] + s["failed"] for s in steps.values()) >= 4
    assert any(s["worker_rss_max_mb"].get("worker1", 0) > 50 for s in steps.values())
    timeline = (out / "timeline.csv").read_text().splitlines()
    assert len(timeline) > 5 and "queued" in timeline[0]
    text = doc.read_text()
    assert "## Scale to the limit" in text and "latency_vs_load.png" in text and "bench/scale.py" in text
