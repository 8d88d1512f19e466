"""The evaluation set: cases of ``eval/prompts.toml``, their checks on a scene, and one run's outcomes (IO-free).

A prompt file lists cases: a prompt, its difficulty, the capability it exercises (``category``, so a run
reports a pass rate per capability), its language and a list of expectations, each one of the check models
(selected by its ``check`` key; see :mod:`text2pixi.quality.checks_static`, ``checks_motion``, and the
timeline-based ``checks_space``, ``checks_time`` and ``checks_transform``). Nothing here reads files or runs
a model: ``eval/run.py`` does that and calls :func:`load_cases`, :func:`evaluate_case` and
:mod:`text2pixi.quality.report`.
"""

from __future__ import annotations

import tomllib
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from text2pixi.core.scene import Scene
from text2pixi.quality.check_base import CheckResult
from text2pixi.quality.checks_motion import FadeCheck, Motion, Order, Recolor, Rotation, ScaleCheck, Timing
from text2pixi.quality.checks_space import Displacement, Grid, Located, RelationAtTime, Ring, Varied
from text2pixi.quality.checks_static import Arrangement, Background, Color, Count, Position, Relation, TextCheck
from text2pixi.quality.checks_time import Interval, Loop, Oscillate, Sequence, Spin
from text2pixi.quality.checks_transform import AxisScale, Pivot, StartsHidden, Visible

DIFFICULTIES = ("easy", "medium", "hard")
CASE_CATEGORIES = ("shapes", "placement", "layout", "motion", "transform", "order", "preset", "text", "contrast",
                   "paraphrase", "multilingual")
"""What a case's prompt exercises; the issue's target is a pass rate of at least 90 % in each."""

Check = Annotated[
    Count | Color | Background | Position | Arrangement | Relation | Motion | Rotation | FadeCheck | ScaleCheck
    | Recolor | TextCheck | Timing | Order | Displacement | Located | RelationAtTime | Grid | Ring | Varied
    | Sequence | Loop | Interval | Oscillate | Spin | Pivot | AxisScale | Visible | StartsHidden,
    Field(discriminator="check"),
]


class Case(BaseModel):
    """One prompt of the evaluation set and what its scene must satisfy."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    prompt: str = Field(min_length=1)
    difficulty: Literal["easy", "medium", "hard"]  # see DIFFICULTIES
    category: Literal["shapes", "placement", "layout", "motion", "transform", "order", "preset", "text", "contrast",
                      "paraphrase", "multilingual"]  # see CASE_CATEGORIES
    lang: str = Field("en", pattern=r"^[a-z]{2}$", description="ISO 639-1 language of the prompt")
    expect: list[Check] = Field(min_length=1)


class CaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case: list[Case] = Field(min_length=1)


def load_cases(toml_text: str) -> list[Case]:
    """Parse and validate a prompt file's text (``[[case]]`` tables); ids must be unique."""
    cases = CaseFile.model_validate(tomllib.loads(toml_text)).case
    ids = [c.id for c in cases]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise ValueError(f"repeated case ids: {', '.join(dupes)}")
    return cases


def evaluate_case(case: Case, scene: Scene | None) -> list[CheckResult]:
    """Every expectation of ``case`` against ``scene``; with no valid scene, every check fails."""
    if scene is None:
        return [c.result(False, "no valid scene") for c in case.expect]
    return [c.evaluate(scene) for c in case.expect]


class Outcome(BaseModel):
    """What one prompt produced in one run: validity, cost and the checks."""

    id: str
    prompt: str
    difficulty: str
    category: str = ""
    valid: bool
    error: str | None = None
    error_message: str | None = Field(None, description="why no valid scene came out (the last rejection)")
    attempts: int = 0
    output_tokens: int = 0
    wall_s: float = 0.0
    checks: list[CheckResult] = Field(default_factory=list)
    scene: dict[str, Any] | None = None
    source: dict[str, Any] | None = Field(None, description="the v2 source the model wrote (None in v1)")

    @property
    def retries(self) -> int:
        return max(0, self.attempts - 1)

    @property
    def passed(self) -> int:
        return sum(c.passed for c in self.checks)
