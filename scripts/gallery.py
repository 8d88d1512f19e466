#!/usr/bin/env python3
"""The visual regression gallery: representative prompts, their scenes, and screenshots in docs/gallery/.

    .venv/bin/python scripts/gallery.py              # render every scene in scenes.json to PNGs + README.md
    .venv/bin/python scripts/gallery.py --check      # render again and compare with the committed PNGs
    .venv/bin/python scripts/gallery.py --regenerate # first ask the default model again for every prompt

Each scene also gets an animated GIF (``<name>.gif``: one play, or one cycle of a scene that loops forever, at
400x300 and 15 fps), made without a browser by the exporter (``text2pixi.service.export``); the featured one is
shown at the top of the project's README.

The scenes are stored (``docs/gallery/scenes.json``) so that rendering is deterministic: a changed picture
means the runtime, the code generation or pixi.js changed, not the model. ``--regenerate`` refreshes them
from the model on purpose. Frames are taken with the page paused and sought to exact times
(``__TEXT2PIXI__.seek``), in Debian's chromium with SwiftShader, like the browser tests.
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
GALLERY = ROOT / "docs" / "gallery"
SCENES = GALLERY / "scenes.json"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                 "--font-render-hinting=none"]
PROMPTS = [
    ("red-circle-right", "a red circle in the centre moves to the right"),
    ("star-and-square", "a green star fades out while an orange square rotates slowly"),
    ("three-squares", "three blue squares spinning in a row"),
    ("hello-grows", "the word Hello grows bigger in the middle"),
    ("ball-turns-purple", "a yellow ball moves to the top right, then turns purple"),
    ("two-balls-bounce", "two orange balls bounce"),
    ("triangle-over-line", "a purple triangle spins above a white line"),
    ("sunset", "an orange sun sinks into a dark blue sea"),
]
COMPARE_JS = """async ([a, b]) => {
  const load = (src) => new Promise((ok, bad) => {
    const i = new Image(); i.onload = () => ok(i); i.onerror = bad; i.src = src;
  });
  const [x, y] = await Promise.all([load(a), load(b)]);
  if (x.width !== y.width || x.height !== y.height) return { size: [x.width, x.height, y.width, y.height] };
  const pixels = (img) => { const c = document.createElement('canvas'); c.width = img.width; c.height = img.height;
    const g = c.getContext('2d'); g.drawImage(img, 0, 0); return g.getImageData(0, 0, img.width, img.height).data; };
  const p = pixels(x), q = pixels(y);
  let sum = 0, far = 0;
  for (let i = 0; i < p.length; i += 4) {
    const d = Math.abs(p[i] - q[i]) + Math.abs(p[i + 1] - q[i + 1]) + Math.abs(p[i + 2] - q[i + 2]);
    sum += d; if (d > 96) far++;
  }
  return { mean: sum / (p.length / 4) / 3, far: far / (p.length / 4) };
}"""
MAX_MEAN = 2.0
"""Mean absolute difference per channel (0-255) a frame may have: anti-aliasing and fonts vary by machine."""
MAX_FAR = 0.01
"""Share of pixels that may differ a lot (sum of channel differences > 96)."""
GIF_FPS, GIF_SIZE = 15, (400, 300)
FEATURED = "three-squares"
"""The scene whose GIF heads the project's README (the prompt ``make demo`` sends)."""


class GalleryError(Exception):
    """The gallery cannot be built or does not match (a message for the command line)."""


@dataclass(frozen=True)
class Entry:
    name: str
    prompt: str
    scene: dict[str, Any]
    times: tuple[float, ...]
    source: dict[str, Any] | None = None

    def png(self, t: float) -> Path:
        return GALLERY / f"{self.name}-{t:g}s.png"

    @property
    def gif(self) -> Path:
        return GALLERY / f"{self.name}.gif"


def animate(entries: list[Entry]) -> dict[Path, bytes]:
    """Each scene as an animated GIF, rendered from its Lottie document by rlottie (no browser)."""
    from text2pixi.core.scene import Scene
    from text2pixi.service.export import render as export

    return {e.gif: export(Scene.model_validate(e.scene), "gif", fps=GIF_FPS, size=GIF_SIZE).data for e in entries}


def compare_animations(animations: dict[Path, bytes]) -> list[str]:
    """Fresh GIFs against the committed ones: same frames, delays and size, pixels within the PNGs' tolerance."""
    import io

    import numpy as np
    from PIL import Image, ImageSequence

    def frames(data: bytes) -> tuple[list[int], list[np.ndarray]]:
        image = Image.open(io.BytesIO(data))
        seq = list(ImageSequence.Iterator(image))
        return [f.info.get("duration", 0) for f in seq], [np.asarray(f.convert("RGB"), dtype=np.int16) for f in seq]

    problems = []
    for path, new in animations.items():
        if not path.exists():
            problems.append(f"{path.name}: not in the gallery (run scripts/gallery.py)")
            continue
        (old_delays, old), (new_delays, fresh) = frames(path.read_bytes()), frames(new)
        if old_delays != new_delays or [f.shape for f in old] != [f.shape for f in fresh]:
            problems.append(f"{path.name}: {len(old)} frames became {len(fresh)} (or their delays or size changed)")
            continue
        diff = np.stack([np.abs(a - b) for a, b in zip(old, fresh, strict=True)])
        mean, far = float(diff.mean()), float((diff.sum(axis=-1) > 96).mean())
        if mean > MAX_MEAN or far > MAX_FAR:
            problems.append(f"{path.name}: mean difference {mean:.2f}/255, {far:.2%} of pixels far off")
    return problems


def frame_times(scene: dict[str, Any]) -> tuple[float, ...]:
    """t=0 and a later moment where the animations have visibly done something (capped at 3 s)."""
    ends = [a.get("delay", 0) + a.get("dur", 1) for a in scene.get("anims", [])]
    later = min(max(ends, default=1.0), 3.0)
    return (0.0, round(later * 0.6, 1) or 0.5)


def regenerate(model: str | None) -> list[dict[str, Any]]:
    """Ask the model for every prompt (slow: the default model on CPU); the scenes it produced, validated."""
    from text2pixi.core.errors import Text2PixiError
    from text2pixi.engine import Engine
    from text2pixi.settings import Settings

    settings = Settings(**({"model": model} if model else {}))  # type: ignore[arg-type]
    engine = Engine(settings)
    engine.prime()
    documents = []
    for name, prompt in PROMPTS:
        started = time.perf_counter()
        try:
            result = engine.translate(prompt)
        except Text2PixiError as exc:
            print(f"{name}: no scene ({exc}); skipped", file=sys.stderr)
            continue
        print(f"{name}: {len(result.scene.objects)} objects in {time.perf_counter() - started:.1f}s", file=sys.stderr)
        documents.append({"name": name, "prompt": prompt, "model": result.model, "language": result.language,
                          **({"source": result.source} if result.source is not None else {}),
                          "scene": result.scene.model_dump(mode="json", exclude_defaults=True)})
    return documents


def load_entries() -> list[Entry]:
    """The stored scenes. A v2 entry's ``source`` (what the model wrote) is compiled again, and must give the
    stored scene: a difference means the compiler changed, and the gallery is regenerated on purpose."""
    from text2pixi.core.scene import Scene
    from text2pixi.core.v2 import V2Scene, compile_scene

    if not SCENES.exists():
        raise GalleryError(f"{SCENES} is missing; run with --regenerate")
    entries = []
    for item in json.loads(SCENES.read_text(encoding="utf-8"))["scenes"]:
        scene = Scene.model_validate(item["scene"]).model_dump(mode="json", exclude_defaults=True)
        source = item.get("source")
        if source is not None:
            compiled = compile_scene(V2Scene.model_validate(source)).model_dump(mode="json", exclude_defaults=True)
            if compiled != scene:
                raise GalleryError(f"{item['name']}: its v2 source no longer compiles to the stored scene; "
                                   "regenerate the gallery (--regenerate) if the compiler changed on purpose")
        entries.append(Entry(item["name"], item["prompt"], scene, frame_times(scene), source))
    return entries


def render(entries: list[Entry], out: Path) -> dict[Path, bytes]:
    """Screenshots of each scene's stage at its frame times, 400x300 (the 800x600 stage at scale 0.5)."""
    from playwright.sync_api import sync_playwright

    from text2pixi.core.codegen import render_page
    from text2pixi.core.scene import Scene
    from text2pixi.service.pixi_bundle import load_pixi_js
    from text2pixi.settings import Settings

    pixi_js = load_pixi_js(Settings().pixi_js_path)
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    frames: dict[Path, bytes] = {}
    with sync_playwright() as pw, tempfile.TemporaryDirectory() as tmp:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 900, "height": 700}, device_scale_factor=0.5)
        for entry in entries:
            scene = Scene.model_validate(entry.scene)
            path = Path(tmp) / f"{entry.name}.html"
            path.write_text(render_page(scene, pixi_js, title=entry.prompt), encoding="utf-8")
            page = context.new_page()
            page.goto(path.as_uri())
            deadline = time.monotonic() + 30
            while page.evaluate("document.body.dataset.state") == "loading":
                if time.monotonic() > deadline:
                    raise GalleryError(f"{entry.name}: the page did not start")
                page.wait_for_timeout(50)
            if page.evaluate("document.body.dataset.state") != "playing":
                raise GalleryError(f"{entry.name}: {page.inner_text('#error')}")
            page.evaluate("__TEXT2PIXI__.pause()")
            for t in entry.times:
                page.evaluate(f"__TEXT2PIXI__.seek({t}); __PIXI_APP__.render()")
                frames[out / entry.png(t).name] = page.locator("#stage canvas").screenshot(animations="disabled")
            page.close()
        browser.close()
    return frames


def compare(frames: dict[Path, bytes]) -> list[str]:
    """Differences beyond the tolerances, one line each (compared in the browser: no image library needed)."""
    from playwright.sync_api import sync_playwright

    problems = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium") or "/usr/bin/chromium",
                                     args=CHROMIUM_ARGS)
        page = browser.new_page()
        for path, new in frames.items():
            if not path.exists():
                problems.append(f"{path.name}: not in the gallery (run scripts/gallery.py)")
                continue
            urls = ["data:image/png;base64," + base64.b64encode(b).decode() for b in (path.read_bytes(), new)]
            result = page.evaluate(COMPARE_JS, urls)
            if "size" in result:
                problems.append(f"{path.name}: size {result['size'][:2]} became {result['size'][2:]}")
            elif result["mean"] > MAX_MEAN or result["far"] > MAX_FAR:
                problems.append(f"{path.name}: mean difference {result['mean']:.2f}/255, "
                                f"{result['far']:.2%} of pixels far off")
        browser.close()
    return problems


def readme(entries: list[Entry], generated: dict[str, Any]) -> str:
    lines = [
        "# Gallery",
        "",
        "Representative prompts, the scenes the default model wrote for them (in the v2 scene language,",
        "[docs/scene-v2.md](../scene-v2.md), compiled by `core/v2`), and how they render: the visual",
        "regression record of the compiler, the runtime (`codegen.py`) and pixi.js. Regenerate with `make gallery`",
        "(`scripts/gallery.py`); `make gallery-check` (and `tests/browser/test_gallery.py`) compares fresh renders",
        f"with these PNGs (mean difference ≤ {MAX_MEAN:g}/255 per channel, ≤ {MAX_FAR:.0%} of pixels far off).",
        "",
        f"Scenes: `scenes.json`, made by `{generated.get('model', '?')}` on {generated.get('date', '?')}; they are",
        "stored, so a changed picture means the rendering changed, not the model. `scripts/gallery.py --regenerate`",
        "asks the model again. Frames: Debian's chromium with SwiftShader, the stage paused and sought to `t`.",
        "The pictures show the model's real output, flaws included (a shape drawn over another, an animation",
        "that does not quite match the words): this records rendering; `make eval` judges quality.",
        "",
        f"The GIFs ({GIF_SIZE[0]}x{GIF_SIZE[1]}, {GIF_FPS} fps; one play, or one cycle of a scene that loops forever)",
        "come from the exporter (`text2pixi export --gif`), which draws the scene's Lottie file with rlottie, no",
        "browser; `--check` compares them too.",
        "",
        "| prompt | t = 0 | later | animated |",
        "|---|---|---|---|",
    ]
    for e in entries:
        shots = " | ".join(f"![{e.name} at {t:g} s]({e.png(t).name})<br>t = {t:g} s" for t in e.times)
        summary = f"{len(e.scene['objects'])} objects, {len(e.scene.get('anims', []))} animations"
        if e.source is not None:
            written = json.dumps(e.source, separators=(",", ":")).replace("|", "\\|")
            summary = f"<code>{written}</code><br>{summary} compiled"
        lines.append(f"| **{e.prompt}**<br>{summary} | {shots} | ![{e.name}, animated]({e.gif.name}) |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare fresh renders with the committed PNGs")
    parser.add_argument("--regenerate", action="store_true", help="ask the model again for every prompt first")
    parser.add_argument("--model", default=None, help="with --regenerate: model name (default: the default model)")
    args = parser.parse_args(argv)
    try:
        if args.regenerate:
            documents = regenerate(args.model)
            meta = {"model": documents[0]["model"] if documents else None,
                    "date": datetime.now(UTC).strftime("%Y-%m-%d")}
            GALLERY.mkdir(parents=True, exist_ok=True)
            SCENES.write_text(json.dumps({"generated": meta, "scenes": documents}, indent=1) + "\n",
                              encoding="utf-8")
        entries = load_entries()
        frames = render(entries, GALLERY)
        animations = animate(entries)
        if args.check:
            problems = compare(frames)
            moving = compare_animations(animations)
            for line in problems + moving:
                print(line, file=sys.stderr)
            print(f"{len(frames) - len(problems)}/{len(frames)} frames match", file=sys.stderr)
            print(f"{len(animations) - len(moving)}/{len(animations)} animations match", file=sys.stderr)
            return 1 if problems or moving else 0
        for old in [*GALLERY.glob("*.png"), *GALLERY.glob("*.gif")]:
            if old not in frames and old not in animations:
                old.unlink()
        for path, data in {**frames, **animations}.items():
            path.write_bytes(data)
        generated = json.loads(SCENES.read_text(encoding="utf-8")).get("generated", {})
        (GALLERY / "README.md").write_text(readme(entries, generated), encoding="utf-8")
        print(f"wrote {len(frames)} frames, {len(animations)} GIFs and README.md to {GALLERY}", file=sys.stderr)
    except GalleryError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
