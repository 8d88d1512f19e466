"""The quality evaluation's runner (eval/run.py) on SmolLM2: results, comparison and rescoring."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.mark.model
def test_runner_on_smollm2_writes_results_and_compares(tmp_path: Path, small_settings: object) -> None:
    out = tmp_path / "run.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "eval" / "run.py"), "--model", "smollm2-135m-instruct-q4_1", "--threads", "1",
         "--only", "red-circle,hello-text", "--max-tokens", "120", "--max-retries", "0", "--json", str(out),
         "--doc", str(tmp_path / "perf.md")],
        capture_output=True, text=True, timeout=400)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "validity_rate" in run.stdout and "red-circle" in run.stdout
    record = json.loads(out.read_text())
    assert record["model"] == "smollm2-135m-instruct-q4_1" and record["max_retries"] == 0
    assert [o["id"] for o in record["outcomes"]] == ["red-circle", "hello-text"]
    for o in record["outcomes"]:
        assert o["attempts"] == 1 and o["wall_s"] > 0 and len(o["checks"]) >= 2
        assert o["valid"] == (o["scene"] is not None)
    assert record["summary"]["prompts"] == 2
    again = subprocess.run([sys.executable, str(ROOT / "eval" / "run.py"), "--compare", str(out), str(out)],
                           capture_output=True, text=True, timeout=30)
    assert again.returncode == 0 and "check_pass_rate" in again.stdout
    rescored = subprocess.run([sys.executable, str(ROOT / "eval" / "run.py"), "--rescore", str(out)],
                              capture_output=True, text=True, timeout=30)
    assert rescored.returncode == 0, rescored.stderr
    assert json.loads(out.read_text())["summary"] == record["summary"]
    doc = (tmp_path / "perf.md").read_text()
    assert "## Quality" in doc and "[`run.json`](run.json)" in doc
