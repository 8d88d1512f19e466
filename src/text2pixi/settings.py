"""One settings object, read from ``TEXT2PIXI_*`` environment variables.

The same names are used by the CLI, the local stack and the deployment manifests, so a value set
in ``stack.yml`` means the same thing on a laptop.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


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
    pixi_js: Path | None = Field(
        None, description="path to pixi.js's IIFE build (pixi.min.js); default: the npm copy in cache_dir"
    )

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
