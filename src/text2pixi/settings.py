"""Every ``TEXT2PIXI_*`` environment variable, as a field of a pydantic-settings model.

:class:`Settings` is the engine's, the functions' and the workers'; :class:`GatewaySettings` the
gateway's (``TEXT2PIXI_GATEWAY_*``, plus the two variables it shares). The same names are used by
the CLI, the local stack and the deployment manifests, so a value set in ``stack.yml`` means the
same thing on a laptop, and a boolean is read by one rule (pydantic's) wherever it is read.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from ipaddress import IPv4Address
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, IPvAnyAddress, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "text2pixi"


def _default_threads() -> int:
    """All cores this process may use (respects CPU affinity, e.g. a container's cpuset)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - non-Linux
        return max(1, os.cpu_count() or 1)


class Settings(BaseSettings):
    """Every tunable of the engine, with its default and its reason."""

    model_config = SettingsConfigDict(env_prefix="TEXT2PIXI_", extra="ignore")

    model: str = Field(
        "qwen2.5-coder-1.5b-instruct-q4_k_m",
        description="registered model name or a path to a local .gguf file",
    )
    cache_dir: Path = Field(default_factory=_default_cache_dir, description="models, wheels, npm assets")
    n_threads: int = Field(default_factory=_default_threads, ge=1, description="llama.cpp compute threads")
    n_ctx: int = Field(4096, ge=512, le=32768, description="context window in tokens")
    n_batch: int = Field(512, ge=32, le=4096, description="prompt-processing batch size")
    seed: int = Field(42, description="sampling seed; with temperature 0 output is deterministic anyway")
    temperature: float = Field(0.0, ge=0.0, le=2.0, description="0 means greedy decoding")
    retry_temperature: float = Field(0.7, ge=0.0, le=2.0, description="temperature of re-asks after a failure")
    max_tokens: int = Field(768, ge=16, le=8192, description="output token budget per attempt")
    max_retries: int = Field(2, ge=0, le=5, description="re-asks after a validation failure")
    max_prompt_chars: int = Field(1000, ge=1, le=20000, description="longest accepted user prompt")
    decoder: str = Field(
        "fast",
        pattern="^(fast|sample-first|reference)$",
        description="fast: sample first + forced tokens (jump-forward); sample-first: without forced tokens; "
        "reference: full-vocabulary grammar mask at every step, as llama-cpp-python's own grammar path",
    )
    max_draft: int = Field(16, ge=1, le=64, description="most forced tokens evaluated in one batch")
    refine_checkpoints: int = Field(
        4, ge=0, le=64,
        description="KV states of refinement heads (prefix + base scene) kept per worker; 0 turns them off",
    )
    scene_language: Literal["v1", "v2"] = Field(
        "v2",
        description="the language the model writes: v2 (intent: anchors, layouts, nested steps, presets; compiled "
        "by core/v2) or v1 (the compiled scene itself: pixels and absolute timings; kept for comparison)",
    )
    backend: Literal["llama_cpp", "openai"] = Field(
        "llama_cpp",
        description="llama_cpp: generate in the worker's process (the engine); openai: send the same prompt, "
        "schema and re-asks to an OpenAI-compatible server (llama-server, vLLM, Ollama) at openai_base_url",
    )
    openai_base_url: str = Field("http://127.0.0.1:8000/v1", description="the OpenAI-compatible server's /v1 URL")
    openai_model: str | None = Field(None, description="model name the server knows (its served name); default: model")
    openai_api_key: str | None = Field(
        None, repr=False, description="bearer key for the server; else the secret file text2pixi-openai-api-key")
    openai_timeout: float = Field(
        60.0, gt=0, le=600, description="seconds one call to the server may take before the job is retried")
    pixi_js: Path | None = Field(
        None, description="path to pixi.js's IIFE build (pixi.min.js); default: the npm copy in cache_dir"
    )

    # --- the service: queue, storage, HTTP ---------------------------------------------------
    redis_url: str = Field("redis://127.0.0.1:6379/0", description="Redis for the RQ queue and job state")
    queue_name: str = Field("text2pixi", description="RQ queue the functions enqueue to and workers read")

    @property
    def prepare_queue_name(self) -> str:
        """The low-priority queue of 'prepare a refinement head' jobs that idle workers take."""
        return f"{self.queue_name}-prepare"

    max_queue_depth: int = Field(32, ge=1, description="queued jobs beyond which translate answers 429")
    job_timeout: int = Field(180, ge=10, description="seconds a job may run before RQ stops it")
    job_retries: int = Field(2, ge=0, le=10, description="re-runs of a job whose worker died or lost Redis, S3 or the "
                             "generation server (a timeout is not re-run)")
    result_ttl: int = Field(7 * 24 * 3600, ge=60, description="seconds job state is kept in Redis")
    max_wait: float = Field(60.0, ge=0, le=600, description="upper bound of translate's ?wait=SECONDS")
    events_max_streams: int = Field(
        16, ge=1, le=1000, description="open /status/ID/events streams one status process serves at once (each "
        "holds a server thread); beyond it 503 with Retry-After, and clients poll")
    events_max_seconds: float = Field(
        25.0, ge=5, description="longest one events stream stays open, then the client resumes with Last-Event-ID: "
        "below the status function's write_timeout and exec_timeout (30 s in stack.yml) and the proxies' limits")
    max_body_bytes: int = Field(16 * 1024, ge=1024, description="largest accepted request body")
    s3_endpoint_url: str | None = Field("http://127.0.0.1:8333", description="S3 endpoint (MinIO, SeaweedFS)")
    s3_region: str = Field("us-east-1", description="S3 region name")
    s3_access_key: str | None = Field(None, description="S3 access key; else the secret file")
    s3_secret_key: str | None = Field(None, description="S3 secret key; else the secret file")
    results_bucket: str = Field("results", description="bucket for results/<id>/...")
    models_bucket: str = Field("models", description="bucket that holds model files")
    model_source: str = Field("local", pattern="^(local|s3)$", description="where workers get the model file")
    api_key: str | None = Field(None, description="API key clients send as X-API-Key; else the secret file")
    secrets_dir: Path = Field(Path("/var/openfaas/secrets"), description="OpenFaaS secret files")
    cors_origins: str = Field(
        "https://*.vercel.app", description="comma-separated allowed origins; '*' wildcards one label"
    )
    callback_allow_private: bool = Field(False, description="allow X-Callback-Url to private/loopback hosts")
    callback_timeout: float = Field(5.0, gt=0, le=60, description="seconds for one callback POST")
    metrics_port: int = Field(0, ge=0, le=65535, description="worker's Prometheus port; 0 is off")
    metrics_host: IPvAnyAddress = Field(IPv4Address("127.0.0.1"), description="address the worker's metrics "
                                        "listen on: loopback here; 0.0.0.0 in a pod, for the cluster's Prometheus")
    heartbeat_interval: int = Field(5, ge=1, le=60, description="seconds between a busy worker's heartbeats")
    ready_file: Path = Field(Path("/tmp/text2pixi-worker.ready"), description="exists while a worker is warm")
    log_json: bool = Field(False, description="workers log one JSON object per line, for log collectors")

    def secret(self, name: str) -> str | None:
        """An OpenFaaS secret: ``/var/openfaas/secrets/<name>`` (stripped), or ``None`` if absent."""
        path = self.secrets_dir / name
        try:
            return path.read_text(encoding="utf-8").strip() or None
        except OSError:
            return None

    @property
    def resolved_redis_url(self) -> str:
        """An explicit TEXT2PIXI_REDIS_URL, else the secret ``text2pixi-redis-url`` (it holds the
        password in the cluster), else the default."""
        if "redis_url" in self.model_fields_set:
            return self.redis_url
        return self.secret("text2pixi-redis-url") or self.redis_url

    @property
    def resolved_api_key(self) -> str | None:
        return self.api_key or self.secret("text2pixi-api-key")

    @property
    def resolved_openai_api_key(self) -> str | None:
        return self.openai_api_key or self.secret("text2pixi-openai-api-key")

    @property
    def resolved_s3_credentials(self) -> tuple[str | None, str | None]:
        return (self.s3_access_key or self.secret("text2pixi-s3-access-key"),
                self.s3_secret_key or self.secret("text2pixi-s3-secret-key"))

    @property
    def models_dir(self) -> Path:
        return self.cache_dir / "models"

    @property
    def pixi_js_path(self) -> Path:
        return self.pixi_js or self.cache_dir / "npm" / "node_modules" / "pixi.js" / "dist" / "pixi.min.js"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()


# --- the gateway ---------------------------------------------------------------------------------

OPENFAAS_NAMESPACE = "openfaas-fn"
"""faas-netes' default function namespace; faas-cli appends it to names when a namespace is set."""
FUNCTION_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
"""Function names are DNS-1123 labels, as in faas-netes; so the first dot always starts the namespace."""


def parse_functions(spec: str) -> dict[str, str]:
    """Parse ``name=http://host:port,...`` (the ``TEXT2PIXI_GATEWAY_FUNCTIONS`` format) into name -> upstream URL."""
    table: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        name, sep, url = item.partition("=")
        name, url = name.strip(), url.strip().rstrip("/")
        if not sep or not FUNCTION_NAME.match(name):
            raise ValueError(f"bad function entry {item!r}: expected name=http://host:port with a lower-case name")
        if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
            raise ValueError(f"bad upstream URL for {name!r}: {url!r}")
        table[name] = url
    return table


class GatewaySettings(BaseSettings):
    """The gateway's settings: ``TEXT2PIXI_GATEWAY_<FIELD>``, plus ``TEXT2PIXI_CALLBACK_ALLOW_PRIVATE`` and
    ``TEXT2PIXI_PLAYGROUND``; an empty variable means the default. ``python -m text2pixi.web.server``'s
    flags override them (passed as keyword arguments)."""

    model_config = SettingsConfigDict(env_prefix="TEXT2PIXI_GATEWAY_", env_ignore_empty=True, extra="ignore",
                                      frozen=True, populate_by_name=True)

    functions: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict, description="the function table, name=http://host:port,..."
    )
    host: str = Field("127.0.0.1", description="address to listen on")
    port: int = Field(8080, ge=0, le=65535, description="port to listen on")
    threads: int = Field(16, ge=1, description="waitress threads; each synchronous call holds one while it runs")
    namespace: str = Field(OPENFAAS_NAMESPACE, description="the functions' namespace")
    timeout: float = Field(
        65.0, gt=0, description="upstream timeout in seconds: the Helm chart's gateway read/write timeout (1m05s), "
                                "long enough for ?wait= and warmup"
    )
    max_body: int = Field(1024 * 1024, ge=1, description="largest accepted request body")
    basic_auth: str | None = Field(None, repr=False, description="user:password that /system/* requires")
    async_workers: int = Field(4, ge=1, description="async calls run at once")
    async_queue: int = Field(
        100, ge=1, description="async calls accepted but not yet finished; beyond it callers get 429 (queue_full) "
                               "rather than an unbounded backlog"
    )
    callback_allow_private: bool = Field(
        False, validation_alias="TEXT2PIXI_CALLBACK_ALLOW_PRIVATE",
        description="as for the functions: async callbacks obey the same SSRF rules",
    )
    playground: str = Field(
        "auto", validation_alias="TEXT2PIXI_PLAYGROUND",
        description="the /ui/ playground: auto (only when listening on loopback), on or off",
    )

    @field_validator("functions", mode="before")
    @classmethod
    def _function_table(cls, value: Any) -> Any:
        return parse_functions(value) if isinstance(value, str) else value
