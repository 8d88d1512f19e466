"""The scale experiment's records: CSV files of requests, steps and samples, and the Markdown report section.

Part of ``bench/scale.py`` (run that). ``--doc`` replaces the section between :data:`DOC_BEGIN` and
:data:`DOC_END` of a Markdown file with :func:`markdown`'s text.
"""

from __future__ import annotations

import csv
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from text2pixi.quality.loadtest import Knee, StepStats
from text2pixi.quality.report import replace_section

DOC_BEGIN, DOC_END = "<!-- scale:begin -->", "<!-- scale:end -->"


def write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    """``rows`` as CSV, with the union of their keys as columns (in order of appearance)."""
    fields: list[str] = []
    for row in rows:
        fields.extend(k for k in row if k not in fields)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def step_row(stats: StepStats) -> dict[str, Any]:
    """One steps.csv row: the per-worker CPU and RSS dictionaries as columns of their own."""
    row = asdict(stats)
    cpu, rss = row.pop("worker_cpu_mean"), row.pop("worker_rss_max_mb")
    row.update({f"cpu_mean:{k}": v for k, v in cpu.items()})
    row.update({f"rss_max_mb:{k}": v for k, v in rss.items()})
    return row


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def markdown(summary: dict[str, Any], results: list[dict[str, Any]], out: Path, doc: Path | None) -> str:
    base = doc.parent if doc else out
    rel = os.path.relpath(out, base)
    lines = [
        DOC_BEGIN,
        "## Scale to the limit (issue: performance lab)",
        "",
        "Command (starts one stack per layout on free loopback ports, drives it through the gateway, "
        "stops it; bounded and self-stopping):",
        "",
        "```bash",
        summary["command"],
        "```",
        "",
        f"Run of {summary['started']}, model `{summary['model']}`, prompts cycled from a fixed set of "
        f"{len(summary['prompts'])}, queue limit {summary['max_queue_depth']}, {summary['arrivals']} arrivals per "
        f"open-loop step ({summary['process']}), {summary['duration_s']:.0f} s in all, host load average "
        f"{summary['loadavg_mean']:.1f} on {summary['host_cores']} cores "
        f"(raw data: [`summary.json`]({rel}/summary.json), [`steps.csv`]({rel}/steps.csv), "
        f"[`requests.csv`]({rel}/requests.csv), [`timeline.csv`]({rel}/timeline.csv)).",
        "",
        "| layout | saturation (closed loop) | tokens/s | engine tok/s alone x workers | predicted | "
        "**measured / predicted** | knee (open loop) | latency floor p50 | worker CPU at saturation | peak RSS |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for res in results:
        sat = next((s for s in res["steps"] if s.step == res["saturation_step"]), None)
        chk = res["saturation_check"].get("vs_engine_alone", {})
        knee: Knee = res["knee"]
        knee_text = f"{knee.rate_per_min:.2f} scenes/min" if knee.rate_per_min is not None else "not reached"
        floor = f"{knee.floor_s:.2f} s" if knee.floor_s is not None else "—"
        cpu = ", ".join(f"{v:.0f} %" for v in (sat.worker_cpu_mean.values() if sat else []))
        rss = max((v for s in res["steps"] for v in s.worker_rss_max_mb.values()), default=None)
        alone = res["engine_tps_alone"]
        lines.append(
            f"| {res['workers']} x {res['threads']} | {_fmt(sat.scenes_per_min if sat else None, 2)} scenes/min "
            f"({sat.step if sat else '—'}) | {_fmt(sat.tokens_per_s if sat else None)} | "
            f"{_fmt(alone)} x {res['workers']} | {_fmt(chk.get('predicted_scenes_per_min'), 2)} scenes/min | "
            f"**{_fmt(chk.get('ratio'), 2)}** | {knee_text} | {floor} | {cpu or '—'} | "
            f"{_fmt(rss, 0)} MB |")
    lines += [
        "",
        "Per step (closed loop: C clients each waiting for its answer; open loop: arrivals at the offered rate):",
        "",
        "| layout | step | sent | finished | failed | 429 | scenes/min | tokens/s | p50 | p95 | p99 | "
        "queue mean/max | worker CPU | RSS max | host load |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for res in results:
        for s in res["steps"]:
            lines.append(
                f"| {res['layout']} | {s.step} | {s.submitted} | {s.finished} | {s.failed} | "
                f"{s.rejected_429} ({s.reject_rate:.0%}) | {s.scenes_per_min:.2f} | {s.tokens_per_s:.1f} | "
                f"{_fmt(s.latency_p50, 2)} | {_fmt(s.latency_p95, 2)} | {_fmt(s.latency_p99, 2)} | "
                f"{_fmt(s.queue_mean)}/{_fmt(s.queue_max)} | "
                f"{', '.join(f'{v:.0f} %' for v in s.worker_cpu_mean.values()) or '—'} | "
                f"{_fmt(max(s.worker_rss_max_mb.values(), default=None), 0)} MB | {_fmt(s.host_load_mean)} |")
    lines += [
        "",
        f"![latency vs load]({rel}/latency_vs_load.png)",
        f"![throughput vs load]({rel}/throughput_vs_load.png)",
        f"![queue depth over time]({rel}/queue_depth.png)",
        "",
        "How to read it: *saturation* is the best closed-loop step with at least as many clients as workers, "
        "counted over the window where every worker had work (jobs straddling its edges count by the share of "
        "their service time inside it). *Predicted* is (sum over workers of engine tokens/s) / (mean output "
        "tokens per scene), with the engine rate taken from the one-client step (output tokens / engine time, "
        "first-token time and re-asks included); the target is measured / predicted within 10 % of 1. The "
        f"*knee* is the offered rate where the median latency first exceeds {summary['knee_factor']:g} x its "
        "value at the lowest rate (interpolated between steps). CPU is % of one core per worker (psutil).",
        DOC_END,
    ]
    return "\n".join(lines) + "\n"


def update_doc(doc: Path, section: str) -> None:
    text = doc.read_text() if doc.exists() else ""
    doc.write_text(replace_section(text, section, DOC_BEGIN, DOC_END))
