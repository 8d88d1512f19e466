"""The embedded local runtime: the production architecture on loopback, under supervisord.

``text2pixi stack up`` writes a supervisord configuration into a state directory and starts:
``redis-server`` (AOF on, fsync always, 127.0.0.1 only), SeaweedFS ``weed mini`` as the S3 server
(127.0.0.1 only, access keys required), N warm workers, the three functions through the OpenFaaS
template's own ``index.py``, and the OpenFaaS-compatible gateway. supervisord restarts whatever
dies (as Kubernetes would), keeps logs under ``<state>/logs``, and ``stack down`` stops it all.
Redis and S3 data live under the state directory, so they survive ``down`` and ``up``.

Secrets are files under ``<state>/secrets``, read through ``TEXT2PIXI_SECRETS_DIR`` exactly as the
functions read ``/var/openfaas/secrets`` in the cluster.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import redis
import requests
from pydantic import BaseModel, Field

from text2pixi import registry
from text2pixi.core.errors import ServiceUnavailable
from text2pixi.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
FUNCTIONS = ("translate", "status", "warmup")


class StackConfig(BaseModel):
    """Where the local stack lives and which loopback ports it uses."""

    state_dir: Path = Field(default_factory=lambda: ROOT / ".stack")
    gateway_port: int = 8080
    redis_port: int = 6390  # not 6379: a system redis there must not be mistaken for ours
    s3_port: int = 8333
    function_base_port: int = 5001
    weed_base_port: int = 19333  # master; volume, filer, admin are offsets from it
    workers: int = Field(2, ge=1, le=8)
    threads_per_worker: int | None = None
    model: str = registry.DEFAULT_MODEL
    model_via_s3: bool = True
    job_timeout: int = 180
    extra_env: dict[str, str] = Field(default_factory=dict)

    @property
    def threads(self) -> int:
        cores = len(os.sched_getaffinity(0))
        return self.threads_per_worker or max(1, cores // self.workers)

    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.gateway_port}"

    @property
    def conf_path(self) -> Path:
        return self.state_dir / "supervisord.conf"

    @property
    def secrets_dir(self) -> Path:
        return self.state_dir / "secrets"


def _secret(path: Path, length: int = 32) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(length))
        path.chmod(0o600)
    return path.read_text().strip()


def api_key(cfg: StackConfig) -> str:
    return _secret(cfg.secrets_dir / "text2pixi-api-key")


def binary(name: str) -> str:
    local = Path(sys.executable).parent / name
    found = str(local) if local.exists() else shutil.which(name)
    if not found:
        raise ServiceUnavailable(f"{name} is not installed (make setup installs it)")
    return found


def base_env(cfg: StackConfig) -> dict[str, str]:
    """TEXT2PIXI_* settings shared by functions and workers (the same names as in stack.yml)."""
    host_settings = Settings()
    env = {
        "TEXT2PIXI_REDIS_URL": f"redis://127.0.0.1:{cfg.redis_port}/0",
        "TEXT2PIXI_S3_ENDPOINT_URL": f"http://127.0.0.1:{cfg.s3_port}",
        "TEXT2PIXI_SECRETS_DIR": str(cfg.secrets_dir),
        "TEXT2PIXI_MODEL": cfg.model,
        "TEXT2PIXI_JOB_TIMEOUT": str(cfg.job_timeout),
        "TEXT2PIXI_CALLBACK_ALLOW_PRIVATE": "true",  # everything here is loopback
        "TEXT2PIXI_PIXI_JS": str(host_settings.pixi_js_path),
        "TEXT2PIXI_CORS_ORIGINS": "https://*.vercel.app,http://127.0.0.1:*,http://localhost:*",
        "PYTHONUNBUFFERED": "1",
    }
    env.update(cfg.extra_env)
    return env


def render_supervisor_conf(cfg: StackConfig) -> str:
    """The supervisord configuration for ``cfg`` (pure: no files touched)."""
    state, logs, run = cfg.state_dir, cfg.state_dir / "logs", cfg.state_dir / "run"
    python = sys.executable
    env = base_env(cfg)
    host_settings = Settings()

    def environment(extra: dict[str, str]) -> str:
        merged = {**env, **extra}
        return ",".join(f'{k}="{v}"' for k, v in sorted(merged.items()))

    def program(name: str, command: str, extra_env: dict[str, str] | None = None, *, priority: int,
                stopwait: int = 10, signal: str = "TERM") -> str:
        return (
            f"[program:{name}]\ncommand={command}\ndirectory={ROOT}\npriority={priority}\n"
            f"autostart=true\nautorestart=true\nstartsecs=1\nstartretries=100\nstopsignal={signal}\n"
            f"stopwaitsecs={stopwait}\nstopasgroup=true\nkillasgroup=true\n"
            f"stdout_logfile={logs / (name + '.log')}\nstdout_logfile_maxbytes=10MB\nredirect_stderr=true\n"
            f"environment={environment(extra_env or {})}\n"
        )

    w = cfg.weed_base_port
    sections = [
        f"[unix_http_server]\nfile={run / 'supervisor.sock'}\nchmod=0700\n",
        f"[supervisord]\nlogfile={logs / 'supervisord.log'}\npidfile={run / 'supervisord.pid'}\n"
        f"childlogdir={logs}\n",
        "[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n",
        f"[supervisorctl]\nserverurl=unix://{run / 'supervisor.sock'}\n",
        program("redis", f"{binary('redis-server')} --bind 127.0.0.1 --port {cfg.redis_port} --dir {state / 'redis'} "
                f"--appendonly yes --appendfsync always --save '' --protected-mode yes", priority=10),
        program("s3", f"{binary('weed')} mini -dir={state / 's3'} -ip=127.0.0.1 -ip.bind=127.0.0.1 "
                f"-master.port={w} -volume.port={w + 1} -filer.port={w + 2} -admin.port={w + 3} "
                f"-admin.ui=false -webdav=false -s3.port={cfg.s3_port} -s3.port.iceberg=0 "
                f"-s3.config={state / 's3.json'}", priority=10),
    ]
    for n in range(1, cfg.workers + 1):
        worker_env = {"TEXT2PIXI_N_THREADS": str(cfg.threads),
                      "TEXT2PIXI_READY_FILE": str(run / f"worker{n}.ready")}
        if cfg.model_via_s3 and not registry.is_path_like(cfg.model):
            worker_env.update({"TEXT2PIXI_MODEL_SOURCE": "s3", "TEXT2PIXI_CACHE_DIR": str(state / "worker-cache")})
        else:
            worker_env["TEXT2PIXI_CACHE_DIR"] = str(host_settings.cache_dir)
        sections.append(program(f"worker{n}", f"{python} -m text2pixi.worker --name worker{n} --wait-deps",
                                worker_env, priority=20, stopwait=cfg.job_timeout + 10))
    index = ROOT / "templates" / "python3-llama" / "index.py"
    for i, name in enumerate(FUNCTIONS):
        sections.append(program(name, f"{python} {index}", {
            "FUNCTION_DIR": str(ROOT / "functions" / name), "HOST": "127.0.0.1",
            "LOCK_FILE": str(run / f"{name}.lock"),
            "PORT": str(cfg.function_base_port + i), "WAITRESS_THREADS": "8"}, priority=30))
    table = ",".join(f"{name}=http://127.0.0.1:{cfg.function_base_port + i}" for i, name in enumerate(FUNCTIONS))
    sections.append(program("gateway", f"{python} -m text2pixi.web.server --host 127.0.0.1 --port {cfg.gateway_port} "
                            f"--functions {table}", priority=40))
    return "\n".join(sections)


def _write_files(cfg: StackConfig) -> None:
    for sub in ("logs", "run", "redis", "s3", "secrets", "worker-cache"):
        (cfg.state_dir / sub).mkdir(parents=True, exist_ok=True)
    api_key(cfg)
    access = _secret(cfg.secrets_dir / "text2pixi-s3-access-key", 12)
    secret = _secret(cfg.secrets_dir / "text2pixi-s3-secret-key", 24)
    (cfg.state_dir / "s3.json").write_text(json.dumps({"identities": [{
        "name": "text2pixi", "credentials": [{"accessKey": access, "secretKey": secret}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}))
    (cfg.state_dir / "s3.json").chmod(0o600)
    cfg.conf_path.write_text(render_supervisor_conf(cfg))


def _ctl(cfg: StackConfig, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    return subprocess.run([binary("supervisorctl"), "-c", str(cfg.conf_path), *args],
                          capture_output=True, text=True, check=check)


def is_running(cfg: StackConfig) -> bool:
    return cfg.conf_path.exists() and _ctl(cfg, "pid").returncode == 0


def service_settings(cfg: StackConfig) -> Settings:
    """Settings as the stack's own processes see them (for clients like tests and ``stack up``)."""
    env = base_env(cfg)
    return Settings(redis_url=env["TEXT2PIXI_REDIS_URL"], s3_endpoint_url=env["TEXT2PIXI_S3_ENDPOINT_URL"],
                    secrets_dir=cfg.secrets_dir, model=cfg.model)


def wait_until(what: str, probe: Callable[[], object], timeout: float) -> None:
    """Call ``probe`` until it returns something true (exceptions count as "not yet")."""
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if probe():
                return
        except Exception as exc:  # noqa: BLE001 - retried until the deadline
            last = exc
        time.sleep(0.1)
    raise ServiceUnavailable(f"{what} did not come up within {timeout:.0f}s ({last})")


def free_port(*, also_plus: int = 0) -> int:
    """A free TCP port on 127.0.0.1; with ``also_plus``, ``port + also_plus`` is free too (weed
    derives its gRPC ports by adding 10000)."""
    for _ in range(200):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if not also_plus:
            return port
        if port + also_plus > 65000:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port + also_plus))
                return port
            except OSError:
                continue
    raise ServiceUnavailable("no free loopback port")


WORKER_STAGES = (("worker warm:", "warm"), ("loaded ", "priming the prompt cache"))
"""Log lines of a starting worker (newest first) and what it does after each: worker/warm.py, engine/translator.py."""


def worker_stage(cfg: StackConfig, n: int, offset: int) -> str:
    """What worker ``n`` is doing, from its log after byte ``offset``: loading the model, priming, warm."""
    if (cfg.state_dir / "run" / f"worker{n}.ready").exists():
        return "warm"
    try:
        with (cfg.state_dir / "logs" / f"worker{n}.log").open("rb") as file:
            file.seek(offset)
            text = file.read().decode("utf-8", errors="replace")
    except OSError:
        return "starting"
    for marker, stage in WORKER_STAGES:
        if marker in text:
            return stage
    return "loading the model" if text else "starting"


def _log_sizes(cfg: StackConfig) -> dict[int, int]:
    sizes = {}
    for n in range(1, cfg.workers + 1):
        path = cfg.state_dir / "logs" / f"worker{n}.log"
        sizes[n] = path.stat().st_size if path.exists() else 0
    return sizes


def wait_for_workers(cfg: StackConfig, timeout: float, log: Callable[[str], None], offsets: dict[int, int],
                     *, every: float = 10.0) -> None:
    """Wait until every worker is warm, saying what each one does (as it changes, and every ``every`` s)."""
    t0 = time.monotonic()
    said: dict[int, str] = {}
    last_report = t0
    while True:
        stages = {n: worker_stage(cfg, n, offsets.get(n, 0)) for n in range(1, cfg.workers + 1)}
        elapsed = time.monotonic() - t0
        for n, stage in stages.items():
            if said.get(n) != stage:
                log(f"worker{n}: {stage} ({elapsed:.1f} s)")
                said[n] = stage
        if all(stage == "warm" for stage in stages.values()):
            return
        if time.monotonic() - last_report >= every:
            waiting = ", ".join(f"worker{n} {stage}" for n, stage in stages.items() if stage != "warm")
            log(f"still waiting: {waiting} ({elapsed:.0f} s)")
            last_report = time.monotonic()
        if elapsed > timeout:
            raise ServiceUnavailable(f"the workers were not warm within {timeout:.0f}s ({stages}); "
                                     f"see {cfg.state_dir / 'logs'}")
        time.sleep(0.2)


def up(cfg: StackConfig, *, timeout: float = 300.0, log=print) -> None:  # type: ignore[no-untyped-def]
    """Start everything and wait until the gateway answers and every worker is warm, saying what it waits for."""
    from text2pixi.service.store import Store

    t_up = time.monotonic()

    def waited(what: str, probe: Callable[[], object], seconds: float) -> None:
        log(f"waiting for {what} ...")
        t0 = time.monotonic()
        wait_until(what, probe, seconds)
        log(f"{what}: up after {time.monotonic() - t0:.1f} s")

    offsets = _log_sizes(cfg)
    _write_files(cfg)
    if is_running(cfg):
        _ctl(cfg, "update")
    else:
        subprocess.run([binary("supervisord"), "-c", str(cfg.conf_path)], check=True)
    settings = service_settings(cfg)
    waited(f"redis 127.0.0.1:{cfg.redis_port}",
           lambda: redis.Redis.from_url(settings.resolved_redis_url, socket_connect_timeout=1).ping(), 30)
    store = Store(settings)

    def buckets_ready() -> bool:
        store.ensure_buckets()
        return True

    waited(f"the S3 server 127.0.0.1:{cfg.s3_port}", buckets_ready, 60)
    if cfg.model_via_s3 and not registry.is_path_like(cfg.model):
        try:
            store.client.head_object(Bucket=settings.models_bucket, Key=registry.get_spec(cfg.model).filename)
        except Exception:  # noqa: BLE001 - absent: push it
            log(f"pushing {cfg.model} into s3://{settings.models_bucket}")
            store.push_model(cfg.model, registry.resolve(cfg.model, Settings().models_dir))
    waited(f"the gateway {cfg.gateway_url}", lambda: requests.get(cfg.gateway_url + "/healthz", timeout=1).ok, 60)
    log(f"waiting for {cfg.workers} worker(s) to load {cfg.model} and prime it ...")
    wait_for_workers(cfg, timeout, log, offsets)
    log(f"stack up after {time.monotonic() - t_up:.1f} s: gateway {cfg.gateway_url}, {cfg.workers} warm worker(s) x "
        f"{cfg.threads} thread(s), model {cfg.model}; API key in {cfg.secrets_dir / 'text2pixi-api-key'}")


def down(cfg: StackConfig) -> None:
    if is_running(cfg):
        _ctl(cfg, "shutdown")
        pid_file = cfg.state_dir / "run" / "supervisord.pid"
        deadline = time.monotonic() + cfg.job_timeout + 30
        while pid_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)


def status(cfg: StackConfig) -> str:
    if not cfg.conf_path.exists():
        return "not set up (run: text2pixi stack up)"
    result = _ctl(cfg, "status")
    return result.stdout.strip() or result.stderr.strip() or "not running"


def pid_of(cfg: StackConfig, program: str) -> int:
    out = _ctl(cfg, "pid", program).stdout.strip()
    return int(out) if out.isdigit() else 0
