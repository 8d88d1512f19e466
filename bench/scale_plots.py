"""The scale experiment's figures: latency and throughput against load, and queue depth over time.

Part of ``bench/scale.py`` (run that); matplotlib is imported only when the figures are drawn.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from text2pixi.quality.loadtest import Knee

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure


def _style(ax: Axes) -> None:
    """A grid, a y axis from 0, and a legend when something is labelled."""
    ax.grid(alpha=0.3)
    ax.set_ylim(bottom=0)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)


def _save(fig: Figure, path: Path) -> Path:
    """Write ``fig`` as a PNG at ``path`` and free it."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plots(results: list[dict[str, Any]], out: Path) -> list[Path]:
    """The three figures of a run, written into ``out``: their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    files = []
    fig, (ax_open, ax_closed) = plt.subplots(1, 2, figsize=(11, 4.2))
    for res in results:
        opened = [s for s in res["steps"] if s.mode == "open" and s.latency_p50 is not None]
        closed = [s for s in res["steps"] if s.mode == "closed" and s.latency_p50 is not None]
        for q, style in (("p50", "-o"), ("p95", "--s"), ("p99", ":^")):
            if opened:
                ax_open.plot([s.offered_per_min for s in opened], [getattr(s, f"latency_{q}") for s in opened],
                             style, label=f"{res['layout']} {q}")
            if closed:
                ax_closed.plot([s.concurrency for s in closed], [getattr(s, f"latency_{q}") for s in closed],
                               style, label=f"{res['layout']} {q}")
        knee: Knee = res["knee"]
        if knee.rate_per_min is not None:
            ax_open.axvline(knee.rate_per_min, color="grey", linewidth=0.8)
            ax_open.annotate(f"knee {res['layout']}", (knee.rate_per_min, knee.threshold_s or 0), fontsize=8)
    ax_open.set(title="open loop: latency vs arrival rate", xlabel="offered scenes/min", ylabel="latency (s)")
    ax_closed.set(title="closed loop: latency vs clients", xlabel="concurrent clients", ylabel="latency (s)")
    for ax in (ax_open, ax_closed):
        _style(ax)
    files.append(_save(fig, out / "latency_vs_load.png"))

    fig, (ax_open, ax_closed) = plt.subplots(1, 2, figsize=(11, 4.2))
    top = 0.0
    for res in results:
        opened = [s for s in res["steps"] if s.mode == "open"]
        closed = [s for s in res["steps"] if s.mode == "closed"]
        if opened:
            xs = [s.offered_per_min or 0.0 for s in opened]
            ax_open.plot(xs, [s.scenes_per_min for s in opened], "-o", label=f"{res['layout']} finished")
            ax_open.plot(xs, [s.reject_rate * 100 for s in opened], ":x", label=f"{res['layout']} 429 %")
            top = max(top, *xs)
        if closed:
            ax_closed.plot([s.concurrency for s in closed], [s.scenes_per_min for s in closed], "-o",
                           label=res["layout"])
    if top:
        ax_open.plot([0, top], [0, top], color="grey", linewidth=0.8, label="offered")
    ax_open.set(title="open loop: throughput vs arrival rate", xlabel="offered scenes/min",
                ylabel="scenes/min (429: % of requests)")
    ax_closed.set(title="closed loop: throughput vs clients", xlabel="concurrent clients", ylabel="scenes/min")
    for ax in (ax_open, ax_closed):
        _style(ax)
    files.append(_save(fig, out / "throughput_vs_load.png"))

    fig, axes = plt.subplots(len(results), 1, figsize=(11, 2.8 * len(results)), squeeze=False)
    for ax, res in zip(axes[:, 0], results, strict=True):
        rows = res["timeline"]
        if rows:
            t_first = rows[0]["t"]
            ts = [r["t"] - t_first for r in rows]
            ax.step(ts, [r["queued"] for r in rows], where="post", label="queued")
            ax.step(ts, [r["started"] for r in rows], where="post", label="running")
            previous = None
            for t, r in zip(ts, rows, strict=True):
                if r["step"] != previous:
                    ax.axvline(t, color="grey", linewidth=0.6)
                    ax.annotate(r["step"].split(" ", 1)[-1], (t, 0), fontsize=7, rotation=90, va="bottom")
                    previous = r["step"]
        ax.set(title=f"{res['layout']}: queue depth over time", xlabel="s", ylabel="jobs")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7, loc="upper left")
    files.append(_save(fig, out / "queue_depth.png"))
    return files
