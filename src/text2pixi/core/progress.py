"""Progress events of a job, and what a scene document being written already says (pure code).

A worker publishes these events while the model writes a scene; ``GET /function/status/ID/events``
sends them as Server-Sent Events (``id: <stream id>``, ``event: <type>``, ``data: <one-line JSON>``).
The types and their data are the pydantic models below (:data:`EVENT_MODELS`).

:class:`SceneTracker` follows one attempt's text as it grows and says which objects became complete:
an object counts once the text has the ``,`` or ``]`` after it (before that, ``{"type":"circle","r":1``
may still become ``r:12``) and it validates on its own as a v1 scene object. A v2 reply (``items``) is followed
the same way, item by item: once the complete items compile on their own (one placed relative to an item not yet
written waits for it), their compiled objects are reported, so a row of copies appears as soon as its item
closes. Their places are provisional (items without a place are spread over the items written so far); the
finished scene replaces them. Values are read with
pydantic_core's partial JSON parser; the completeness comes from a small scanner that reads each new
character once, so following a document costs O(its length) in all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field, TypeAdapter, ValidationError
from pydantic_core import from_json

from text2pixi.core.errors import InvalidScene
from text2pixi.core.scene import MAX_STAGE_SIDE, MIN_STAGE_SIDE, Color, Scene, SceneObject
from text2pixi.core.v2.compiler import compile_scene
from text2pixi.core.v2.language import V2Scene
from text2pixi.core.v2.refs import dangling

EventType = Literal["queued", "started", "attempt", "tokens", "object", "stage", "reask", "finished", "failed"]
TERMINAL: frozenset[str] = frozenset({"finished", "failed"})
"""Event types after which the server ends the stream."""


class Queued(BaseModel):
    """Sent by the endpoint (not stored) while the job waits: its place in the queue, 0 = next."""

    position: int


class Started(BaseModel):
    worker: str
    expected_tokens: int = Field(description="an estimate of this attempt's output tokens, for a progress bar")


class AttemptStarted(BaseModel):
    attempt: int = Field(description="1 for the first call of the model; re-asks count up")


class Tokens(BaseModel):
    attempt: int
    tokens: int
    expected_tokens: int
    elapsed_s: float = Field(description="seconds since the worker started the job")


class ObjectDone(BaseModel):
    attempt: int
    index: int = Field(description="the object's place in the scene's objects list")
    object: dict[str, Any]


class Stage(BaseModel):
    w: int = Field(ge=MIN_STAGE_SIDE, le=MAX_STAGE_SIDE)
    h: int = Field(ge=MIN_STAGE_SIDE, le=MAX_STAGE_SIDE)
    bg: Color


class Reask(BaseModel):
    attempt: int = Field(description="the attempt that starts now, asked again because the previous one failed")
    reason: str


class Finished(BaseModel):
    id: str
    status: Literal["finished"] = "finished"


class Failed(BaseModel):
    id: str
    status: Literal["failed"] = "failed"
    error: dict[str, Any]


EVENT_MODELS: dict[str, type[BaseModel]] = {
    "queued": Queued, "started": Started, "attempt": AttemptStarted, "tokens": Tokens, "object": ObjectDone,
    "stage": Stage, "reask": Reask, "finished": Finished, "failed": Failed,
}


@dataclass(frozen=True)
class Event:
    """One event: its type and its data as one line of JSON; ``id`` is the Redis stream id once stored."""

    type: str
    data: str
    id: str | None = None

    @classmethod
    def of(cls, model: BaseModel) -> Event:
        kind = next(name for name, cls_ in EVENT_MODELS.items() if isinstance(model, cls_))
        return cls(kind, model.model_dump_json())

    def payload(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.data)
        return data

    def sse(self) -> str:
        """The Server-Sent Events message (``data`` is one line: JSON escapes every newline)."""
        head = f"id: {self.id}\n" if self.id else ""
        return f"{head}event: {self.type}\ndata: {self.data}\n\n"


def parse_sse(lines: Iterable[str]) -> Iterator[Event]:
    """Events from the lines of a Server-Sent Events stream (comments and retry fields skipped).

    Follows the WHATWG rules a client needs here: fields up to a blank line, one optional space after
    the colon, several ``data`` lines joined by newlines; a message without data dispatches nothing.
    """
    kind, event_id = "message", None
    data: list[str] = []
    for raw in lines:
        line = raw.rstrip("\r\n")
        if not line:
            if data:
                yield Event(kind, "\n".join(data), event_id)
            kind, data, event_id = "message", [], None
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name == "event":
            kind = value
        elif name == "data":
            data.append(value)
        elif name == "id" and "\x00" not in value:
            event_id = value


OUTSIDE, OPEN, INSIDE, CLOSE = range(4)
"""What :meth:`JsonStrings.step` says of a character: outside any string (structure, numbers, words, space),
the quote that opens a string, string content (escapes included), the quote that closes it."""


class JsonStrings:
    """Which characters of a JSON text being written are inside strings, one character at a time.

    The one string-and-escape reader of the scanners that follow a reply as it grows (:class:`SceneTracker`
    here, the engine's repetition guard): a ``"`` ends a string unless a backslash escapes it.
    """

    __slots__ = ("_escaped", "_in_string")

    def __init__(self) -> None:
        self._in_string = False
        self._escaped = False

    def step(self, ch: str) -> int:
        """Read the next character ``ch``: :data:`OUTSIDE`, :data:`OPEN`, :data:`INSIDE` or :data:`CLOSE`."""
        if not self._in_string:
            if ch == '"':
                self._in_string = True
                return OPEN
            return OUTSIDE
        if self._escaped:
            self._escaped = False
        elif ch == "\\":
            self._escaped = True
        elif ch == '"':
            self._in_string = False
            return CLOSE
        return INSIDE


_OBJECT = TypeAdapter(SceneObject)
_STAGE_KEYS = ("w", "h", "bg")
_LISTS = ("objects", "items")
"""The top-level list whose elements are followed: v1's objects, v2's items."""


def _v2_objects(parsed: dict[str, Any], complete: int) -> list[dict[str, Any]]:
    """The compiled objects of the first ``complete`` items of a v2 reply; none while they do not compile alone."""
    stage = {k: parsed[k] for k in ("bg", "w", "h") if k in parsed}
    try:
        partial = V2Scene.model_validate({**stage, "items": parsed["items"][:complete]})
        if dangling(partial):
            return []
        scene = compile_scene(partial)
    except (ValidationError, InvalidScene):
        return []
    return [o.model_dump(mode="json", exclude_defaults=True) for o in scene.objects]


@dataclass
class Found:
    """What one :meth:`SceneTracker.feed` call learnt: objects newly complete and the stage once known."""

    objects: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    stage: Stage | None = None


class SceneTracker:
    """Follows one attempt's scene JSON as it is written (the text only ever grows)."""

    def __init__(self) -> None:
        self._pos = 0
        self._stack: list[str] = []
        self._strings = JsonStrings()
        self._key: list[str] | None = None  # characters of the top-level key being read
        self._top_key = ""  # the top-level key whose value is being read
        self._expect_key = False
        self._element_closed = False  # an object of the objects list closed; its separator comes next
        self._complete = 0  # objects (v2: items) followed by "," or "]"
        self._emitted = 0  # objects reported
        self._seen = 0  # elements of the list already looked at
        self._done_keys: set[str] = set()  # top-level keys whose value ended ("," or "}" after it)
        self._closed = False  # the top-level object closed
        self._stage_sent = False

    @property
    def complete_objects(self) -> int:
        return self._complete

    def feed(self, text: str) -> Found:
        """Read what ``text`` adds to the last call's text; return the objects (and the stage) it completes."""
        if len(text) < self._pos:  # not a continuation: start over, without repeating what was reported
            emitted, stage_sent = self._emitted, self._stage_sent
            self.__init__()  # type: ignore[misc]
            self._emitted, self._stage_sent = emitted, stage_sent
        before = (self._complete, len(self._done_keys), self._closed, self._top_key)
        self._scan(text)
        found = Found()
        if (self._complete, len(self._done_keys), self._closed, self._top_key) == before:
            return found
        wants_stage = not self._stage_sent and self._stage_known()
        if self._complete <= self._seen and not wants_stage:
            return found
        parsed = from_json(text, allow_partial=True)
        if not isinstance(parsed, dict):
            return found
        v2 = isinstance(parsed.get("items"), list)
        if v2 and self._complete > self._seen:
            compiled = _v2_objects(parsed, self._complete)
            found.objects += list(enumerate(compiled))[self._emitted:]
            self._emitted = max(self._emitted, len(compiled))
        elif not v2:
            objects = parsed.get("objects")
            objects = objects if isinstance(objects, list) else []
            for index in range(self._emitted, min(self._complete, len(objects))):
                try:
                    obj = _OBJECT.validate_python(objects[index])
                except ValidationError:
                    continue  # wrong on its own: the whole scene will fail and be re-asked
                found.objects.append((index, _OBJECT.dump_python(obj, mode="json", exclude_defaults=True)))
            self._emitted = max(self._emitted, self._complete)
        self._seen = max(self._seen, self._complete)
        if wants_stage:
            self._stage_sent = True
            model = V2Scene if v2 or self._top_key == "items" else Scene
            values = {key: parsed[key] if key in parsed else model.model_fields[key].default for key in _STAGE_KEYS}
            try:
                found.stage = Stage.model_validate(values)
            except ValidationError:
                found.stage = None
        return found

    def _stage_known(self) -> bool:
        """w, h and bg each ended, or the document went past them (v1's ``anims`` or v2's ``items`` started, or
        it closed)."""
        return self._closed or self._top_key in ("anims", "items") or all(k in self._done_keys for k in _STAGE_KEYS)

    def _scan(self, text: str) -> None:
        stack, strings = self._stack, self._strings
        for ch in text[self._pos:]:
            kind = strings.step(ch)
            if kind == INSIDE:
                if self._key is not None:
                    self._key.append(ch)
                continue
            if kind == CLOSE:
                if self._key is not None:
                    self._top_key, self._key = "".join(self._key), None
                continue
            if ch in " \t\r\n":
                continue
            depth = len(stack)
            if kind == OPEN:
                if depth == 1 and self._expect_key:
                    self._key, self._expect_key = [], False
            elif ch in "{[":
                stack.append(ch)
                if depth == 0:
                    self._expect_key = True
            elif ch in "}]":
                in_objects = self._in_objects()
                if stack:
                    stack.pop()
                if depth == 3 and ch == "}" and in_objects:
                    self._element_closed = True
                elif depth == 2 and ch == "]" and self._element_closed and in_objects:
                    self._complete += 1
                    self._element_closed = False
                elif depth == 1:
                    self._done_keys.add(self._top_key)
                    self._closed = True
            elif ch == ",":
                if depth == 2 and self._element_closed and self._in_objects():
                    self._complete += 1
                    self._element_closed = False
                elif depth == 1:
                    self._done_keys.add(self._top_key)
                    self._expect_key = True
        self._pos = len(text)

    def _in_objects(self) -> bool:
        return self._top_key in _LISTS and self._stack[:2] == ["{", "["]
