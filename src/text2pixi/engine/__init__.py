"""The engine: llama.cpp in-process, grammar-constrained decoding, drafts and KV checkpoints; or a remote
OpenAI-compatible server behind the same :class:`Translator` interface (``TEXT2PIXI_BACKEND``).

An adapter over llama-cpp-python (and the OpenAI client) that depends only on :mod:`text2pixi.core` (plus the
shared settings and model registry); only :mod:`text2pixi.worker` and :mod:`text2pixi.ops` import it, so the
functions and the gateway never load a model library.
"""

from text2pixi.engine.backend import ProgressCallback, Translator
from text2pixi.engine.openai_backend import OpenAIBackend
from text2pixi.engine.translation import AttemptStats, Translation
from text2pixi.engine.translator import Engine
from text2pixi.settings import Settings


def open_translator(settings: Settings) -> Translator:
    """The backend ``settings.backend`` names: the in-process engine (loads the model now) or a remote server."""
    if settings.backend == "openai":
        return OpenAIBackend(settings)
    return Engine(settings)


__all__ = ["AttemptStats", "Engine", "OpenAIBackend", "ProgressCallback", "Translation", "Translator",
           "open_translator"]
