"""Warm RQ workers: the one place where the engine meets the queue and the store.

One module per job: ``warm`` (the process's loaded model and store, and the warm-up job), ``variants``
(the scenes one job makes), ``translation`` (the translate job and its result documents),
``preparation`` (refinement heads got ready while idle), ``rq_worker`` (the RQ worker class, heartbeats,
registry clean-ups), ``liveness`` (the ``--check`` probe, waiting for Redis and S3) and ``cli`` (``main``).

RQ jobs name their functions by dotted path (``text2pixi.worker.run_translation``); those paths are
stored in Redis with every queued job, so they stay importable from this package.
"""

from text2pixi.worker.cli import main
from text2pixi.worker.preparation import run_prepare
from text2pixi.worker.rq_worker import WarmWorker
from text2pixi.worker.translation import run_translation
from text2pixi.worker.warm import run_warmup

__all__ = ["WarmWorker", "main", "run_prepare", "run_translation", "run_warmup"]
