"""The scale experiment: its statistics on synthetic timings, and a tiny real run on SmolLM2."""

from __future__ import annotations

import importlib.util
import random
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from tests.conftest import ROOT
from text2pixi.quality.loadtest import (
    Request,
    arrivals,
    engine_tps,
    engine_tps_by_worker,
    find_knee,
    percentile,
    saturation_check,
    steady_window,
    summarize_step,
    timeline_stats,
    work_in,
)


def load_bench(monkeypatch: pytest.MonkeyPatch, name: str = "scale") -> ModuleType:
    """``bench/<name>.py`` imported by path, its folder on sys.path as when it runs as a script (for its
    sibling modules ``bench/scale_*.py``); ``monkeypatch`` takes the folder off sys.path afterwards."""
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def simulate(sends: list[float], service: list[float], workers: int, tokens: int = 100,
             step: str = "s", closed: int = 0) -> list[Request]:
    """A FIFO queue with ``workers`` servers. Open loop: jobs arrive at ``sends``. Closed loop
    (``closed`` = clients): each client sends its next job the moment its previous one ends."""
    free = [0.0] * workers
    out: list[Request] = []
    if closed:
        client_ready = [0.0] * closed
        for s in service:
            c = min(range(closed), key=lambda i: client_ready[i])
            sent = client_ready[c]
            w = min(range(workers), key=lambda i: free[i])
            start = max(sent, free[w])
            end = start + s
            free[w] = end
            client_ready[c] = end
            out.append(Request(step=step, sent=sent, code=200, outcome="finished", started=start, ended=end,
                               done=end, output_tokens=tokens, engine_s=s, worker=f"worker{w + 1}"))
        return out
    for sent, s in zip(sends, service, strict=True):
        w = min(range(workers), key=lambda i: free[i])
        start = max(sent, free[w])
        free[w] = start + s
        out.append(Request(step=step, sent=sent, code=202, outcome="finished", started=start, ended=start + s,
                           output_tokens=tokens, engine_s=s, worker=f"worker{w + 1}"))
    return out


def test_percentiles_match_numpy_linear() -> None:
    rng = random.Random(3)
    for n in (1, 2, 5, 17, 200):
        values = [rng.uniform(0, 30) for _ in range(n)]
        for q in (0, 50, 95, 99, 100):
            assert percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    assert percentile(range(1, 101), 50) == pytest.approx(50.5)
    assert percentile(range(1, 101), 95) == pytest.approx(95.05)
    assert percentile([], 50) is None


def test_arrival_schedules() -> None:
    assert arrivals(2.0, 4, process="uniform") == [0.0, 0.5, 1.0, 1.5]
    poisson = arrivals(0.5, 20000, seed=1)
    assert poisson == arrivals(0.5, 20000, seed=1) and poisson != arrivals(0.5, 20000, seed=2)
    assert poisson[0] == 0.0 and all(b >= a for a, b in zip(poisson, poisson[1:], strict=False))
    assert (poisson[-1] / (len(poisson) - 1)) == pytest.approx(2.0, rel=0.03)
    assert arrivals(0, 5) == [] and arrivals(1, 0) == []


def test_closed_loop_throughput_is_exact_for_deterministic_service() -> None:
    for n in (9, 10, 11):  # the tail (fewer jobs than workers) must not bias it
        reqs = simulate([], [1.0] * n, workers=2, closed=4, tokens=100)
        stats = summarize_step("2x1", "closed c=4", reqs, mode="closed", workers=2, concurrency=4)
        assert stats.scenes_per_min == pytest.approx(120.0)
        assert stats.tokens_per_s == pytest.approx(200.0)
        assert stats.finished == n and stats.rejected_429 == 0
    # one worker busy at a time: latency = service time, throughput = 1/service
    single = summarize_step("1x2", "closed c=1", simulate([], [2.0] * 4, workers=1, closed=1), mode="closed",
                            workers=1, concurrency=1)
    assert single.scenes_per_min == pytest.approx(30.0) and single.latency_p50 == pytest.approx(2.0)


def test_closed_loop_latency_includes_queueing() -> None:
    reqs = simulate([], [1.0] * 12, workers=2, closed=4)
    stats = summarize_step("2x1", "c4", reqs, mode="closed", workers=2, concurrency=4)
    # 4 clients, 2 servers, 1 s each: after the first round every job waits one service time
    assert stats.latency_p50 == pytest.approx(2.0) and stats.latency_p99 == pytest.approx(2.0)


def test_work_straddling_the_window_counts_by_share() -> None:
    reqs = [Request(step="s", sent=0, outcome="finished", started=0, ended=4, output_tokens=40),
            Request(step="s", sent=0, outcome="failed", started=4, ended=5),
            Request(step="s", sent=0, outcome="rejected", code=429)]
    assert work_in(reqs, 1, 3) == (pytest.approx(0.5), pytest.approx(20.0))
    assert steady_window(reqs, mode="open", workers=1) == (0, 5)


def test_open_loop_statistics_and_the_knee_on_a_simulated_queue() -> None:
    """One worker, 1 s per job: latency stays at 1 s until arrivals approach 1/s, then climbs."""
    points = []
    for per_min in (15, 30, 45, 54, 66, 90):
        sends = arrivals(per_min / 60, 40, process="uniform")
        reqs = simulate(sends, [1.0] * 40, workers=1)
        stats = summarize_step("1x2", f"open {per_min}", reqs, mode="open", workers=1, offered_per_min=per_min)
        assert stats.arrival_per_min == pytest.approx(per_min)
        assert stats.scenes_per_min == pytest.approx(min(per_min, 60), rel=0.05)
        if per_min <= 60:
            assert stats.latency_p50 == pytest.approx(1.0) and stats.latency_p99 == pytest.approx(1.0)
        points.append((float(per_min), stats.latency_p50))
    knee = find_knee(points, factor=1.5)
    assert knee.floor_s == 1.0 and knee.threshold_s == 1.5
    assert knee.rate_per_min is not None and 54 < knee.rate_per_min <= 66 and knee.between == (54.0, 66.0)


def test_knee_interpolation_and_no_knee() -> None:
    knee = find_knee([(40, 2.0), (10, 1.0), (30, 1.2), (20, 1.05), (50, 5.0)], factor=1.5)
    assert knee.rate_per_min == pytest.approx(33.75) and knee.between == (30, 40)
    flat = find_knee([(10, 1.0), (20, 1.1), (30, 1.2)])
    assert flat.rate_per_min is None and flat.floor_s == 1.0
    assert find_knee([(10, None)]).floor_s is None


def test_rejections_and_unfinished_are_counted_not_timed() -> None:
    reqs = simulate([0, 1, 2], [1.0] * 3, workers=1) + [
        Request(step="s", sent=2.5, code=429, outcome="rejected"),
        Request(step="s", sent=3.0, code=202, outcome="unfinished")]
    stats = summarize_step("1x2", "s", reqs, mode="open", workers=1, offered_per_min=60)
    assert (stats.submitted, stats.finished, stats.rejected_429, stats.unfinished) == (5, 3, 1, 1)
    assert stats.reject_rate == 0.2 and stats.latency_p50 == 1.0


def test_saturation_check_and_engine_rates() -> None:
    ok = saturation_check(11.0, [20.0, 20.0], 200.0)
    assert ok["predicted_scenes_per_min"] == 12.0 and ok["ratio"] == pytest.approx(0.917, abs=1e-3)
    assert ok["within_10pct"] is True
    assert saturation_check(10.0, [20.0, 20.0], 200.0)["within_10pct"] is False
    reqs = [Request(step="s", sent=0, outcome="finished", output_tokens=100, engine_s=5, worker="worker1"),
            Request(step="s", sent=0, outcome="finished", output_tokens=300, engine_s=15, worker="worker1"),
            Request(step="s", sent=0, outcome="finished", output_tokens=100, engine_s=10, worker="worker2"),
            Request(step="s", sent=0, outcome="failed", output_tokens=0, engine_s=0, worker="worker2")]
    assert engine_tps(reqs) == pytest.approx(500 / 30)
    assert engine_tps_by_worker(reqs) == {"worker1": 20.0, "worker2": 10.0}


def test_timeline_statistics() -> None:
    stats = summarize_step("2x1", "s", simulate([], [1.0] * 4, workers=2, closed=2), mode="closed", workers=2,
                           concurrency=2)
    rows = [{"t": t, "step": "s", "queued": q, "started": 1, "loadavg": q / 2, "cpu:worker1": c, "rss_mb:worker1": m}
            for t, q, c, m in ((0.0, 0, 50.0, 300.0), (1.0, 4, 100.0, 320.0), (2.0, 2, 90.0, 310.0),
                               (9.0, 9, 0.0, 999.0))]
    timeline_stats(stats, rows, 0.0, 2.0)
    assert stats.queue_mean == 2.0 and stats.queue_max == 4 and stats.host_load_mean == 1.0
    assert stats.worker_cpu_mean == {"worker1": 80.0} and stats.worker_rss_max_mb == {"worker1": 320.0}


def test_bench_helpers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bench = load_bench(monkeypatch)
    assert bench.parse_layouts("1x2, 2x1") == [(1, 2), (2, 1)]
    assert bench.parse_rates("0.5x,1x,12", 10.0) == [5.0, 10.0, 12.0]
    report = load_bench(monkeypatch, "scale_report")
    doc = tmp_path / "perf.md"
    doc.write_text("# Performance\n\n## Other\n\ntext\n")
    report.update_doc(doc, f"{report.DOC_BEGIN}\nfirst\n{report.DOC_END}\n")
    report.update_doc(doc, f"{report.DOC_BEGIN}\nsecond\n{report.DOC_END}\n")
    text = doc.read_text()
    assert "second" in text and "first" not in text and text.count(report.DOC_BEGIN) == 1 and "## Other" in text
