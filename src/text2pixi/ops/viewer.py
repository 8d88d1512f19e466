"""``text2pixi view``: a page that plays one scene, from a job id or a JSON file.

The page is :func:`text2pixi.core.codegen.render_page` (the runtime and ``mount`` the playground's scene scripts
use too) with a small control bar (replay, pause, time) and the scene JSON, so a result can be looked at
again without the service: pixi.js inlined from the local npm copy, no network, scripts allowed by hash.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
import webbrowser
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from text2pixi.core.codegen import js_literal, render_page
from text2pixi.core.errors import NotFound, UserError
from text2pixi.core.scene import Scene

JOB_ID = re.compile(r"^[0-9a-f]{32}$")

CONTROLS_JS = """\
const bar = document.createElement("div");
bar.id = "controls";
bar.style.cssText = "display:flex;gap:8px;justify-content:center;align-items:center;font-size:14px";
const button = (label, onClick) => {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.addEventListener("click", onClick);
  bar.appendChild(b);
  return b;
};
const ctl = () => globalThis.__TEXT2PIXI__;
button("Replay", () => { if (ctl()) { ctl().replay(); pause.textContent = "Pause"; } });
const pause = button("Pause", () => {
  const c = ctl();
  if (!c) return;
  if (c.playing) c.pause(); else c.play();
  pause.textContent = c.playing ? "Pause" : "Play";
});
const clock = document.createElement("span");
clock.id = "time";
clock.style.cssText = "min-width:5em;font-variant-numeric:tabular-nums";
bar.appendChild(clock);
setInterval(() => { if (ctl()) clock.textContent = ctl().time.toFixed(1) + " s"; }, 100);
document.getElementById("stage").after(bar);
const details = document.createElement("details");
details.style.cssText = "max-width:800px;margin:12px auto";
const summary = document.createElement("summary");
summary.textContent = "Scene JSON";
const pre = document.createElement("pre");
pre.id = "scene";
pre.style.cssText = "overflow:auto;font-size:12px";
pre.textContent = SCENE_TEXT;
details.append(summary, pre);
bar.after(details);
"""
"""Runs inside the page's boot script (allowed by its hash); builds the controls with the DOM, no markup."""


class SceneSourceInvalid(UserError):
    """The argument is neither a job id nor a readable JSON file holding a valid scene."""

    code = "scene_source_invalid"


@dataclass(frozen=True)
class Viewable:
    """A scene to show and the title of its page (the prompt when known)."""

    scene: Scene
    title: str


def scene_from_document(data: Any, *, where: str) -> Viewable:
    """Accept a scene, a result document (``{"scene", "prompt"}``) or a status view (``{"result": ...}``)."""
    if isinstance(data, dict) and isinstance(data.get("result"), dict):
        data = data["result"]
    title = "text2pixi scene"
    if isinstance(data, dict) and "scene" in data:
        title = str(data.get("prompt") or title)
        data = data["scene"]
    try:
        return Viewable(Scene.model_validate(data), title)
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(str(p) for p in first["loc"]) or "scene"
        raise SceneSourceInvalid(f"{where} is not a valid scene: {place}: {first['msg']}") from None


def load(source: str, *, gateway: str, api_key: str) -> Viewable:
    """A scene from a JSON file, or from a finished job fetched through the gateway."""
    path = Path(source)
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SceneSourceInvalid(f"cannot read {path} as JSON: {exc}") from None
        return scene_from_document(data, where=str(path))
    if not JOB_ID.match(source):
        raise SceneSourceInvalid(f"{source!r} is neither a JSON file nor a job id (32 hex digits)")
    from text2pixi.ops.client import Client

    view = Client(gateway, api_key).status(source)
    if view.get("status") != "finished":
        raise NotFound(f"job {source} has no scene (status {view.get('status')})")
    return scene_from_document(view, where=f"job {source}")


def render_viewer(item: Viewable, pixi_js: str) -> str:
    """The standalone page with replay/pause controls and the scene JSON."""
    scene_text = json.dumps(item.scene.model_dump(mode="json", exclude_defaults=True), indent=2)
    controls = f"const SCENE_TEXT = {js_literal(scene_text)};\n{CONTROLS_JS}"
    return render_page(item.scene, pixi_js, title=item.title, extra_js="{\n" + controls + "}\n")


def default_path(source: str) -> Path:
    stem = source if JOB_ID.match(source) else Path(source).stem
    return Path(tempfile.gettempdir()) / f"text2pixi-view-{stem}.html"


def can_open_browser() -> bool:
    """A browser can show a window: a desktop session, or not Linux (macOS, Windows)."""
    return not sys.platform.startswith("linux") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_in_browser(path: Path) -> bool:
    return can_open_browser() and webbrowser.open(path.resolve().as_uri())
