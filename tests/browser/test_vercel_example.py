"""examples/vercel-nextjs: the TypeScript typechecks, and its route handlers, imported by Node's test runner
without a Next.js server, talk to a running local gateway (submit, poll, page, progress events, errors); the
events route also against a local stand-in server (streaming, Last-Event-ID, disconnect), in the fast tier."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from text2pixi.ops import localstack
from text2pixi.ops.localstack import StackConfig

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "vercel-nextjs"
HANDLERS = [EXAMPLE / "app" / "api" / "translate" / "route.ts",
            EXAMPLE / "app" / "api" / "status" / "[id]" / "route.ts",
            EXAMPLE / "app" / "api" / "status" / "[id]" / "events" / "route.ts", EXAMPLE / "lib" / "gateway.ts"]


def tool(name: str) -> str:
    path = EXAMPLE / "node_modules" / ".bin" / name
    if not path.exists():
        pytest.fail(f"{path} is missing: make setup-test runs npm ci in {EXAMPLE}")
    return str(path)


def test_typescript_typechecks() -> None:
    result = subprocess.run([tool("tsc"), "--noEmit", "-p", str(EXAMPLE)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_handlers_need_no_nextjs_at_runtime_and_no_key_in_the_client() -> None:
    for path in HANDLERS:
        code = path.read_text()
        assert not re.search(r'^import (?!type )[^;]*from "next', code, re.M), path
        assert re.search(r"export async function (POST|GET)\(request: Request", code) or path.name == "gateway.ts"
    page = (EXAMPLE / "app" / "page.tsx").read_text()
    assert "TEXT2PIXI_API_KEY" not in page and "X-API-Key" not in page and "OPENFAAS_URL" not in page


def test_events_route_streams_through_from_a_local_server() -> None:
    """test/events.test.ts: a real HTTP server on loopback plays the gateway; no stack, so it is in the fast tier."""
    node = shutil.which("node")
    assert node, "node is not installed (make setup installs nodejs)"
    tool("tsx")
    env = {k: v for k, v in os.environ.items() if k not in {"OPENFAAS_URL", "TEXT2PIXI_API_KEY"}}
    result = subprocess.run([node, "--import", "tsx", "--test", "test/events.test.ts"], cwd=EXAMPLE, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "# fail 0" in result.stdout and re.search(r"# pass [1-9]", result.stdout), result.stdout[-2000:]


@pytest.mark.model
@pytest.mark.stack
def test_route_handlers_against_the_local_gateway(small_stack: StackConfig) -> None:
    node = shutil.which("node")
    assert node, "node is not installed (make setup installs nodejs)"
    tool("tsx")
    env = {**os.environ, "OPENFAAS_URL": small_stack.gateway_url, "TEXT2PIXI_API_KEY": localstack.api_key(small_stack),
           "TEXT2PIXI_TEST_TIMEOUT_MS": "240000"}
    result = subprocess.run([node, "--import", "tsx", "--test", "test/handlers.test.ts"], cwd=EXAMPLE, env=env,
                            capture_output=True, text=True, timeout=420)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "# fail 0" in result.stdout and re.search(r"# pass [1-9]", result.stdout), result.stdout[-2000:]
