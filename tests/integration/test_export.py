"""Raster and Lottie exports (``service/export.py``) with the real rlottie, Pillow and ffmpeg, and ``text2pixi export``.

No model and no browser: small sizes and low frame rates keep every case to a fraction of a second.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import imageio_ffmpeg
import pytest
from PIL import Image

from tests.backends import RedisServer, S3Server, import_template, serve_wsgi
from tests.conftest import ROOT
from text2pixi.core.errors import InvalidExport
from text2pixi.core.lottie import lottie_duration
from text2pixi.core.scene import Scene
from text2pixi.ops.export_cmd import output_path, parse_size
from text2pixi.service.export import ExportFormat, export_size, gif_delays, render

RED, WHITE = (255, 0, 0), (255, 255, 255)


def moving_ball(**anim: Any) -> Scene:
    """A red ball on white going from x=100 to x=700 in 2 s, linearly: at t it is at 100 + 300 t."""
    move = {"type": "move", "target": "ball", "x": 700, "y": 300, "dur": 2.0, **anim}
    return Scene.model_validate({"bg": "white", "objects": [{"type": "circle", "id": "ball", "x": 100, "y": 300,
                                                           "color": "red", "r": 40}], "anims": [move]})


def spinning_square(dur: float = 1.0) -> Scene:
    """A blue bar turning forever (one turn per ``dur`` s): a scene with no end, whose cycle is ``dur``."""
    return Scene.model_validate({"bg": "#f0f0f0", "objects": [{"type": "rect", "id": "bar", "x": 400, "y": 300,
                                                             "w": 300, "h": 40, "color": "blue"}],
                                 "anims": [{"type": "rotate", "target": "bar", "by": 360, "dur": dur,
                                            "repeat": -1}]})


def gif_frames(data: bytes) -> tuple[Image.Image, list[int]]:
    image = Image.open(io.BytesIO(data))
    delays = []
    for index in range(image.n_frames):
        image.seek(index)
        delays.append(image.info["duration"])
    image.seek(0)
    return image, delays


def ffmpeg(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-hide_banner", *args], capture_output=True,
                          text=True, timeout=60)


def probe(path: Path) -> str:
    """What ffmpeg says about the file's streams and tags (``ffmpeg -i`` with no output exits 1 on purpose)."""
    return ffmpeg("-i", str(path)).stderr


def test_gif_has_the_frames_delays_size_and_metadata_asked_for() -> None:
    exported = render(moving_ball(), "gif", fps=10, size=(200, 150))
    assert (exported.media_type, exported.extension) == ("image/gif", "gif")
    assert (exported.frames, exported.duration_s, exported.width, exported.height) == (20, 2.0, 200, 150)
    image, delays = gif_frames(exported.data)
    assert image.size == (200, 150)
    assert len(delays) == 20 and sum(delays) == 2000
    assert "loop" not in image.info  # the scene plays once, as the page does
    meta = json.loads(image.info["comment"])
    assert meta == {"generator": "text2pixi", "duration": 2.0, "loops": False, "fps": 10, "frames": 20}


def test_gif_keeps_the_scene_colours_exact() -> None:
    image, _ = gif_frames(render(moving_ball(), "gif", fps=10, size=(200, 150)).data)
    image.seek(10)  # t = 1 s: the ball is at x = 400 of 800, y = 300 of 600
    frame = image.convert("RGB")
    assert frame.getpixel((100, 75)) == RED
    assert frame.getpixel((20, 20)) == WHITE
    assert frame.getpixel((180, 140)) == WHITE


@pytest.mark.parametrize("fps", [1, 7, 24, 30, 50])
def test_gif_delays_are_whole_centiseconds_that_add_up_to_the_timeline(fps: int) -> None:
    delays = gif_delays(3 * fps, fps)
    assert all(d % 10 == 0 and d >= 10 for d in delays)
    assert sum(delays) == 3000
    elapsed = 0
    for index, delay in enumerate(delays):
        assert abs(elapsed - index * 1000 / fps) <= 5
        elapsed += delay


def test_a_scene_that_loops_forever_exports_one_cycle_and_says_so() -> None:
    scene = spinning_square(1.0)
    exported = render(scene, "gif", fps=12, size=(160, 120))
    assert exported.duration_s == lottie_duration(scene) == 1.0
    image, delays = gif_frames(exported.data)
    assert (exported.frames, len(delays), sum(delays)) == (12, 12, 1000)
    assert image.info["loop"] == 0
    meta = json.loads(image.info["comment"])
    assert meta["loops"] is True and meta["duration"] == 1.0 and meta["cycle"] == 1.0


def test_a_chosen_duration_overrides_the_cycle() -> None:
    exported = render(spinning_square(1.0), "gif", fps=10, size=(160, 120), duration=2.5)
    _, delays = gif_frames(exported.data)
    assert (exported.frames, exported.duration_s, sum(delays)) == (25, 2.5, 2500)


def test_mp4_is_h264_yuv420p_with_the_frames_asked_for(tmp_path: Path) -> None:
    exported = render(moving_ball(), "mp4", fps=15, size=(201, 151))
    assert (exported.media_type, exported.extension) == ("video/mp4", "mp4")
    assert (exported.width, exported.height) == (200, 150)  # yuv420p needs even sides
    path = tmp_path / "ball.mp4"
    path.write_bytes(exported.data)
    decoded = ffmpeg("-v", "error", "-i", str(path), "-f", "null", "-")
    assert decoded.returncode == 0 and decoded.stderr == ""
    assert imageio_ffmpeg.count_frames_and_secs(str(path)) == (30, 2.0)
    info = probe(path)
    assert re.search(r"Video: h264 .*yuv420p.*200x150", info), info
    assert '"loops": false' in info and '"duration": 2.0' in info  # the comment tag
    assert exported.data.index(b"moov") < exported.data.index(b"mdat")  # faststart


def test_webm_is_vp9_with_one_cycle_of_a_looping_scene(tmp_path: Path) -> None:
    exported = render(spinning_square(1.0), "webm", fps=12, size=(160, 120))
    assert (exported.media_type, exported.frames, exported.duration_s) == ("video/webm", 12, 1.0)
    path = tmp_path / "bar.webm"
    path.write_bytes(exported.data)
    decoded = ffmpeg("-v", "error", "-i", str(path), "-f", "null", "-")
    assert decoded.returncode == 0 and decoded.stderr == ""
    frames, _ = imageio_ffmpeg.count_frames_and_secs(str(path))
    assert frames == 12
    info = probe(path)
    assert re.search(r"Video: vp9.*160x120", info), info
    assert '"loops": true' in info


@pytest.mark.parametrize("t", [0.0, 0.5, 1.0, 2.0, 5.0])
def test_png_poster_shows_the_ball_where_the_scene_puts_it_at_t(t: float) -> None:
    exported = render(moving_ball(), "png", size=(400, 300), at=t)
    assert (exported.media_type, exported.frames, exported.width, exported.height) == ("image/png", 1, 400, 300)
    image = Image.open(io.BytesIO(exported.data))
    assert image.size == (400, 300)
    x = (100 + 300 * min(t, 2.0)) / 2  # stage pixels to poster pixels (scale 0.5)
    assert image.convert("RGB").getpixel((round(x), 150)) == RED
    for off in (x - 40, x + 40):  # 40 poster px = 80 stage px away from the centre: outside the r=40 ball
        if 0 <= off < 400:
            assert image.convert("RGB").getpixel((round(off), 150)) == WHITE
    assert json.loads(image.info["Comment"])["t"] == t


def test_png_poster_of_a_looping_scene_keeps_looping_past_the_first_cycle() -> None:
    scene = spinning_square(1.0)
    posters = [render(scene, "png", size=(160, 120), at=t).data for t in (0.25, 1.25, 7.25)]
    pictures = [Image.open(io.BytesIO(p)).convert("RGB").tobytes() for p in posters]
    assert pictures[0] == pictures[1] == pictures[2]
    assert pictures[0] != Image.open(io.BytesIO(render(scene, "png", size=(160, 120), at=0.0).data)).convert(
        "RGB").tobytes()


def test_png_of_another_aspect_ratio_is_fitted_on_the_background() -> None:
    image = Image.open(io.BytesIO(render(moving_ball(), "png", size=(400, 100), at=1.0).data)).convert("RGB")
    assert image.getpixel((5, 50)) == WHITE  # the margin left of the fitted stage shows the background
    assert image.getpixel((200, 50)) == RED


def test_lottie_is_the_json_document() -> None:
    exported = render(spinning_square(2.0), "lottie", fps=24)
    document = json.loads(exported.data)
    assert exported.media_type == "application/json" and exported.extension == "json"
    assert (document["fr"], document["op"] - document["ip"]) == (24, 48)
    assert (exported.frames, exported.duration_s, exported.width, exported.height) == (48, 2.0, 800, 600)


@pytest.mark.parametrize(
    ("fmt", "options", "words"),
    [
        ("avi", {}, "unknown export format"),
        ("gif", {"fps": 0}, "fps"),
        ("mp4", {"fps": 61}, "fps"),
        ("gif", {"fps": 60}, "fps"),  # GIF delays of 10 ms play slowly in browsers
        ("webm", {"fps": 2.5}, "fps"),
        ("gif", {"size": (8, 100)}, "size"),
        ("png", {"size": (100, 1921)}, "size"),
        ("gif", {"duration": 0}, "duration"),
        ("mp4", {"duration": -1.0}, "duration"),
        ("gif", {"duration": 61.0}, "duration"),
        ("png", {"at": -0.5}, "at must"),
        ("png", {"at": 60.5}, "at must"),
        ("gif", {"size": (1920, 1920), "duration": 60.0, "fps": 50}, "too large"),
    ],
)
def test_invalid_options_are_named_400_errors(fmt: str, options: dict[str, Any], words: str) -> None:
    with pytest.raises(InvalidExport, match=words) as caught:
        render(moving_ball(), fmt, **options)  # type: ignore[arg-type]
    assert caught.value.http_status == 400 and caught.value.code == "invalid_export"


def test_sizes_keep_the_stage_aspect_when_one_side_is_given() -> None:
    scene = moving_ball()  # 800x600
    assert export_size(scene) == (800, 600)
    assert export_size(scene, 400) == (400, 300)
    assert export_size(scene, None, 90) == (120, 90)
    assert export_size(scene, 300, 300) == (300, 300)
    assert parse_size("800x600") == (800, 600) and parse_size("400x") == (400, None)
    assert parse_size("400") == (400, None) and parse_size("x300") == (None, 300)
    for bad in ("", "x", "axb", "12x34x5", "-4x3"):
        with pytest.raises(InvalidExport):
            parse_size(bad)


def test_output_path_is_the_file_for_one_format_and_a_directory_for_several(tmp_path: Path) -> None:
    assert output_path(tmp_path / "a.gif", "scene", "gif", several=False) == tmp_path / "a.gif"
    assert output_path(tmp_path / "out", "scene", "gif", several=False) == tmp_path / "out" / "scene.gif"
    assert output_path(tmp_path / "x.gif", "scene", "png", several=True) == tmp_path / "x.gif" / "scene.png"
    assert output_path(None, "scene", "mp4", several=True) == Path("scene.mp4")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "text2pixi.ops.cli", "export", *args], capture_output=True,
                          text=True, timeout=120)


def test_cli_exports_a_scene_file(tmp_path: Path) -> None:
    source = tmp_path / "ball.json"
    source.write_text(moving_ball().to_json(), encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli(str(source), "--gif", "--png", "--lottie", "--size", "160x", "--fps", "10", "--at", "1",
                     "--out", str(out))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    names = ("ball.lottie.json", "ball.gif", "ball.png")
    assert [line.split("\t")[0] for line in lines] == [str(out / name) for name in names]
    assert "160x120, 20 frames, 2 s" in lines[1] and "160x120, t = 1 s" in lines[2]
    assert json.loads((out / "ball.lottie.json").read_text())["fr"] == 10
    for line, name in zip(lines, names, strict=True):
        assert f"{(out / name).stat().st_size:,} bytes" in line
    assert Image.open(out / "ball.gif").n_frames == 20
    assert Image.open(out / "ball.png").size == (160, 120)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.json", "--gif"], "error: 'missing.json' is neither a JSON file nor a job id"),
        (["SCENE"], "error: choose at least one of --lottie"),
        (["SCENE", "--mp4", "--fps", "90"], "error: fps must be a whole number from 1 to 60"),
        (["SCENE", "--gif", "--size", "big"], "error: --size must look like"),
        (["SCENE", "--lottie", "--out", "SCENE"], "error: the lottie export would overwrite the scene file"),
    ],
)
def test_cli_errors_are_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    from typer.testing import CliRunner

    from text2pixi.ops.cli import app

    source = tmp_path / "ball.json"
    source.write_text(moving_ball().to_json(), encoding="utf-8")
    result = CliRunner().invoke(app, ["export", *(str(source) if a == "SCENE" else a for a in args)])
    assert result.exit_code == 2
    assert result.stderr.startswith(message) and len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_cli_exports_a_finished_job_fetched_through_the_gateway(
        backends: tuple[RedisServer, S3Server], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A job id: the scene comes from the status function behind the local gateway (real Redis and S3)."""
    from typer.testing import CliRunner

    from text2pixi.core.codegen import render_module
    from text2pixi.core.contracts import ResultDocument, Timings, utc_now
    from text2pixi.ops.cli import app
    from text2pixi.service.functions import get_service
    from text2pixi.service.store import Store
    from text2pixi.settings import Settings, get_settings
    from text2pixi.web.gateway import Gateway, GatewayConfig, create_app

    r, s3 = backends
    key = "export-cli-key-0123456789"
    for name, value in {"TEXT2PIXI_REDIS_URL": r.url, "TEXT2PIXI_S3_ENDPOINT_URL": s3.url, "TEXT2PIXI_API_KEY": key,
                        "TEXT2PIXI_S3_ACCESS_KEY": s3.access_key, "TEXT2PIXI_S3_SECRET_KEY": s3.secret_key,
                        "TEXT2PIXI_SECRETS_DIR": str(tmp_path / "no-secrets")}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    get_service.cache_clear()
    scene = moving_ball()
    job_id = uuid.uuid4().hex
    store = Store(Settings())
    store.ensure_buckets()
    document = ResultDocument(id=job_id, prompt="a red ball rolls right", kind="generate", parent=None, model="test",
                              scene=scene.model_dump(mode="json", exclude_defaults=True), scene_json=scene.to_json(),
                              js=render_module(scene), page_sha256=None, timings=Timings(), output_tokens=0,
                              worker="test", finished_at=utc_now(), error=None)
    store.put_result(job_id, document.as_dict(), None)
    index = import_template(monkeypatch)
    status = index.create_app(index.load_handler(ROOT / "functions" / "status"))
    try:
        with serve_wsgi(status) as status_url:
            proxy = Gateway(GatewayConfig(functions={"status": status_url}))
            try:
                with serve_wsgi(create_app(proxy)) as gateway_url:
                    result = CliRunner().invoke(app, ["export", job_id, "--png", "--at", "2", "--size", "x150",
                                                      "--gateway", gateway_url, "--api-key", key,
                                                      "--out", str(tmp_path)])
                    refused = CliRunner().invoke(app, ["export", job_id, "--png", "--gateway", gateway_url,
                                                       "--api-key", "wrong", "--out", str(tmp_path)])
            finally:
                proxy.close()
    finally:
        get_settings.cache_clear()
        get_service.cache_clear()
    assert result.exit_code == 0, result.stderr
    poster = tmp_path / f"{job_id}.png"
    assert result.stdout.startswith(f"{poster}\t") and "200x150, t = 2 s" in result.stdout
    assert Image.open(poster).convert("RGB").getpixel((175, 75)) == RED  # x = 700 of 800 at the end of the move
    assert refused.exit_code == 2 and refused.stderr.startswith("error: 401 unauthorized")


def test_every_format_renders_the_same_stage_size_by_default() -> None:
    scene = moving_ball()
    formats: tuple[ExportFormat, ...] = ("gif", "png")
    for fmt in formats:
        exported = render(scene, fmt, fps=2, duration=0.5)
        assert (exported.width, exported.height) == (800, 600)
