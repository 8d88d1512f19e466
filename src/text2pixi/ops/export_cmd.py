"""``text2pixi export``: a scene file or a finished job as Lottie, GIF, MP4, WebM or a PNG poster.

The files are rendered here, without a browser or the service (:func:`text2pixi.service.export.render`); a job
id is only fetched through the gateway (``--gateway``/``--api-key`` as for ``submit`` and ``view``).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from text2pixi.core.contracts import JOB_ID
from text2pixi.core.errors import InvalidExport, Text2PixiError

if TYPE_CHECKING:
    from text2pixi.core.scene import Scene
    from text2pixi.service.export import ExportFormat

SIZE = re.compile(r"^(?P<w>\d+)?(?:[x×](?P<h>\d+)?)?$")


def parse_size(text: str) -> tuple[int | None, int | None]:
    """``800x600``, ``400`` or ``400x`` (width, height by the stage's aspect), ``x300`` (height only)."""
    match = SIZE.match(text.strip().lower())
    if not text.strip() or not match or not (match["w"] or match["h"]):
        raise InvalidExport(f"--size must look like 800x600, 400x or x300, not {text!r}")
    return (int(match["w"]) if match["w"] else None), (int(match["h"]) if match["h"] else None)


def output_path(out: Path | None, stem: str, extension: str, *, several: bool) -> Path:
    """``--out`` as the file itself (one format, with a suffix), else as the directory for ``stem.extension``."""
    if out is not None and not several and out.suffix and not out.is_dir():
        return out
    return (out or Path(".")) / f"{stem}.{extension}"


def _scene(source: str, gateway_url: str | None, api_key: str | None) -> Scene:
    from text2pixi.ops import viewer
    from text2pixi.ops.endpoint import resolve_api_key, resolve_gateway

    fetched = bool(JOB_ID.match(source)) and not Path(source).is_file()
    if not fetched:
        return viewer.load(source, gateway="", api_key="").scene
    return viewer.load(source, gateway=resolve_gateway(gateway_url), api_key=resolve_api_key(api_key)).scene


def export(
    source: Annotated[str, typer.Argument(help="a scene JSON file (scene, result or status) or a job id")],
    lottie: Annotated[bool, typer.Option("--lottie", help="Lottie (bodymovin) JSON")] = False,
    gif: Annotated[bool, typer.Option("--gif", help="animated GIF")] = False,
    mp4: Annotated[bool, typer.Option("--mp4", help="H.264 MP4")] = False,
    webm: Annotated[bool, typer.Option("--webm", help="VP9 WebM")] = False,
    png: Annotated[bool, typer.Option("--png", help="PNG poster frame at --at seconds")] = False,
    fps: Annotated[int, typer.Option(help="frames per second (1-60; GIF 1-50)")] = 30,
    size: Annotated[str | None, typer.Option(help="WxH, or W / xH keeping the stage's aspect (default: the "
                                                  "stage's size)")] = None,
    duration: Annotated[float | None, typer.Option(help="seconds (default: the scene's own, or one cycle of a "
                                                        "scene that loops forever)")] = None,
    at: Annotated[float, typer.Option(help="time of the PNG poster, in seconds")] = 0.0,
    out: Annotated[Path | None, typer.Option(help="the file (one format) or the directory (default: here)")] = None,
    gateway_url: Annotated[
        str | None, typer.Option("--gateway", help="for a job id; default: $OPENFAAS_URL or the local stack")
    ] = None,
    api_key: Annotated[str | None, typer.Option(help="for a job id; default: $TEXT2PIXI_API_KEY or the local "
                                                     "stack's key")] = None,
) -> None:
    """Export a scene (a file or a job id) as Lottie, GIF, MP4, WebM and/or a PNG poster; print each file."""
    from text2pixi.service.export import export_size, render

    flags: tuple[tuple[ExportFormat, bool], ...] = (("lottie", lottie), ("gif", gif), ("mp4", mp4),
                                                     ("webm", webm), ("png", png))
    chosen = [fmt for fmt, on in flags if on]
    try:
        if not chosen:
            raise InvalidExport("choose at least one of --lottie, --gif, --mp4, --webm, --png")
        scene = _scene(source, gateway_url, api_key)
        dimensions = export_size(scene, *parse_size(size)) if size else None
        stem = source if JOB_ID.match(source) and not Path(source).is_file() else Path(source).stem
        for fmt in chosen:
            exported = render(scene, fmt, fps=fps, size=dimensions, duration=duration, at=at)
            # A Lottie file is JSON like the scene it came from: name it apart, never over the source.
            extension = "lottie.json" if fmt == "lottie" else exported.extension
            path = output_path(out, stem, extension, several=len(chosen) > 1)
            if Path(source).is_file() and path.resolve() == Path(source).resolve():
                raise InvalidExport(f"the {fmt} export would overwrite the scene file {source}; choose --out")
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(exported.data)
            timing = f"t = {at:g} s" if fmt == "png" else f"{exported.frames} frames, {exported.duration_s:g} s"
            typer.echo(f"{path}\t{len(exported.data):,} bytes\t{exported.width}x{exported.height}, {timing}")
    except Text2PixiError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2 if exc.http_status < 500 else 1) from None
    except OSError as exc:
        typer.echo(f"error: cannot write the export: {exc}", err=True)
        raise typer.Exit(code=1) from None
