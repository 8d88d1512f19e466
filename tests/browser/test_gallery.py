"""The visual regression gallery (docs/gallery/): fresh renders match the committed screenshots."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
GALLERY = ROOT / "docs" / "gallery"


def test_the_readme_shows_every_stored_scene_and_every_frame_exists() -> None:
    scenes = json.loads((GALLERY / "scenes.json").read_text())["scenes"]
    readme = (GALLERY / "README.md").read_text()
    assert len(scenes) >= 6
    for item in scenes:
        assert item["prompt"] in readme
    frames = re.findall(r"\]\(([^)]+\.png)\)", readme)
    assert frames and all((GALLERY / f).is_file() for f in frames)
    assert sorted(frames) == sorted(p.name for p in GALLERY.glob("*.png"))  # no stale screenshots


@pytest.mark.browser
def test_fresh_renders_match_the_gallery() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "gallery.py"), "--check"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert re.search(r"(\d+)/\1 frames match", result.stderr), result.stderr
