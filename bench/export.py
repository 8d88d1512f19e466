"""Export speed and sizes: a 3 s, 800×600, 30 fps GIF of each gallery scene on one core, and what each format weighs.

The gallery's scenes (``docs/gallery/scenes.json``) are real outputs of the default model. The process pins
itself to one core before anything starts (``sched_setaffinity``), so rlottie, Pillow and the ffmpeg child it
spawns (which inherits the mask, and sizes its thread pool by it) all share that core. For each scene:

- GIF, MP4 and WebM of 3 s at 800×600 and 30 fps (``render(..., duration=3.0)``): wall time and the ratio
  wall / 3 s (target: GIF under 3x real time), CPU time of this process and its children, bytes;
- the Lottie document (3 s, and the scene's own length or loop cycle) and the PNG poster;
- the HTML page (``codegen.render_page``, pixi.js inlined, as ``/status/ID/html`` serves it) and the ES module.

    taskset -c 0 .venv/bin/python bench/export.py --json docs/bench-export.json      # or: make bench-export

Prints a table and a summary; ``--json`` writes them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SCENES = ROOT / "docs" / "gallery" / "scenes.json"
SECONDS, WIDTH, HEIGHT, FPS = 3.0, 800, 600, 30
TARGET_RATIO = 3.0


def cpu_seconds() -> float:
    """User + system time of this process and its finished children (ffmpeg)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def timed(fn: Any, repeats: int) -> tuple[Any, float, float]:
    """The result, the median wall time and the median CPU time of ``repeats`` runs."""
    walls, cpus, result = [], [], None
    for _ in range(repeats):
        cpu, wall = cpu_seconds(), time.perf_counter()
        result = fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(cpu_seconds() - cpu)
    return result, statistics.median(walls), statistics.median(cpus)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--core", type=int, default=0, help="the one CPU to run on")
    parser.add_argument("--repeats", type=int, default=3, help="runs per GIF (the median is reported)")
    parser.add_argument("--json", type=Path, default=None, help="write the rows and the summary here")
    args = parser.parse_args(argv)
    os.sched_setaffinity(0, {args.core})

    from text2pixi.core.codegen import render_module, render_page
    from text2pixi.core.lottie import lottie_duration
    from text2pixi.core.scene import Scene
    from text2pixi.service.export import render
    from text2pixi.service.pixi_bundle import load_pixi_js
    from text2pixi.settings import Settings

    load_before = os.getloadavg()[0]
    pixi_js = load_pixi_js(Settings().pixi_js_path)
    render(Scene.model_validate({"objects": [{"type": "circle", "id": "c", "x": 9, "y": 9, "r": 4}]}), "gif",
           fps=2, duration=0.5)  # load rlottie and the font once, outside the timings
    rows = []
    for item in json.loads(SCENES.read_text(encoding="utf-8"))["scenes"]:
        scene = Scene.model_validate(item["scene"])
        row: dict[str, Any] = {"scene": item["name"], "prompt": item["prompt"], "objects": len(scene.objects),
                               "anims": len(scene.anims), "loops": scene.duration() is None}
        for fmt in ("gif", "mp4", "webm"):
            repeats = args.repeats if fmt == "gif" else 1
            exported, wall, cpu = timed(partial(render, scene, fmt, fps=FPS, size=(WIDTH, HEIGHT),
                                                duration=SECONDS), repeats)
            assert exported.frames == round(SECONDS * FPS)
            row[fmt] = {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "realtime_ratio": round(wall / SECONDS, 3),
                        "bytes": len(exported.data)}
        poster, wall, _ = timed(partial(render, scene, "png", at=1.0), 1)
        row["png"] = {"wall_s": round(wall, 3), "bytes": len(poster.data)}
        row["lottie_3s_bytes"] = len(render(scene, "lottie", fps=FPS, duration=SECONDS).data)
        row["lottie_own_s"] = lottie_duration(scene)
        row["lottie_own_bytes"] = len(render(scene, "lottie", fps=FPS).data)
        row["html_bytes"] = len(render_page(scene, pixi_js, title=item["prompt"]).encode())
        row["module_bytes"] = len(render_module(scene).encode())
        rows.append(row)
        print(f"{row['scene']:<20} gif {row['gif']['wall_s']:5.2f}s ({row['gif']['realtime_ratio']:.2f}x, "
              f"cpu {row['gif']['cpu_s']:.2f}s) "
              f"{row['gif']['bytes']:>8,} B | mp4 {row['mp4']['wall_s']:5.2f}s {row['mp4']['bytes']:>7,} B | "
              f"webm {row['webm']['wall_s']:5.2f}s {row['webm']['bytes']:>7,} B | lottie {row['lottie_3s_bytes']:>6,} B"
              f" | html {row['html_bytes']:>9,} B | module {row['module_bytes']:>5,} B", file=sys.stderr)

    def median(path: tuple[str, ...]) -> float:
        values = []
        for row in rows:
            value: Any = row
            for key in path:
                value = value[key]
            values.append(value)
        return round(statistics.median(values), 3)

    summary = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, pinned to core {args.core}",
        "export": f"{SECONDS:g} s, {WIDTH}x{HEIGHT}, {FPS} fps",
        "scenes": len(rows),
        "load_average_1m": [round(load_before, 2), round(os.getloadavg()[0], 2)],
        "gif_realtime_ratio_median": median(("gif", "realtime_ratio")),
        "gif_realtime_ratio_max": max(r["gif"]["realtime_ratio"] for r in rows),
        "gif_cpu_ratio_median": round(median(("gif", "cpu_s")) / SECONDS, 3),
        "mp4_realtime_ratio_median": median(("mp4", "realtime_ratio")),
        "webm_realtime_ratio_median": median(("webm", "realtime_ratio")),
        "bytes_median": {"gif": median(("gif", "bytes")), "mp4": median(("mp4", "bytes")),
                         "webm": median(("webm", "bytes")), "lottie_3s": median(("lottie_3s_bytes",)),
                         "png": median(("png", "bytes")), "html": median(("html_bytes",)),
                         "module": median(("module_bytes",))},
        "target": f"GIF wall time < {TARGET_RATIO:g}x real time on one core",
    }
    summary["met"] = summary["gif_realtime_ratio_max"] < TARGET_RATIO
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "rows": rows}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
