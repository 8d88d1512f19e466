"""What the engine answers: a validated scene, and how each call of the model went.

Plain records (pydantic), kept apart from :class:`~text2pixi.engine.translator.Engine` so that the
worker, the benchmarks and the tests can read a translation's figures without the model code.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from text2pixi.core.scene import Scene


class AttemptStats(BaseModel):
    """One call of the model (the first try or a re-ask)."""

    prompt_tokens: int
    cached_tokens: int
    output_tokens: int
    full_passes: int = Field(description="grammar rejections that needed a full-vocabulary pass")
    forced_tokens: int = Field(0, description="output tokens the schema forced, evaluated in batches (jump-forward)")
    sampled_tps: float = Field(0.0, description="rate of one-token decode steps (model call plus pick)")
    forced_tps: float | None = Field(None, description="rate of forced tokens beyond a one-token step's cost")
    ttft_s: float
    decode_s: float
    decode_tps: float
    finish_reason: str
    error: str | None = Field(None, description="why this attempt's scene was rejected, if it was")


class Translation(BaseModel):
    """A validated scene and how it was made.

    ``scene`` is always the compiled scene (what renders, exports and is checked), after the sanity fixes. A v2
    translation also carries its ``source``: the v2 scene the model wrote, or the patched base of a refinement.
    """

    scene: Scene
    scene_json: str
    model: str
    attempts: list[AttemptStats]
    prime_s: float = Field(description="time spent priming the system prefix in this call (0 when warm)")
    wall_s: float
    model_scene_json: str | None = Field(
        None, description="a refinement's scene as the model wrote it, when preservation changed it")
    reverted: list[str] = Field(default_factory=list,
                                description="paths a refinement set back to the base value (core.preserve)")
    fixes: list[str] = Field(default_factory=list,
                             description="sanity fixes applied to the model's scene, and problems left (core.sanity)")
    checkpoint: str | None = Field(
        None, description="a refinement's head (prefix + base scene): 'restored' from a KV checkpoint or "
        "'evaluated' in this call; None for fresh requests")
    language: Literal["v1", "v2"] = Field("v1", description="the scene language the model wrote")
    source: dict[str, Any] | None = Field(
        None, description="v2: the V2Scene as JSON (defaults left out, the language's aliases); scene is its "
        "compiled form")
    patch: dict[str, Any] | None = Field(None, description="a v2 refinement's patch as the model wrote it")
    source_changed: list[str] = Field(default_factory=list,
                                      description="paths of the source a v2 refinement's patch touched")

    @property
    def output_tokens(self) -> int:
        return sum(a.output_tokens for a in self.attempts)
