"""The engine: llama.cpp in-process, grammar-constrained decoding, drafts and KV checkpoints.

An adapter over llama-cpp-python that depends only on :mod:`text2pixi.core` (plus the shared settings
and model registry); only :mod:`text2pixi.worker` and :mod:`text2pixi.ops` import it, so the functions
and the gateway never load a model library.
"""

from text2pixi.engine.translation import AttemptStats, Translation
from text2pixi.engine.translator import Engine

__all__ = ["AttemptStats", "Engine", "Translation"]
