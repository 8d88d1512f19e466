"""The warm state of a worker process: the model loaded once, its prompt cache primed, the store open.

Jobs run in the worker process (``rq_worker.WarmWorker``) and find everything here. :class:`Warm` is one
process-wide object: the job functions look it up as ``text2pixi.worker.warm.Warm`` (``python -m
text2pixi.worker`` imports the package, so there is no second copy under ``__main__``).
"""

from __future__ import annotations

import logging
from typing import Any

from text2pixi import registry
from text2pixi.core.scene import Scene
from text2pixi.core.v2 import V2Scene
from text2pixi.engine import Translator, open_translator
from text2pixi.service import metrics
from text2pixi.service.pixi_bundle import load_pixi_js
from text2pixi.service.store import PageCompressor, Store
from text2pixi.settings import Settings

log = logging.getLogger(__name__)


class Warm:
    """The process-wide warm state a job function uses (set up once by :func:`setup`)."""

    engine: Translator | None = None
    store: Store | None = None
    settings: Settings | None = None
    pixi_js: str = ""
    pages: PageCompressor = PageCompressor("")
    prime_s: float = 0.0
    worker_name: str = ""
    last_scene: tuple[str, Scene, V2Scene | None] | None = None
    """The last job's (result id, compiled scene, v2 source or None): a refinement of it may follow."""

    @classmethod
    def ready(cls) -> tuple[Translator, Store, Settings]:
        """The engine, store and settings, or an error when jobs run outside a warm worker."""
        if cls.engine is None or cls.store is None or cls.settings is None:
            raise RuntimeError("worker is not warm: run jobs through `text2pixi worker`")
        return cls.engine, cls.store, cls.settings


def setup(settings: Settings) -> Translator:
    """Load the model (from S3 first when configured), prime the prompt cache, open the store.

    With ``TEXT2PIXI_BACKEND=openai`` nothing is loaded here: scenes come from the OpenAI-compatible server,
    and refinement checkpoints (llama.cpp KV states) are off, so no ``prepare`` jobs are queued for them.
    """
    store = Store(settings)
    if settings.backend == "openai":
        settings = settings.model_copy(update={"refine_checkpoints": 0})
    elif settings.model_source == "s3" and not registry.is_path_like(settings.model):
        store.pull_model(settings.model)
    engine = open_translator(settings)
    Warm.prime_s = engine.prime()
    Warm.engine, Warm.store, Warm.settings = engine, store, settings
    Warm.pixi_js = load_pixi_js(settings.pixi_js_path)
    Warm.pages = PageCompressor(Warm.pixi_js)
    metrics.MODEL_LOAD_SECONDS.set(engine.load_s)
    log.info("worker warm: %s loaded in %.1fs, prefix primed in %.1fs", engine.model_id, engine.load_s, Warm.prime_s)
    return engine


def run_warmup() -> dict[str, Any]:
    """The warm-up job: make sure the model is loaded and primed, and say how long that took."""
    engine = Warm.engine
    if engine is None:
        raise RuntimeError("worker is not warm")
    already = engine.primed
    prime_s = 0.0 if already else engine.prime()
    return {"ok": True, "worker": Warm.worker_name, "model": engine.model_id, "load_s": round(engine.load_s, 3),
            "prime_s": round(prime_s if not already else Warm.prime_s, 3), "already_warm": already,
            "prefix_tokens": engine.prefix_tokens, "n_threads": engine.settings.n_threads,
            "max_draft": engine.max_draft}
