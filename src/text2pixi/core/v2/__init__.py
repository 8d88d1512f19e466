"""Scene language v2: what the model writes (``language``) and its pure compiler to the compiled scene.

``compile_scene(V2Scene) -> Scene`` (``compiler``), ``from_v1(Scene) -> V2Scene`` (``convert``), and
``v2_json_schema()`` for the decoding grammar. Reference: ``docs/scene-v2.md``.
"""

from text2pixi.core.v2.compiler import compile_scene
from text2pixi.core.v2.convert import from_v1
from text2pixi.core.v2.language import V2Scene, v2_json_schema

__all__ = ["V2Scene", "compile_scene", "from_v1", "v2_json_schema"]
