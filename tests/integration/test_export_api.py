"""``GET /function/status/ID/{lottie,gif,mp4,webm,png}`` on the real status function, Redis and S3, without a model.

A finished result is stored the way a worker stores one (a result document in S3, no Redis job left: the
stored document is then the record), and the real renderer (:func:`text2pixi.service.export.render`) makes
every file. The answers are read as a client reads them: status, headers, and the bytes decoded (Pillow for
GIF and PNG, ffprobe-free checks of the MP4/WebM containers, JSON for Lottie); the cache is checked in S3
itself. The scene is small and short so that each render takes a fraction of a second.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from PIL import Image
from werkzeug.test import TestResponse

from tests.backends import RedisServer, S3Server, import_template, serve_wsgi
from tests.conftest import ROOT
from text2pixi.core.codegen import render_module
from text2pixi.core.contracts import ResultDocument, Timings, utc_now
from text2pixi.core.scene import Scene
from text2pixi.service import downloads, export
from text2pixi.service.functions import get_service
from text2pixi.service.store import Store
from text2pixi.settings import Settings, get_settings
from text2pixi.web import openapi, playground
from text2pixi.web.gateway import Gateway, GatewayConfig, create_app

KEY = "export-api-key-0123456789"
QUEUE = "export-api"
SCENE = {"w": 160, "h": 120, "bg": "black",
         "objects": [{"type": "circle", "id": "ball", "x": 40, "y": 60, "r": 20, "color": "red"},
                     {"type": "rect", "id": "box", "x": 120, "y": 60, "w": 30, "h": 30, "color": "#3080ff"}],
         "anims": [{"type": "move", "target": "ball", "x": 120, "y": 60, "dur": 1},
                   {"type": "rotate", "target": "box", "by": 180, "dur": 1}]}
"""Two shapes that move for one second: every frame differs from the one before (no frame is merged)."""
LOOPING = {**SCENE, "anims": [{"type": "rotate", "target": "box", "by": 360, "dur": 0.5, "repeat": -1}]}
SMALL = "fps=10"
"""Options that keep every render quick: 10 frames of the 160×120 stage."""
QUERIES = {"lottie": SMALL, "gif": SMALL, "mp4": SMALL, "webm": SMALL, "png": "t=0.5"}
MAGIC = {"gif": (0, b"GIF89a"), "png": (0, b"\x89PNG\r\n\x1a\n"), "mp4": (4, b"ftyp"), "webm": (0, b"\x1a\x45\xdf\xa3"),
         "lottie": (0, b"{")}
EXTENSIONS = {"lottie": "json", "gif": "gif", "mp4": "mp4", "webm": "webm", "png": "png"}


@dataclass
class Backends:
    status: FlaskClient
    translate: FlaskClient
    apps: dict[str, Flask]
    store: Store
    s3: S3Server
    redis: redis.Redis
    bucket: str

    def export_keys(self, result_id: str) -> list[str]:
        listing = self.s3.client().list_objects_v2(Bucket=self.bucket, Prefix=f"{result_id}/export/")
        return sorted(o["Key"] for o in listing.get("Contents", []))


def _reset_cached_settings() -> None:
    get_settings.cache_clear()
    get_service.cache_clear()


@pytest.fixture(scope="module")
def service(backends: tuple[RedisServer, S3Server], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backends]:
    """The status and translate functions as the python3-llama template serves them, on a real Redis and S3."""
    r, s3 = backends
    env = {"TEXT2PIXI_REDIS_URL": r.url, "TEXT2PIXI_S3_ENDPOINT_URL": s3.url, "TEXT2PIXI_S3_ACCESS_KEY": s3.access_key,
           "TEXT2PIXI_S3_SECRET_KEY": s3.secret_key, "TEXT2PIXI_API_KEY": KEY, "TEXT2PIXI_QUEUE_NAME": QUEUE,
           "TEXT2PIXI_SECRETS_DIR": str(tmp_path_factory.mktemp("no-secrets"))}
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        _reset_cached_settings()
        settings = Settings()
        store = Store(settings)
        store.ensure_buckets()
        index = import_template(mp)
        apps = {name: index.create_app(index.load_handler(ROOT / "functions" / name))
                for name in ("status", "translate")}
        try:
            yield Backends(apps["status"].test_client(), apps["translate"].test_client(), apps, store, s3,
                           redis.Redis.from_url(r.url), settings.results_bucket)
        finally:
            _reset_cached_settings()


def stored_result(service: Backends, scene: dict[str, Any] = SCENE) -> str:
    """A finished result in S3, as the worker writes one (document only: status serves exports from its scene)."""
    result_id = uuid.uuid4().hex
    parsed = Scene.model_validate(scene)
    document = ResultDocument(id=result_id, prompt="a red ball and a blue box", kind="generate", parent=None,
                              model="test", scene=parsed.model_dump(mode="json", exclude_defaults=True),
                              scene_json=parsed.to_json(), js=render_module(parsed), page_sha256=None,
                              timings=Timings(), output_tokens=0, worker="test", finished_at=utc_now(), error=None)
    service.store.put_result(result_id, document.as_dict(), None)
    return result_id


@pytest.fixture
def result_id(service: Backends) -> str:
    return stored_result(service)


def get(client: FlaskClient, path: str, **headers: str) -> TestResponse:
    return client.get(path, headers={"X-API-Key": KEY, **headers})


def assert_error(response: TestResponse, status: int, code: str) -> str:
    assert response.status_code == status, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["error"] == code and body["message"], body
    return str(body["message"])


# --- each format ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", downloads.EXPORT_FORMATS)
def test_each_format_is_a_download_with_its_type_name_cache_headers_and_etag(service: Backends, result_id: str,
                                                                            fmt: str) -> None:
    answer = get(service.status, f"/{result_id}/{fmt}?{QUERIES[fmt]}")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    data = answer.get_data()
    offset, magic = MAGIC[fmt]
    assert data[offset:offset + len(magic)] == magic, data[:16]
    media = next(iter(openapi.document()["paths"][f"/function/status/{{id}}/{fmt}"]["get"]["responses"]["200"]
                      ["content"]))
    assert answer.headers["Content-Type"] == media == export.MEDIA[fmt][0]
    assert answer.headers["Content-Disposition"] == f'attachment; filename="text2pixi-{result_id}.{EXTENSIONS[fmt]}"'
    assert answer.headers["Cache-Control"] == f"private, max-age={downloads.CACHE_MAX_AGE}"
    etag = answer.headers["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and len(etag) > 20, etag
    assert answer.headers["X-Export-Cache"] == "miss"
    assert int(answer.headers["Content-Length"]) == len(data)
    assert "Content-Disposition" in answer.headers["Access-Control-Expose-Headers"]  # readable by a CORS page
    if fmt == "lottie":
        document = json.loads(data)
        assert (document["w"], document["h"], document["fr"]) == (160, 120, 10)
        assert document["op"] - document["ip"] == 10 and document["layers"]


def test_a_gif_has_the_size_frames_and_duration_asked_for(service: Backends, result_id: str) -> None:
    """0.8 s of the 1 s move at 15 fps: 12 frames, each different (Pillow merges equal neighbours)."""
    answer = get(service.status, f"/{result_id}/gif?fps=15&size=120x90&duration=0.8")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    with Image.open(io.BytesIO(answer.get_data())) as gif:
        assert gif.format == "GIF" and gif.size == (120, 90)
        assert gif.n_frames == 12
        delays = []
        for k in range(gif.n_frames):
            gif.seek(k)
            delays.append(gif.info["duration"])
    assert sum(delays) == 800, delays
    assert (answer.headers["X-Export-Frames"], answer.headers["X-Export-Size"]) == ("12", "120x90")
    assert float(answer.headers["X-Export-Duration"]) == pytest.approx(0.8)


def test_a_png_poster_is_the_frame_at_t(service: Backends, result_id: str) -> None:
    """At t=0 the ball is at x=40, at t=1 at x=120 (its move ends there): the red pixels say where it is."""
    def red_centre(t: float) -> float:
        answer = get(service.status, f"/{result_id}/png?t={t}&size=320x240")
        assert answer.status_code == 200, answer.get_data(as_text=True)
        with Image.open(io.BytesIO(answer.get_data())) as png:
            assert png.size == (320, 240)
            pixels = png.convert("RGB").load()
            xs = [x for x in range(320) for y in range(0, 240, 4) if pixels[x, y][0] > 200 and pixels[x, y][1] < 80]
        assert xs
        return sum(xs) / len(xs)

    assert red_centre(0) == pytest.approx(80, abs=3)  # stage x 40, drawn at twice the size
    assert red_centre(1) == pytest.approx(240, abs=3)


def test_a_scene_that_loops_forever_exports_one_cycle_without_a_duration(service: Backends) -> None:
    looping = stored_result(service, LOOPING)
    answer = get(service.status, f"/{looping}/gif?fps=10")
    assert answer.status_code == 200, answer.get_data(as_text=True)
    assert answer.headers["X-Export-Frames"] == "5"  # one 0.5 s turn at 10 fps
    with Image.open(io.BytesIO(answer.get_data())) as gif:
        assert gif.info.get("loop") == 0  # plays forever, as the scene does


def test_without_a_size_a_long_export_is_scaled_down_to_the_budget(service: Backends, result_id: str) -> None:
    """The stage's own size, unless its frames would pass the format's budget: then smaller, aspect kept."""
    scene = Scene.model_validate({**SCENE, "w": 1600, "h": 1200})
    resolved = downloads.resolve(downloads.ExportOptions("gif", 30, None, 6.0), scene)
    assert resolved.size[0] * resolved.size[1] * resolved.frames <= downloads.FRAME_BUDGET["gif"]
    assert resolved.size[0] / resolved.size[1] == pytest.approx(4 / 3, rel=0.02)
    assert downloads.resolve(downloads.ExportOptions("gif"), Scene.model_validate(SCENE)).size == (160, 120)


# --- the cache ------------------------------------------------------------------------------------------------------


def test_an_export_is_made_once_then_served_from_s3(service: Backends, result_id: str) -> None:
    first = get(service.status, f"/{result_id}/gif?fps=10")
    assert first.status_code == 200 and first.headers["X-Export-Cache"] == "miss"
    keys = service.export_keys(result_id)
    assert len(keys) == 1 and keys[0].endswith(".gif"), keys
    stored = service.s3.client().get_object(Bucket=service.bucket, Key=keys[0])
    assert stored["ContentType"] == "image/gif"
    assert stored["Body"].read() == first.get_data()

    again = get(service.status, f"/{result_id}/gif?fps=10")
    assert again.status_code == 200 and again.headers["X-Export-Cache"] == "hit"
    assert again.get_data() == first.get_data() and again.headers["ETag"] == first.headers["ETag"]
    # The same export spelled out (the stage's size, the scene's duration) is the same object.
    spelled = get(service.status, f"/{result_id}/gif?fps=10&size=160x120&duration=1")
    assert spelled.headers["X-Export-Cache"] == "hit" and spelled.get_data() == first.get_data()
    assert service.export_keys(result_id) == keys

    unchanged = get(service.status, f"/{result_id}/gif?fps=10", **{"If-None-Match": first.headers["ETag"]})
    assert unchanged.status_code == 304 and unchanged.get_data() == b""
    assert unchanged.headers["ETag"] == first.headers["ETag"]

    other = get(service.status, f"/{result_id}/gif?fps=5")
    assert other.headers["X-Export-Cache"] == "miss" and other.get_data() != first.get_data()
    assert len(service.export_keys(result_id)) == 2


def test_an_export_in_the_making_holds_the_slot_and_a_second_one_gets_429(service: Backends, result_id: str,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """One render at a time per process; what is already in S3 is served meanwhile."""
    made = get(service.status, f"/{result_id}/png")
    assert made.status_code == 200
    monkeypatch.setattr(downloads, "RENDER_WAIT_S", 0.05)
    assert downloads._slot.acquire(timeout=5)  # another request's render, as far as this process can tell
    try:
        busy = get(service.status, f"/{result_id}/gif?fps=10")
        assert_error(busy, 429, "queue_full")
        assert busy.headers["Retry-After"] == str(downloads.RETRY_AFTER_S)
        cached = get(service.status, f"/{result_id}/png")
        assert cached.status_code == 200 and cached.headers["X-Export-Cache"] == "hit"
    finally:
        downloads._slot.release()


# --- errors ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "words"), [
    ("gif?fps=0", "fps must be a whole number from 1 to 50"),
    ("gif?fps=51", "from 1 to 50 for gif"),
    ("mp4?fps=61", "from 1 to 60 for mp4"),
    ("gif?fps=12.5", "fps must be a whole number"),
    ("gif?size=800", "size must be WIDTHxHEIGHT"),
    ("gif?size=axb", "size must be WIDTHxHEIGHT"),
    ("png?size=8x8", "each side must be 16 to 1920"),
    ("webm?size=4000x100", "each side must be 16 to 1920"),
    ("gif?duration=0", "duration must be more than 0"),
    ("gif?duration=61", "at most 60 seconds"),
    ("gif?duration=nan", "duration must be a finite number"),
    ("mp4?duration=soon", "duration must be a number"),
    ("png?t=-1", "t must be from 0 to 60"),
    ("gif?t=1", "'t' is not an option of the gif export; it takes fps, size, duration"),
    ("lottie?size=100x100", "'size' is not an option of the lottie export"),
    ("png?fps=10", "'fps' is not an option of the png export"),
    ("gif?id=" + "0" * 32, "'id' is not an option"),
    ("gif?size=1920x1080&fps=30&duration=10", "is 300 frames, 622.1 million pixels; the limit is "
                                              f"{downloads.FRAME_BUDGET['gif'] / 1e6:.1f} million: lower size, fps or "
                                              "duration"),
])
def test_bad_options_are_precise_400s_and_make_nothing(service: Backends, result_id: str, path: str,
                                                      words: str) -> None:
    message = assert_error(get(service.status, f"/{result_id}/{path}"), 400, "invalid_export")
    assert words in message, message
    assert service.export_keys(result_id) == []


def test_unknown_malformed_unfinished_and_failed_jobs_are_404(service: Backends) -> None:
    assert "no job with id" in assert_error(get(service.status, f"/{uuid.uuid4().hex}/gif"), 404, "not_found")
    assert_error(get(service.status, "/not-a-job/gif"), 404, "not_found")
    accepted = service.translate.post("/", data="a red ball", headers={"X-API-Key": KEY})
    assert accepted.status_code == 202, accepted.get_data(as_text=True)
    queued = accepted.get_json()["id"]
    try:
        message = assert_error(get(service.status, f"/{queued}/png"), 404, "not_found")
        assert message == f"job {queued} has no scene to export (status queued)"
    finally:
        service.redis.flushdb()
    failed = uuid.uuid4().hex
    document = ResultDocument(id=failed, prompt="x", kind="generate", parent=None, model="test", worker="test",
                              finished_at=utc_now(), error={"error": "generation_failed", "message": "no"})
    service.store.put_result(failed, document.as_dict(), None)
    assert "(status failed)" in assert_error(get(service.status, f"/{failed}/gif"), 404, "not_found")


@pytest.mark.parametrize("fmt", downloads.EXPORT_FORMATS)
@pytest.mark.parametrize("headers", [{}, {"X-API-Key": "wrong"}, {"X-API-Key": KEY[:-1]}], ids=["none", "wrong",
                                                                                               "shorter"])
def test_every_export_needs_the_api_key(service: Backends, result_id: str, fmt: str,
                                        headers: dict[str, str]) -> None:
    assert_error(service.status.get(f"/{result_id}/{fmt}", headers=headers), 401, "unauthorized")
    assert service.export_keys(result_id) == []


# --- through the gateway and the playground's proxy -------------------------------------------------------------------


def playground_gateway(service: Backends, stack: ExitStack) -> Flask:
    """The gateway (with the playground installed, local-only) in front of the functions on loopback ports."""
    urls = {name: stack.enter_context(serve_wsgi(app)) for name, app in service.apps.items()}
    proxy = Gateway(GatewayConfig(functions=urls))
    stack.callback(proxy.close)
    app = create_app(proxy)
    assert playground.install(app, proxy, bind_host="127.0.0.1", mode="auto", settings=Settings(api_key=KEY))
    return app


@pytest.fixture(scope="module")
def gateway(service: Backends) -> Iterator[FlaskClient]:
    """:func:`playground_gateway` through Flask's test client."""
    with ExitStack() as stack:
        yield playground_gateway(service, stack).test_client()


@pytest.mark.parametrize("fmt", ["gif", "mp4"])
def test_the_gateway_and_the_playground_pass_the_bytes_through_unchanged(gateway: FlaskClient, service: Backends,
                                                                         result_id: str, fmt: str) -> None:
    direct = get(service.status, f"/{result_id}/{fmt}?fps=10")
    assert direct.status_code == 200
    through = get(gateway, f"/function/status/{result_id}/{fmt}?fps=10")
    assert through.status_code == 200 and through.get_data() == direct.get_data()
    for name in ("Content-Type", "Content-Disposition", "ETag", "Cache-Control"):
        assert through.headers[name] == direct.headers[name], name
    ui = gateway.get(f"/ui/api/status/{result_id}/{fmt}?fps=10", headers={"Sec-Fetch-Site": "same-origin"})
    assert ui.status_code == 200 and ui.get_data() == direct.get_data()
    assert ui.headers["Content-Type"] == direct.headers["Content-Type"]
    assert ui.headers["Content-Disposition"] == direct.headers["Content-Disposition"]
    assert "X-API-Key" not in ui.headers
    assert_error(gateway.get(f"/ui/api/status/{result_id}/{fmt}?fps=0"), 400, "invalid_export")


# --- the description ------------------------------------------------------------------------------------------------


def test_openapi_documents_each_export_with_its_options() -> None:
    paths = openapi.document()["paths"]
    for fmt in downloads.EXPORT_FORMATS:
        operation = paths[f"/function/status/{{id}}/{fmt}"]["get"]
        assert operation["security"] == openapi.KEY
        assert [p["name"] for p in operation["parameters"] if p["in"] == "query"] == list(downloads.OPTIONS[fmt])
        assert {"200", "304", "400", "401", "404", "429", "503"} <= set(operation["responses"])


def test_the_api_limits_are_the_renderers() -> None:
    """The endpoint refuses before any work what the renderer would refuse after loading the scene."""
    assert (downloads.MIN_FPS, downloads.MAX_FPS, downloads.MAX_GIF_FPS) == (export.MIN_FPS, export.MAX_FPS,
                                                                       export.MAX_GIF_FPS)
    assert (downloads.MIN_SIDE, downloads.MAX_SIDE, downloads.MAX_DURATION) == (export.MIN_SIDE, export.MAX_SIDE,
                                                                          export.MAX_SECONDS)
    assert {fmt: ext for fmt, (_, ext) in export.MEDIA.items()} == downloads.EXTENSIONS
