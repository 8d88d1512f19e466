"""What every quality check is: a frozen model that judges one scene and says why it failed (IO-free).

The concrete checks (:mod:`text2pixi.quality.checks_static`, :mod:`text2pixi.quality.checks_motion`)
each state a label, a category and a test; most select their objects with the fields of a
:class:`~text2pixi.quality.selectors.Selector` and a quantifier (``all`` or ``any`` of them).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from text2pixi.core.scene import Scene, SceneObject
from text2pixi.quality.selectors import Family, Kinds, NoMatch, Selector

CATEGORIES = ("count", "color", "position", "size", "motion", "rotation", "effect", "text", "timing", "layout",
              "transform", "visibility")
"""What a check is about (a check's own category; a case's category is what its prompt exercises)."""


class CheckResult(BaseModel):
    """One expectation on one scene: whether it held, and why not."""

    check: str = Field(description="a short label, e.g. 'count circle=1'")
    category: str
    type: str = Field("", description="the check's type, e.g. 'count' or 'relation'")
    passed: bool
    detail: str = ""


class BaseCheck(BaseModel):
    """A check: ``_test`` says whether the scene satisfies it, and what it found instead."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    CATEGORY: ClassVar[str] = ""

    @property
    def category(self) -> str:
        return self.CATEGORY

    def label(self) -> str:
        raise NotImplementedError

    def evaluate(self, scene: Scene) -> CheckResult:
        try:
            ok, detail = self._test(scene)
        except NoMatch as exc:
            ok, detail = False, str(exc)
        return self.result(ok, "" if ok else detail)

    def result(self, passed: bool, detail: str = "") -> CheckResult:
        """This check's result, labelled; a check that cannot run (no valid scene) fails with a reason."""
        return CheckResult(check=self.label(), category=self.category, type=self.check_type, passed=passed,
                           detail=detail)

    @property
    def check_type(self) -> str:
        return str(getattr(self, "check", ""))

    def _test(self, scene: Scene) -> tuple[bool, str]:
        raise NotImplementedError


class SelectingCheck(BaseCheck):
    """A check about the objects its ``kind``/``color``/``text`` select, under a quantifier."""

    kind: Kinds = None
    color: Family | None = None
    text: str | None = None
    quantifier: Literal["all", "any"] = "all"

    @property
    def selector(self) -> Selector:
        return Selector(kind=self.kind, color=self.color, text=self.text)

    def _each(self, scene: Scene, test: Callable[[SceneObject], tuple[bool, str]]) -> tuple[bool, str]:
        """Apply ``test(obj) -> (ok, detail)`` to the selected objects under the quantifier."""
        results = [test(o) for o in self.selector.select_some(scene)]
        ok = all(r[0] for r in results) if self.quantifier == "all" else any(r[0] for r in results)
        return ok, "; ".join(r[1] for r in results if not r[0])
