"""Property: every valid v2 scene compiles to a valid compiled scene or a named error, never anything else."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from text2pixi.core.errors import SceneCompileError
from text2pixi.core.scene import Scene
from text2pixi.core.v2 import language as v
from text2pixi.core.v2.compiler import compile_scene

IDS = ["a", "b", "c"]
ANCHORS = list(v.Anchor.__args__)  # type: ignore[attr-defined]
opt = st.booleans()


def _timing() -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={
        "dur": st.sampled_from([0.1, 0.5, 1.0, 2.5]), "ease": st.sampled_from(["linear", "bounce", "back"]),
        "times": st.sampled_from([-1, 1, 2, 3]), "yoyo": st.booleans(), "with": st.booleans(),
        "delay": st.sampled_from([0.0, 0.3, 1.0])})


VERB_ARGS: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "move": st.fixed_dictionaries({"move": st.sampled_from(list(v.Direction.__args__))},  # type: ignore[attr-defined]
                                  optional={"by": st.one_of(st.integers(1, 900), st.sampled_from(["edge", "off"]))}),
    "to": st.fixed_dictionaries({"to": st.one_of(st.sampled_from(ANCHORS + ["above", "below", "on", "start"]),
                                                 st.lists(st.floats(0, 1), min_size=2, max_size=2))},
                                optional={"of": st.sampled_from(IDS + ["zz"])}),
    "xy": st.fixed_dictionaries({"xy": st.lists(st.integers(-100, 900), min_size=2, max_size=2)}),
    "spin": st.fixed_dictionaries({"spin": st.sampled_from(["cw", "ccw"])},
                                  optional={"turns": st.sampled_from([0.5, 1.0, 3.0]),
                                            "about": st.sampled_from(ANCHORS)}),
    "rotate": st.fixed_dictionaries({"rotate": st.integers(-720, 720)},
                                    optional={"dir": st.sampled_from(["cw", "ccw"]),
                                              "about": st.sampled_from(ANCHORS)}),
    "scale": st.fixed_dictionaries({"scale": st.floats(0, 5)}, optional={"axis": st.sampled_from(["xy", "x", "y"])}),
    "grow": st.fixed_dictionaries({"grow": st.floats(0.1, 6)}, optional={"axis": st.sampled_from(["x", "y"])}),
    "shrink": st.fixed_dictionaries({"shrink": st.floats(0.1, 4)}),
    "fade": st.fixed_dictionaries({"fade": st.one_of(st.sampled_from(["in", "out"]), st.floats(0, 1))}),
    "color": st.fixed_dictionaries({"color": st.sampled_from(["red", "navy", "#123456"])}),
    "pulse": st.fixed_dictionaries({"pulse": st.floats(0.5, 2)}),
    "bounce": st.fixed_dictionaries({"bounce": st.integers(1, 300)}),
    "shake": st.fixed_dictionaries({"shake": st.integers(1, 40)}),
    "float": st.fixed_dictionaries({"float": st.integers(1, 60)}),
    "blink": st.fixed_dictionaries({"blink": st.integers(1, 5)}),
    "slide": st.fixed_dictionaries({"slide": st.sampled_from(["in", "out"])},
                                   optional={"side": st.sampled_from(["left", "right", "top", "bottom"])}),
    "fall": st.fixed_dictionaries({"fall": st.sampled_from(["bottom", "off"])}),
}
step = st.one_of(
    *[st.tuples(args, _timing()).map(lambda p: {**p[0], **p[1]}) for args in VERB_ARGS.values()],
    st.fixed_dictionaries({"wait": st.sampled_from([0.5, 2.0])}, optional={"with": st.booleans()}),
)
item = st.fixed_dictionaries({"id": st.sampled_from(IDS)}, optional={
    "shape": st.sampled_from(list(v.Shape.__args__)),  # type: ignore[attr-defined]
    "size": st.one_of(st.sampled_from(["tiny", "small", "medium", "large", "huge"]), st.integers(1, 900)),
    "color": st.sampled_from(["white", "black", "orange"]),
    "at": st.one_of(st.sampled_from(ANCHORS), st.lists(st.floats(-0.2, 1.2), min_size=2, max_size=2)),
    "of": st.sampled_from(IDS + ["zz"]), "n": st.integers(1, 6), "layout": st.sampled_from(["row", "grid", "ring"]),
    "in": st.sampled_from(ANCHORS), "stagger": st.one_of(st.just("then"), st.floats(0, 1)),
    "after": st.sampled_from(IDS + ["zz"]), "start": st.floats(0, 3),
    "loop": st.one_of(st.booleans(), st.integers(1, 4)),
    "do": st.lists(step, max_size=5),
})
scene_data = st.fixed_dictionaries({"items": st.lists(item, min_size=1, max_size=3)},
                                   optional={"bg": st.sampled_from(["black", "white", "#f0f0f0"])})


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scene_data)
def test_every_valid_scene_compiles_or_names_the_problem(data: dict[str, Any]) -> None:
    items = [{**i, "id": IDS[k]} | ({"text": "hi"} if i.get("shape") == "text" else {})
             for k, i in enumerate(data["items"])]
    data = {**data, "items": items}
    try:
        scene = v.V2Scene.model_validate(data)
    except ValueError:
        return  # not a valid v2 scene: the grammar and the validator refuse it
    try:
        compiled = compile_scene(scene)
    except SceneCompileError as err:
        assert str(err)
        return
    assert Scene.model_validate_json(compiled.model_dump_json()) == compiled
