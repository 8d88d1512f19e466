"""The response models of the re-ask loop, and how their validation context reaches them.

instructor renders every message as a Jinja template whenever ``create()`` is given ``context=`` (its
templating feature), so a sentence such as ``{{ 7*7 }}`` reached the model as ``49``. Our validators still need
a context (the stage-bounds rule of v1 replies, the sanity review), so :func:`validating_with` binds it in a
context variable and :func:`with_context` gives the response model a ``model_validate_json`` that reads it:
instructor is never given ``context=``, and every message reaches the model as written.

:class:`ReviewedV2Scene` is the v2 reply: a :class:`~text2pixi.core.v2.language.V2Scene` that must also compile
(a :class:`~text2pixi.core.errors.SceneCompileError` is re-asked with its message, like a schema error) and whose
compiled scene passes :func:`text2pixi.core.sanity.review` where the sentence speaks of a problem (as
:class:`~text2pixi.core.sanity.ReviewedScene` does for v1). :class:`ReviewedPatch` is a v2 refinement's reply:
a :class:`~text2pixi.core.v2.patch.Patch` that must apply to the base source (:data:`PATCHED` in the context)
and whose result must compile and pass the same review.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any, TypeVar, cast

from pydantic import BaseModel, ConfigDict, ModelWrapValidatorHandler, PrivateAttr, ValidationInfo, model_validator

from text2pixi.core.errors import SceneCompileError
from text2pixi.core.sanity import SanityContext, review
from text2pixi.core.scene import Scene
from text2pixi.core.v2 import V2Scene, compile_scene, v2_json_schema
from text2pixi.core.v2.keep import keep_base
from text2pixi.core.v2.patch import Patch, apply_patch, patch_json_schema
from text2pixi.core.v2.reading import read_with_sentence
from text2pixi.engine.grammar import language_schema

M = TypeVar("M", bound=BaseModel)

PATCHED = "patched"
"""Validation-context key of the base source a :class:`ReviewedPatch` applies to."""

_CONTEXT: ContextVar[dict[str, Any] | None] = ContextVar("text2pixi_validation_context", default=None)


@contextmanager
def validating_with(context: dict[str, Any] | None) -> Iterator[None]:
    """Within this block, replies validated by a :func:`with_context` model see ``context``."""
    token = _CONTEXT.set(context)
    try:
        yield
    finally:
        _CONTEXT.reset(token)


class _ContextFromVar(BaseModel):
    """Fills in the validation context from :func:`validating_with` when the caller (instructor) gives none."""

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, *, context: Any | None = None,
                            **kwargs: Any) -> Any:
        return super().model_validate_json(json_data, context=_CONTEXT.get() if context is None else context,
                                           **kwargs)


_BOUND: dict[type[BaseModel], type[BaseModel]] = {}


def with_context(model: type[M]) -> type[M]:
    """``model`` (same name, schema and validators) validating JSON with the context of :func:`validating_with`."""
    bound = _BOUND.get(model)
    if bound is None:
        attrs = {"__module__": model.__module__, "__doc__": model.__doc__}
        bound = _BOUND.setdefault(model, type(model.__name__, (_ContextFromVar, model), attrs))
    return cast("type[M]", bound)


def source_json(scene: V2Scene) -> dict[str, Any]:
    """A v2 scene as results carry it: JSON values, defaults left out, the language's own key names."""
    return scene.model_dump(mode="json", exclude_defaults=True, by_alias=True)


def compile_reviewed(scene: V2Scene, info: ValidationInfo) -> tuple[V2Scene, Scene, list[str]]:
    """The source, compiled scene and fixes of a v2 reply, or a ``ValueError`` the re-ask sends back: a compile
    error, or the sanity problems the sentence speaks of (except on the last attempt, whose scene is kept with
    them). The reply is first read with its sentence (:func:`~text2pixi.core.v2.reading.read_with_sentence`:
    slips the sentence makes plain, set right and listed in the fixes)."""
    ctx = (info.context or {}).get("sanity")
    fixes: list[str] = []
    if isinstance(ctx, SanityContext):
        scene, fixes = read_with_sentence(scene, ctx.prompt, fresh=ctx.base is None)
    try:
        compiled = compile_scene(scene)
    except SceneCompileError as exc:
        raise ValueError(str(exc)) from None
    if isinstance(ctx, SanityContext):
        found = review(compiled, ctx.prompt, ctx.base)
        if found.problems and not ctx.last_attempt():
            raise ValueError(found.message())
    return scene, compiled, fixes


class ReviewedV2Scene(V2Scene):
    """A v2 reply: valid in the language, compilable, and without the sanity problems the sentence speaks of.

    Its JSON schema (what the grammar and a remote server enforce) is the language's, in its key order."""

    model_config = ConfigDict(title="V2Scene")
    _result: tuple[V2Scene, Scene, list[str]] | None = PrivateAttr(default=None)

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return grammar_schema()

    @model_validator(mode="wrap")
    @classmethod
    def _compile(cls, value: Any, handler: ModelWrapValidatorHandler[ReviewedV2Scene],
                 info: ValidationInfo) -> ReviewedV2Scene:
        scene = handler(value)
        scene._result = compile_reviewed(scene, info)
        return scene

    def plain(self) -> tuple[V2Scene, Scene, list[str]]:
        """The reply as a plain :class:`V2Scene` (equal to one read back from JSON; settled, see
        :func:`compile_reviewed`), its compiled scene and the fixes made on the way."""
        assert self._result is not None, "validated replies are compiled"
        source, compiled, fixes = self._result
        if type(source) is not V2Scene:
            source = V2Scene.model_construct(source.model_fields_set, **dict(source))
        return source, compiled, fixes


class ReviewedPatch(Patch):
    """A v2 refinement's reply: a patch that applies to the base source, whose result compiles and passes review."""

    model_config = ConfigDict(title="Patch")
    _result: tuple[V2Scene, Scene, list[str]] | None = PrivateAttr(default=None)
    _reverted: list[str] = PrivateAttr(default_factory=list)

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return grammar_schema(patch=True)

    @model_validator(mode="wrap")
    @classmethod
    def _apply(cls, value: Any, handler: ModelWrapValidatorHandler[ReviewedPatch],
               info: ValidationInfo) -> ReviewedPatch:
        patch = handler(value)
        base = (info.context or {}).get(PATCHED)
        if not isinstance(base, V2Scene):
            return patch
        try:
            source = apply_patch(base, patch)
        except SceneCompileError as exc:
            raise ValueError(str(exc)) from None
        ctx = (info.context or {}).get("sanity")
        if isinstance(ctx, SanityContext):
            source, patch._reverted = keep_base(base, source, ctx.prompt)
        patch._result = compile_reviewed(source, info)
        return patch

    def plain(self) -> tuple[Patch, V2Scene, Scene, list[str]]:
        """The patch as a plain :class:`Patch`, the patched source (the keys the instruction does not touch kept
        at the base's values, :func:`~text2pixi.core.v2.keep.keep_base`), its compiled scene and the fixes made."""
        assert self._result is not None, "validated with a base source"
        return Patch.model_construct(self.model_fields_set, **dict(self)), *self._result

    @property
    def reverted(self) -> list[str]:
        """The source paths set back to the base's value."""
        return list(self._reverted)


@cache
def _grammar_schema(patch: bool) -> dict[str, Any]:
    return language_schema(patch_json_schema() if patch else v2_json_schema())


def grammar_schema(*, patch: bool = False) -> dict[str, Any]:
    """The schema the decoder enforces for a v2 scene (or a patch), keys in the language's order."""
    return copy.deepcopy(_grammar_schema(patch))
