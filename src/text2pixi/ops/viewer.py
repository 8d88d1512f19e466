"""``text2pixi view``: a page that plays one scene, from a job id or a JSON file.

The page is :func:`text2pixi.core.codegen.render_page` (the runtime and ``mount`` the playground's scene scripts
use too) with a small control bar (replay, pause, time) and the scene JSON, so a result can be looked at
again without the service: pixi.js inlined from the local npm copy, no network, scripts allowed by hash.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import webbrowser
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from text2pixi.core.codegen import js_literal, render_page, runtime_js
from text2pixi.core.contracts import JOB_ID
from text2pixi.core.errors import NotFound, SceneSourceInvalid, validation_message
from text2pixi.core.scene import Scene


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
        raise SceneSourceInvalid(f"{where} is not a valid scene: {validation_message(exc, limit=1)}") from None


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
    # core/runtime/viewer_controls.js runs inside the page's boot script (allowed by its hash) and builds the
    # controls with the DOM, no markup; it reads SCENE_TEXT.
    controls = f"const SCENE_TEXT = {js_literal(scene_text)};\n{runtime_js('viewer_controls.js')}"
    return render_page(item.scene, pixi_js, title=item.title, extra_js="{\n" + controls + "}\n")


def default_path(source: str) -> Path:
    stem = source if JOB_ID.match(source) else Path(source).stem
    return Path(tempfile.gettempdir()) / f"text2pixi-view-{stem}.html"


def can_open_browser() -> bool:
    """A browser can show a window: a desktop session, or not Linux (macOS, Windows)."""
    return not sys.platform.startswith("linux") or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def open_in_browser(path: Path) -> bool:
    return can_open_browser() and webbrowser.open(path.resolve().as_uri())
