"""Fault injection on the real stack: every fault kind at least once (``TEXT2PIXI_CHAOS_ROUNDS``
rounds, default 1); ``make chaos`` runs 9 rounds (54 faults) and writes the report."""

from __future__ import annotations

import json
import os

import pytest

from . import harness
from .chaos import FAULTS, run_chaos

pytestmark = [pytest.mark.model, pytest.mark.stack]

ROUNDS = int(os.environ.get("TEXT2PIXI_CHAOS_ROUNDS", "1"))


def test_no_accepted_job_is_lost_stuck_or_corrupted(fault_stack: harness.Stack) -> None:
    report = run_chaos(fault_stack, ROUNDS, log=lambda m: None)
    print(json.dumps(report, indent=2))
    assert report["problems"] == [], report
    assert report["faults_total"] == ROUNDS * len(FAULTS), report["skipped"]
    assert report["accepted"] > 0 and report["lost"] == 0 and report["stuck"] == 0
    assert report["outcomes"].get("finished", 0) > 0
    assert report["aof_survived"] == report["aof_acknowledged"] > 0
    assert report["kill_worker_recovery_s"] and max(report["kill_worker_recovery_s"]) <= 2 * harness.JOB_TIMEOUT
