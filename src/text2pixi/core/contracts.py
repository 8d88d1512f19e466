"""What crosses the service's boundaries, defined once: requests, the job view, ids and result documents.

IO-free pydantic models shared by every layer that speaks them: the functions validate requests with
them and answer with :class:`JobView`, the queue carries a :class:`TranslateRequest` as the job's
payload, the worker and the edit function build a :class:`ResultDocument` (the JSON object stored in S3
and returned as a job's ``result``), and the OpenAPI description derives its schemas from them. The id
pattern lives here too: every job id, and so every result id (variants and hand edits take ids of the
same form), is checked against :data:`JOB_ID` and nothing else.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

JOB_ID_PATTERN = r"^[0-9a-f]{32}$"
"""A job's or a result's id: 32 lowercase hex digits (a uuid4's hex, or a variant's derived id)."""
JOB_ID = re.compile(JOB_ID_PATTERN)
MAX_VARIANTS = 4
MAX_NOTE_CHARS = 200

ResultKind = Literal["generate", "refine", "edit"]


class JobStatus(StrEnum):
    QUEUED = "queued"
    STARTED = "started"
    FINISHED = "finished"
    FAILED = "failed"


class TranslateOptions(BaseModel):
    """Per-request knobs; anything else in ``options`` is rejected as unknown."""

    model_config = ConfigDict(extra="forbid")

    max_tokens: int | None = Field(None, ge=16, le=2048, description="output token budget per attempt")
    temperature: float | None = Field(None, ge=0.0, le=1.5, description="0 is greedy")
    seed: int | None = Field(None, ge=0, le=2**31 - 1)


class TranslateRequest(BaseModel):
    """A description to animate, or with ``base`` an instruction that changes a previous result."""

    model_config = ConfigDict(extra="forbid")

    prompt: str
    options: TranslateOptions = Field(default_factory=TranslateOptions)
    base: str | None = Field(None, pattern=JOB_ID_PATTERN,
                             description="id of a finished result to refine; the prompt is then the change")
    variants: int = Field(1, ge=1, le=MAX_VARIANTS,
                          description="distinct scenes for this prompt (the first greedy, the rest sampled)")

    @property
    def kind(self) -> ResultKind:
        """What its results record as their ``kind``."""
        return "refine" if self.base else "generate"


class EditRequest(BaseModel):
    """``POST /function/translate/edit``: a scene edited by hand, stored as a new version of ``base``.

    Exactly one of ``scene`` (a compiled or v1 scene, what a result's ``scene`` holds) and ``source`` (a v2
    scene, what a v2 result's ``source`` holds; it is compiled) is given, so a client posts back the field it
    edited. The scene goes through the same schema and semantic checks as a model's scene; nothing about
    it is trusted, and an invalid one is a 400 ``invalid_scene`` that stores nothing.
    """

    model_config = ConfigDict(extra="forbid")

    base: str = Field(pattern=JOB_ID_PATTERN, description="the finished result this edit changes")
    scene: dict[str, Any] | None = Field(None, description="the whole edited scene in the compiled (v1) schema; "
                                         "give this or source")
    source: dict[str, Any] | None = Field(None, description="the whole edited scene in the v2 language "
                                          "(docs/scene-v2.md), compiled and stored as a v2 result; give this or scene")
    note: str | None = Field(None, max_length=MAX_NOTE_CHARS, description="what was changed, for the history")


class JobView(BaseModel):
    """What ``status`` answers for one job."""

    id: str
    status: JobStatus
    created_at: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    queue_position: int | None = None
    attempts: int = 0
    result: dict[str, Any] | None = Field(None, description="a finished job's result document (the ResultDocument "
                                          "schema): the compiled scene, and a v2 result's source")
    error: dict[str, Any] | None = None


class Timings(BaseModel):
    """Where a generated result's time went (an edit's are empty); see :class:`ResultDocument` for the rule."""

    model_config = ConfigDict(extra="forbid")

    wall_s: float = 0.0
    prime_s: float = 0.0
    checkpoint: str | None = Field(None, description="a refinement's head: 'restored' or 'evaluated'")
    attempts: list[dict[str, Any]] = Field(default_factory=list, description="the engine's stats per model call")
    render_s: float = Field(0.0, description="rendering all of a job's scenes (its first result only)")


class VariantSummary(BaseModel):
    """One scene of a job with variants, as its first result lists them under ``variants``."""

    model_config = ConfigDict(extra="forbid")

    id: str
    variant: int
    scene: dict[str, Any]
    scene_json: str
    js: str
    page_sha256: str | None
    output_tokens: int
    source: dict[str, Any] | None = Field(None, description="a v2 variant's source; left out for v1")


class ResultDocument(BaseModel):
    """One result (a generated, refined or hand-edited scene, or a job's failure), as stored and served.

    A field is written when its builder sets it, even to ``null``, and left out otherwise: a failed job's
    document has no scene, an edit has no engine figures, only refinements and edits list ``changed``, and
    only a job with variants names them. The fields without a default are in every document. Fields are
    written in the order declared here, so the stored JSON stays byte-stable for the same content.

    ``scene`` is always the compiled scene (what renders, exports and is checked). A v2 result also
    carries ``source``, the v2 scene the model wrote (or the patched one, or the one edited by hand), and
    a v2 refinement its ``patch`` and ``source_changed``. Documents stored before v2 have none of these
    keys and read as ``language`` "v1": a refinement of one converts its scene (``core.v2.from_v1``).
    """

    model_config = ConfigDict(extra="forbid")

    id: str
    prompt: str
    kind: ResultKind
    parent: str | None = Field(description="the result this one refines or edits")
    model: str | None = Field(description="the model that wrote the scene; null for a hand edit")
    language: Literal["v1", "v2"] = Field("v1", description="the language the scene was written in; v2 "
                                          "results carry their source")
    scene: dict[str, Any] = Field(default_factory=dict, description="the compiled scene, without default values")
    source: dict[str, Any] | None = Field(None, description="a v2 result's v2 scene, without default values")
    patch: dict[str, Any] | None = Field(None, description="a v2 refinement's patch as the model wrote it")
    source_changed: list[str] = Field(default_factory=list, description="paths of the source a v2 patch touched")
    scene_json: str = ""
    js: str = Field("", description="the ES module rendering the scene")
    page_sha256: str | None = Field(None, description="sha256 of the standalone page; null when none was stored")
    timings: Timings = Field(default_factory=Timings)
    output_tokens: int = 0
    reverted: list[str] = Field(default_factory=list, description="paths a refinement set back to the base value")
    model_scene_json: str | None = Field(None, description="a refinement's scene as the model wrote it")
    fixes: list[str] = Field(default_factory=list, description="sanity fixes applied to the model's scene "
                             "(invisible objects, no-op animations), and problems the re-asks left; only when any")
    worker: str | None
    finished_at: str
    error: dict[str, Any] | None = Field(description="a failed job's error body; null for a scene")
    changed: list[str] = Field(default_factory=list, description="paths that differ from the parent's scene")
    variant: int = Field(1, description="which of the job's scenes this is (1..variants)")
    variant_of: str = Field("", description="the job whose variant this is")
    variants_requested: int = 1
    variants: list[VariantSummary] = Field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """The JSON object to store and serve: the fields a builder set, in declaration order."""
        return self.model_dump(exclude_unset=True)

    def summary(self) -> VariantSummary:
        """This result as an entry of its job's ``variants`` list."""
        summary = VariantSummary(id=self.id, variant=self.variant, scene=self.scene, scene_json=self.scene_json,
                                 js=self.js, page_sha256=self.page_sha256, output_tokens=self.output_tokens)
        if self.source is not None:
            summary.source = self.source
        return summary


def utc_now() -> str:
    """A result's ``finished_at``: ISO 8601 in UTC."""
    return datetime.now(UTC).isoformat()
