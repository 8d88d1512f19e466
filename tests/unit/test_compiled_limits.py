"""The list bounds of a scene: v1's (16 objects, 24 animations) on the v1 generation path, a compiled scene's
(256, 512) everywhere else, so the v2 compiler's layouts of copies fit; the v1 grammar's schema is unchanged."""

from __future__ import annotations

import string
from typing import Any

import pytest
from pydantic import ValidationError

from text2pixi.core import timeline as tl
from text2pixi.core.codegen import render_script
from text2pixi.core.errors import SceneCompileError
from text2pixi.core.lottie import to_lottie
from text2pixi.core.scene import (
    COMPILED_MAX_ANIMATIONS,
    COMPILED_MAX_OBJECTS,
    MAX_ANIMATIONS,
    MAX_OBJECTS,
    STAGE_BOUNDS,
    Scene,
    scene_json_schema,
)
from text2pixi.core.v2.compiler import compile_scene
from text2pixi.core.v2.language import MAX_COPIES, MAX_ITEMS, V2Scene


def scene(objects: int, anims: int) -> dict[str, Any]:
    """``objects`` small dots in rows and ``anims`` fades spread over them."""
    dots = [{"type": "circle", "id": f"d{k}", "x": 10 + (k % 40) * 19, "y": 10 + (k // 40) * 19, "r": 4,
             "color": "white"} for k in range(objects)]
    fades = [{"type": "fade", "target": f"d{k % objects}", "to": 0.5, "delay": 0.1 * (k // objects)}
             for k in range(anims)]
    return {"objects": dots, "anims": fades}


def error_of(data: dict[str, Any], **kw: Any) -> str:
    with pytest.raises(ValidationError) as info:
        Scene.model_validate(data, **kw)
    return str(info.value)


def test_the_v1_generation_path_keeps_its_bounds() -> None:
    v1 = {"context": {STAGE_BOUNDS: True}}
    Scene.model_validate(scene(MAX_OBJECTS, MAX_ANIMATIONS), **v1)
    assert f"objects: list should have at most {MAX_OBJECTS} items, not 17" in error_of(scene(17, 0), **v1)
    assert f"anims: list should have at most {MAX_ANIMATIONS} items, not 25" in error_of(scene(1, 25), **v1)
    schema: Any = scene_json_schema()
    assert schema["properties"]["objects"]["maxItems"] == MAX_OBJECTS == 16
    assert schema["properties"]["anims"]["maxItems"] == MAX_ANIMATIONS == 24


def test_other_scenes_have_the_compiled_bounds() -> None:
    big = Scene.model_validate(scene(COMPILED_MAX_OBJECTS, COMPILED_MAX_ANIMATIONS))
    assert (len(big.objects), len(big.anims)) == (256, 512)
    assert Scene.model_validate_json(big.to_json()) == big  # a stored compiled scene reads back
    assert f"at most {COMPILED_MAX_OBJECTS} items" in error_of(scene(COMPILED_MAX_OBJECTS + 1, 0))
    assert f"at most {COMPILED_MAX_ANIMATIONS} items" in error_of(scene(1, COMPILED_MAX_ANIMATIONS + 1))


def grid(items: int, copies: int, steps: list[dict[str, Any]]) -> dict[str, Any]:
    return {"items": [{"id": f"dot{c}", "size": "tiny", "n": copies, "layout": "grid", "do": steps}
                      for c in string.ascii_lowercase[:items]]}


def test_a_4x4_grid_with_two_steps_compiles() -> None:
    compiled = compile_scene(V2Scene.model_validate(grid(1, 16, [{"move": "right", "by": 20}, {"fade": "out"}])))
    assert (len(compiled.objects), len(compiled.anims)) == (16, 32)  # 32 > v1's 24


def test_the_largest_layouts_compile_and_render() -> None:
    assert COMPILED_MAX_OBJECTS == MAX_ITEMS * MAX_COPIES
    source = V2Scene.model_validate(grid(MAX_ITEMS, MAX_COPIES, [{"move": "up", "by": 10}, {"fade": "out"}]))
    compiled = compile_scene(source)
    assert (len(compiled.objects), len(compiled.anims)) == (COMPILED_MAX_OBJECTS, COMPILED_MAX_ANIMATIONS)
    # nothing downstream has a lower cap: the timeline, the page's script and the Lottie export take them all
    assert len({target for target, _ in tl.tracks(compiled)}) == COMPILED_MAX_OBJECTS
    script = render_script(compiled)
    assert all(f'objects["{o.id}"] = app.stage.addChild(' in script for o in compiled.objects)
    assert script.count('"target":') == COMPILED_MAX_ANIMATIONS
    assert len(to_lottie(compiled, fps=10)["layers"]) >= COMPILED_MAX_OBJECTS
    # one more step is past the bound: the compiler says so in the scene's terms
    more = V2Scene.model_validate(grid(MAX_ITEMS, MAX_COPIES, [{"move": "up", "by": 10}, {"fade": "out"},
                                                                {"wait": 1}, {"fade": "in"}]))
    with pytest.raises(SceneCompileError, match=r"compiles to 768 animations; at most 512: use fewer copies"):
        compile_scene(more)
