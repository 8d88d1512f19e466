"""The installed ``text2pixi`` command, run as a user would (a real subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from text2pixi import registry

CLI = [sys.executable, "-m", "text2pixi.ops.cli"]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, env={**os.environ, **(env or {})},
                          timeout=600)


def test_help_for_every_command() -> None:
    for args in ([], ["translate"], ["model"], ["model", "fetch"], ["model", "list"]):
        result = run(*args, "--help")
        assert result.returncode == 0, result.stderr
        assert "Usage" in result.stdout


def test_version_is_the_installed_package_version() -> None:
    result = run("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"text2pixi {version('text2pixi')}\n"


def test_model_list_shows_the_registry() -> None:
    result = run("model", "list")
    assert result.returncode == 0
    assert f"{registry.DEFAULT_MODEL} (default)" in result.stdout
    assert registry.SMALL_MODEL in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["translate", "   "], "error: the prompt is empty"),
        (["translate", "x" * 1001], "error: the prompt has 1001 characters; the limit is 1000"),
        (["translate", "a ball", "--model", "nope"], "error: unknown model 'nope'"),
        (["translate", "a ball", "--model", "/nonexistent/m.gguf"],
         "error: model file /nonexistent/m.gguf does not exist"),
        (["model", "fetch", "nope"], "error: unknown model 'nope'"),
    ],
)
def test_errors_are_one_line_and_non_zero(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode != 0
    assert result.stderr.strip().startswith(message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


@pytest.mark.model
def test_translate_writes_json_js_and_html(tmp_path: Path, small_settings) -> None:  # type: ignore[no-untyped-def]
    path = registry.resolve(registry.SMALL_MODEL, small_settings.models_dir)
    result = run("translate", "a white dot", "--model", str(path), "--out", str(tmp_path), "--json",
                 "--threads", "2", env={"TEXT2PIXI_MAX_RETRIES": "3"})
    if result.returncode != 0:  # SmolLM2 may fail validation; then it must say so in one line
        assert result.stderr.startswith("error: no valid scene after 4 attempts"), result.stderr
        return
    out = json.loads(result.stdout)
    assert out["model"] == path.name
    assert set(out["files"]) == {"scene", "js", "html"}
    assert json.loads((tmp_path / "scene.json").read_text()) == out["scene"]
    assert 'from "pixi.js"' in (tmp_path / "scene.js").read_text()
    assert "globalThis.__PIXI_APP__" in (tmp_path / "scene.html").read_text()
