"""Shared fixtures: real models (no mocks), loaded once per session.

Tests marked ``model`` use SmolLM2 (fast, weak); tests marked ``slow`` use the default Qwen model
and run when ``TEXT2PIXI_SLOW=1`` (``make test`` and CI set it). A model that is not fetched is an
error, not a skip: ``make test`` fetches both.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.backends import RedisServer, S3Server, running_backends
from text2pixi import registry
from text2pixi.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("TEXT2PIXI_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="needs the default model; set TEXT2PIXI_SLOW=1 (make test does)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def _settings(model: str) -> Settings:
    # The engine suites were written for v1 generation (still available); v2's are tests/integration/test_engine_v2.py.
    settings = Settings(model=model, n_threads=2, max_retries=1, scene_language="v1")
    try:
        registry.resolve(model, settings.models_dir)
    except Exception as exc:  # noqa: BLE001 - turned into a clear test error
        pytest.fail(f"{exc} (make setup-test fetches the test models)")
    return settings


@pytest.fixture(scope="module")
def backends(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RedisServer, S3Server]]:
    """A real redis-server and S3 server per test module (a module may stop and restart them)."""
    with running_backends(tmp_path_factory.mktemp("backends")) as servers:
        yield servers


@pytest.fixture(scope="session")
def small_settings() -> Settings:
    return _settings(registry.SMALL_MODEL)


@pytest.fixture(scope="session")
def small_engine(small_settings: Settings):
    from text2pixi.engine import Engine

    return Engine(small_settings)


@pytest.fixture(scope="session")
def qwen_engine():
    from text2pixi.engine import Engine

    engine = Engine(_settings(registry.DEFAULT_MODEL))
    engine.prime()
    return engine


@pytest.fixture(scope="session")
def pixi_js() -> str:
    from text2pixi.service.pixi_bundle import load_pixi_js

    return load_pixi_js(Settings().pixi_js_path)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's chromium driven by Playwright (its own browser download cannot work offline).

    Module-scoped, and every page is closed after its test: a page left open keeps animating in
    software WebGL and would eat the CPU that later tests (and their timeouts) count on.
    """
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        pytest.fail("chromium is not installed (make setup-test installs it)")
    with sync_playwright() as pw:
        b = pw.chromium.launch(
            executable_path=executable,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                  "--disable-sync", "--no-first-run", "--use-angle=swiftshader", "--enable-unsafe-swiftshader"],
        )
        yield b
        b.close()


@pytest.fixture(scope="module")
def api(stack):  # type: ignore[no-untyped-def]
    """An HTTP session with the API key of the module's ``stack`` (a running local stack's config)."""
    import requests

    from text2pixi.ops import localstack

    session = requests.Session()
    session.headers["X-API-Key"] = localstack.api_key(stack)
    return session


@pytest.fixture(scope="session")
def small_stack(tmp_path_factory: pytest.TempPathFactory, small_settings: Settings) -> Iterator[object]:
    """One small local stack (1 warm SmolLM2 worker) shared by the playground and Next.js example tests:
    starting one costs 20-60 s of the shared CPU, so they do not each start their own."""
    from tests.stacks import running_small_stack

    with running_small_stack(tmp_path_factory.mktemp("small-stack")) as cfg:
        yield cfg
