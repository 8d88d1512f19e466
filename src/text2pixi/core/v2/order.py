"""When each step runs: "then" (sequence) and "with" (together) inside an item, ``after``/``start``/``stagger``
across items and copies, and ``loop`` of a whole sequence (the compiled ``cycle``).

An item's ``do`` is split into groups: a step with ``"with":true`` joins the group of the step before it.
A group starts when the previous group has ended; each step in it starts at the group's start plus its own
``delay``; the group ends when its longest step ends. Times here are relative to the item's (copy's) own
start; :func:`item_starts` decides those starts.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from text2pixi.core.errors import SceneCompileError
from text2pixi.core.v2 import language as v
from text2pixi.core.v2.motion import Ctx, State, StepOut, Tween, compile_step


@dataclass
class Timeline:
    """One object's compiled steps: tweens with delays from its own start, and what it needs at rest."""

    tweens: list[Tween] = field(default_factory=list)
    length: float = 0.0
    once: float = 0.0
    start_pos: tuple[int, int] | None = None
    start_alpha: float | None = None
    pivot: str | None = None


def groups(steps: Sequence[Any]) -> list[list[int]]:
    """Step indices grouped: a ``with`` step joins the group before it."""
    out: list[list[int]] = []
    for k, step in enumerate(steps):
        if step.with_ and out:
            out[-1].append(k)
        else:
            out.append([k])
    return out


def _merge(before: State, outs: list[tuple[float, int, StepOut]]) -> State:
    """The state after a group: per value, the step that started last (the runtime's rule) decides it."""
    state = before
    for _, _, out in sorted(outs, key=lambda o: (o[0], o[1])):
        changed = {name: getattr(out.state, name) for name in State.__dataclass_fields__
                   if getattr(out.state, name) != getattr(before, name)}
        state = replace(state, **changed)
    return state


def _add_up_moves(item: v.Item, before: State, outs: list[tuple[float, int, StepOut]]) -> None:
    """Moves played together ("80 px up and 80 px right at the same time") add up to one diagonal move.

    The runtime has one position track, on which the last started tween wins, so two moves of one group would
    play only the last. When they share their delay, duration and repeats, their displacements are summed into
    the first one's tween (in place); the others keep no tween and end where the sum ends."""
    goes = [(delay, out) for delay, k, out in outs if isinstance(item.do[k], v.MOVE_STEPS) and len(out.tweens) == 1]
    if len(goes) < 2:
        return
    first = goes[0][1].tweens[0]
    if any((delay, out.tweens[0].dur, out.tweens[0].repeat, out.tweens[0].yoyo)
           != (goes[0][0], first.dur, first.repeat, first.yoyo) for delay, out in goes):
        return
    x = before.x + sum(out.tweens[0].fields["x"] - before.x for _, out in goes)
    y = before.y + sum(out.tweens[0].fields["y"] - before.y for _, out in goes)
    ex = before.x + sum(out.state.x - before.x for _, out in goes)
    ey = before.y + sum(out.state.y - before.y for _, out in goes)
    first.fields = first.fields | {"x": x, "y": y}
    for n, (_, out) in enumerate(goes):
        out.state = replace(out.state, x=ex, y=ey)
        if n:
            out.tweens = []


def sequence(item: v.Item, name: str, state: State, ctx: Ctx) -> Timeline:
    """Compile an item's ``do`` for one object starting in ``state`` at time 0."""
    result = Timeline()
    looped = item.loop is not False
    parts = groups(item.do)
    t = once_t = 0.0
    moved = faded = False
    pivots: dict[str, int] = {}
    ends: dict[int, float] = {}
    for g, group in enumerate(parts):
        if math.isinf(t):
            forever = next(k for gg in parts[:g] for k in gg if math.isinf(ends[k]))
            raise SceneCompileError(
                f"never starts: step {forever + 1} repeats forever before it; give step {forever + 1} \"times\", "
                f"or add \"with\":true to run step {group[0] + 1} together with it", item=name, step=group[0])
        outs: list[tuple[float, int, StepOut]] = []
        end = once_end = t
        for k in group:
            step = item.do[k]
            step_ctx = replace(ctx, index=k, last=g == len(parts) - 1, looped=looped, moved=moved, faded=faded)
            out = compile_step(step, state, step_ctx)
            moved, faded = moved or out.moves, faded or out.fades
            outs.append((float(getattr(step, "delay", 0.0)), k, out))
        _add_up_moves(item, state, outs)
        for delay, k, out in outs:
            ends[k] = t + delay + out.length
            end = max(end, t + delay + out.length)
            once_end = max(once_end, once_t + delay + out.once)
            for tween in out.tweens:
                tween.delay += t + delay
                result.tweens.append(tween)
            if out.start_pos is not None:
                result.start_pos = out.start_pos
            if out.start_alpha is not None:
                result.start_alpha = out.start_alpha
            if out.pivot is not None and out.pivot != "center":
                pivots.setdefault(out.pivot, k)
        state = _merge(state, outs)
        t, once_t = end, once_end
    if len(pivots) > 1:
        (a, ka), (b, kb) = list(pivots.items())[:2]
        raise SceneCompileError(f"turns or scales about {b!r}, but step {ka + 1} about {a!r}; an item has one "
                                "pivot: use the same \"about\" in both, or two items", item=name, step=kb)
    result.pivot = next(iter(pivots), None)
    result.length, result.once = t, once_t
    if looped and math.isinf(t):
        k = next(k for k in range(len(item.do)) if math.isinf(ends[k]))
        raise SceneCompileError("repeats forever inside a \"loop\"; the loop repeats the whole sequence, so give "
                                "this step \"times\" (or drop the loop)", item=name, step=k)
    return result


def cycle_of(item: v.Item, start: float, every: float) -> dict[str, Any] | None:
    """The compiled ``cycle`` of a looped item's tweens, or None when it does not loop (or has nothing to loop)."""
    if item.loop is False or every <= 0:
        return None
    return {"start": start, "every": every, "times": -1 if item.loop is True else int(item.loop)}


def item_starts(items: Sequence[v.Item], names: Sequence[str], once: Sequence[float]) -> list[float]:
    """Each item's start: ``start`` seconds after 0, or after the first pass of the item named by ``after``.

    ``once[k]`` is item k's own length from its start to the end of its first pass (its last copy's, with
    stagger). A cycle of ``after`` references is a :class:`SceneCompileError`.
    """
    starts: dict[int, float] = {}
    for k, item in enumerate(items):
        if item.after is not None and item.after not in names:
            raise SceneCompileError(f"\"after\":{item.after!r} is not an item id (ids: {', '.join(names)})",
                                    item=names[k])
        if item.after == names[k]:
            raise SceneCompileError("\"after\" names the item itself; name another item", item=names[k])

    def start_of(k: int, path: tuple[int, ...]) -> float:
        if k in starts:
            return starts[k]
        if k in path:
            loop = " -> ".join(names[j] for j in path[path.index(k):] + (k,))
            raise SceneCompileError(f"\"after\" goes round in a circle ({loop}); one of them must start without "
                                    "\"after\"", item=names[k])
        item = items[k]
        base = 0.0
        if item.after is not None:
            j = list(names).index(item.after)
            base = start_of(j, path + (k,)) + once[j]
        starts[k] = base + item.start
        return starts[k]

    return [start_of(k, ()) for k in range(len(items))]
