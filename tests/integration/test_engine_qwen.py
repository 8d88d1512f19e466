"""The default model end to end: the scene must match what the prompt asks for."""

from __future__ import annotations

import pytest

from text2pixi.core.colors import color_to_hex
from text2pixi.core.scene import Circle, Fade, Move, Rect, Rotate, Star
from text2pixi.engine import Engine

pytestmark = pytest.mark.slow


def test_red_circle_moves_right(qwen_engine: Engine) -> None:
    result = qwen_engine.translate("a red circle in the centre moves to the right")
    scene = result.scene
    circles = [o for o in scene.objects if isinstance(o, Circle)]
    assert len(circles) == 1
    ball = circles[0]
    assert color_to_hex(ball.color) == "#ff0000"
    assert abs(ball.x - scene.w / 2) <= scene.w * 0.15 and abs(ball.y - scene.h / 2) <= scene.h * 0.15
    moves = [a for a in scene.anims if isinstance(a, Move) and a.target == ball.id]
    assert moves and moves[0].x > ball.x
    assert result.attempts[0].cached_tokens > 0  # the primed prefix was reused


def test_three_blue_squares_spinning_in_a_row(qwen_engine: Engine) -> None:
    scene = qwen_engine.translate("three blue squares spinning in a row").scene
    squares = [o for o in scene.objects if isinstance(o, Rect)]
    assert len(squares) == 3
    assert all(color_to_hex(s.color) == "#0000ff" and s.w == s.h for s in squares)
    assert len({s.y for s in squares}) == 1  # a row: same y
    assert len({s.x for s in squares}) == 3
    spinning = {a.target for a in scene.anims if isinstance(a, Rotate) and abs(a.by) >= 360 and a.repeat == -1}
    assert spinning == {s.id for s in squares}


def test_green_star_fades_out(qwen_engine: Engine) -> None:
    scene = qwen_engine.translate("a green star fades out slowly").scene
    stars = [o for o in scene.objects if isinstance(o, Star)]
    assert len(stars) == 1 and color_to_hex(stars[0].color) == "#008000"
    fades = [a for a in scene.anims if isinstance(a, Fade) and a.target == stars[0].id]
    assert fades and fades[0].to < 0.5
