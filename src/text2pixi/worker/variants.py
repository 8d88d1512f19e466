"""The variant policy: the scenes one job makes, the first as asked and the others distinct and sampled."""

from __future__ import annotations

import logging

from text2pixi.core.contracts import TranslateRequest
from text2pixi.core.errors import GenerationError
from text2pixi.core.scene import Scene
from text2pixi.core.v2 import V2Scene
from text2pixi.engine import ProgressCallback, Translation, Translator
from text2pixi.settings import Settings

log = logging.getLogger(__name__)

VARIANT_TEMPERATURE = 0.8
"""Sampling temperature of variants 2..N (at least): the first is the greedy scene, the others explore."""
VARIANT_SEED_STRIDE = 7919
"""Seeds of variant k are ``seed + k * stride (+ retry)``: far apart, and reproducible from the request."""
VARIANT_EXTRA_TRIES = 2
"""Further generations for one variant whose scene repeats an earlier one (distinct = different scene JSON)."""


def generate(engine: Translator, request: TranslateRequest, base: Scene | None, settings: Settings,
             job_id: str, progress: ProgressCallback | None = None, *,
             base_source: V2Scene | None = None) -> list[Translation]:
    """The job's scenes: the first as asked (an error here fails the job), then distinct variants.

    ``progress`` follows the first scene (the job's own result, the one clients draw as it comes). A
    refinement passes ``base`` (the compiled scene) and, when the base is a v2 result, ``base_source``.

    Variant k (2..N) is sampled at :data:`VARIANT_TEMPERATURE` or more with its own seed; a variant whose
    scene JSON repeats an earlier one is generated again, up to :data:`VARIANT_EXTRA_TRIES` times, and a
    variant the model cannot produce is left out (the document says how many were asked for).
    """
    options = request.options
    first = engine.translate(request.prompt, max_tokens=options.max_tokens, temperature=options.temperature,
                             seed=options.seed, base=base, base_source=base_source, progress=progress)
    scenes, seen = [first], {first.scene_json}
    seed0 = settings.seed if options.seed is None else options.seed
    for k in range(2, request.variants + 1):
        for extra in range(1 + VARIANT_EXTRA_TRIES):
            seed = (seed0 + k * VARIANT_SEED_STRIDE + extra) % 2**31
            try:
                result = engine.translate(request.prompt, max_tokens=options.max_tokens, seed=seed, base=base,
                                          base_source=base_source,
                                          temperature=max(options.temperature or 0.0, VARIANT_TEMPERATURE))
            except GenerationError as exc:
                log.info("job %s: variant %d (seed %d) failed: %s", job_id, k, seed, exc)
                continue
            if result.scene_json not in seen:
                seen.add(result.scene_json)
                scenes.append(result)
                break
            log.info("job %s: variant %d (seed %d) repeats an earlier scene", job_id, k, seed)
    return scenes
