"""Warm RQ workers: the one place where the engine meets the queue and the store.

RQ jobs name their functions by dotted path (``text2pixi.worker.run_translation``); those paths are
stored in Redis with every queued job, so they stay importable from this package.
"""

from text2pixi.worker.worker import WarmWorker, main, run_prepare, run_translation, run_warmup

__all__ = ["WarmWorker", "main", "run_prepare", "run_translation", "run_warmup"]
