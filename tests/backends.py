"""Real backends for tests: redis-server, SeaweedFS's S3 and llama.cpp's llama-server, on loopback, in temporary
directories; and the in-process ways to serve our Flask apps (the function template, any WSGI app on a loopback
port)."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

import boto3
import pytest
import redis
from botocore.config import Config
from werkzeug.serving import make_server

from text2pixi import registry
from text2pixi.ops import localstack
from text2pixi.ops.localstack import binary, free_port
from text2pixi.settings import Settings

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_INDEX = ROOT / "templates" / "python3-llama" / "index.py"
BENCH = ROOT / "bench"


def wait_until(probe, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    localstack.wait_until(what, probe, timeout)


@dataclass
class RedisServer:
    directory: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [binary("redis-server"), "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.directory),
             "--appendonly", "yes", "--appendfsync", "always", "--save", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: redis.Redis.from_url(self.url).ping(), 15, "redis-server")
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=15)

    def restart(self) -> None:
        self.stop()
        self.start()


@dataclass
class S3Server:
    directory: Path
    access_key: str = "testaccess"
    secret_key: str = "testsecret-0123456789"
    port: int = 0
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self):  # type: ignore[no-untyped-def]
        return boto3.client("s3", endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
                            config=Config(s3={"addressing_style": "path"}))

    def start(self) -> S3Server:
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "s3.json"
        config.write_text(json.dumps({"identities": [{"name": "test", "credentials": [
            {"accessKey": self.access_key, "secretKey": self.secret_key}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
        fixed_port = self.port
        for tries_left in range(2, -1, -1):
            # Free ports are picked, not reserved: another process may take one before weed binds it, and then
            # weed exits. Start again on new ports rather than wait out the deadline on a dead process.
            self.port = fixed_port or free_port(also_plus=10000)
            ports = [free_port(also_plus=10000) for _ in range(4)]
            self.process = subprocess.Popen(
                [binary("weed"), "mini", f"-dir={self.directory / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
                 f"-master.port={ports[0]}", f"-volume.port={ports[1]}", f"-filer.port={ports[2]}",
                 f"-admin.port={ports[3]}", "-admin.ui=false", "-webdav=false", f"-s3.port={self.port}",
                 "-s3.port.iceberg=0", f"-s3.config={config}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.directory, start_new_session=True)
            deadline, last = time.monotonic() + 90, ""
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    self.client().list_buckets()
                    return self
                except Exception as exc:  # noqa: BLE001 - not up yet
                    last = str(exc)
                time.sleep(0.1)
            if self.process.poll() is None or not tries_left:
                self.stop()
                raise RuntimeError(f"weed S3 did not come up (exit code {self.process.returncode}; {last})")
        raise AssertionError("unreachable")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def load_bench(name: str) -> ModuleType:
    """``bench/<name>.py`` as a module, with bench/ on sys.path as when it runs as a script (it imports siblings)."""
    if str(BENCH) not in sys.path:
        sys.path.append(str(BENCH))
    module_name = f"bench_{name}"
    if module_name in sys.modules:
        return sys.modules[module_name]
    spec = importlib.util.spec_from_file_location(module_name, BENCH / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class LlamaServer:
    """llama.cpp's llama-server on a free loopback port: the peer benchmark's (bench/peer.py), built from the
    llama.cpp that llama-cpp-python vendors (scripts/build-llama-server.sh, cached) and started the way it starts it."""

    directory: Path
    model: str = registry.SMALL_MODEL
    threads: int = 1  # one: on a shared 2-core host, two spinning llama.cpp threads slow each other ten-fold
    n_ctx: int = 4096
    server: Any = None

    @property
    def port(self) -> int:
        return int(self.server.port)

    @property
    def url(self) -> str:
        """The OpenAI-compatible base URL (``TEXT2PIXI_OPENAI_BASE_URL``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LlamaServer:
        peer = load_bench("peer")
        built = sorted((Settings().cache_dir / "llama-server").glob("*/bin/llama-server"))
        if not built and not shutil.which("cmake"):
            pytest.skip("llama-server not built (scripts/build-llama-server.sh) and no cmake to build it")
        self.directory.mkdir(parents=True, exist_ok=True)
        model_path = registry.resolve(self.model, Settings().models_dir)
        self.server = peer.LlamaServer(peer.llama_bin_dir(), model_path, self.threads, self.n_ctx, 768,
                                       self.directory / "llama-server.log")
        self.server.start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


@contextmanager
def running_backends(directory: Path) -> Iterator[tuple[RedisServer, S3Server]]:
    """A redis-server and an S3 server under ``directory``, stopped (S3 first) on the way out."""
    r = RedisServer(directory / "redis").start()
    try:
        s3 = S3Server(directory / "s3").start()
        try:
            yield r, s3
        finally:
            s3.stop()
    finally:
        r.stop()


def service_settings(base: Settings, r: RedisServer, s3: S3Server, secrets: Path, api_key: str,
                     **update: Any) -> Settings:
    """``base`` pointed at these backends, with the API key and S3 keys as secret files in ``secrets``
    (as the cluster mounts them); ``update`` sets the test's own fields."""
    (secrets / "text2pixi-api-key").write_text(api_key + "\n")
    (secrets / "text2pixi-s3-access-key").write_text(s3.access_key)
    (secrets / "text2pixi-s3-secret-key").write_text(s3.secret_key)
    return base.model_copy(update={"redis_url": r.url, "s3_endpoint_url": s3.url, "secrets_dir": secrets,
                                   "ready_file": secrets / "ready", **update})


def import_template(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The python3-llama template's index.py, imported by path as a fresh module.

    It reads its environment (``MAX_BODY_BYTES``, ``FUNCTION_DIR``) at import, so set those first;
    ``monkeypatch`` undoes the sys.path/sys.modules entries that it and its ``load_handler`` add.
    """
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.delitem(sys.modules, "handler", raising=False)
    spec = importlib.util.spec_from_file_location("python3_llama_index", TEMPLATE_INDEX)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@contextmanager
def serve_wsgi(app: WSGIApplication) -> Iterator[str]:
    """Serve ``app`` on a free loopback port from a thread in this process; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
