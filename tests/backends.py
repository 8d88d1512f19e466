"""Real backends for tests: redis-server and SeaweedFS's S3, on loopback, in temporary directories."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import redis
from botocore.config import Config

from text2pixi.ops import localstack
from text2pixi.ops.localstack import binary, free_port


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
        if not self.port:
            self.port = free_port(also_plus=10000)
        ports = [free_port(also_plus=10000) for _ in range(4)]
        self.process = subprocess.Popen(
            [binary("weed"), "mini", f"-dir={self.directory / 'data'}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
             f"-master.port={ports[0]}", f"-volume.port={ports[1]}", f"-filer.port={ports[2]}",
             f"-admin.port={ports[3]}", "-admin.ui=false", "-webdav=false", f"-s3.port={self.port}",
             "-s3.port.iceberg=0", f"-s3.config={config}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=self.directory, start_new_session=True)
        wait_until(lambda: self.client().list_buckets() is not None, 60, "weed S3")
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
