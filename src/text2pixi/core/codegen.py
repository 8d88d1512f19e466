"""Deterministic Pixi.js v8 code generation from a validated :class:`Scene`.

Two outputs share one ``mount`` function: an ES module (``import ... from "pixi.js"``) for
bundlers, and a standalone HTML page that inlines a local copy of pixi.js (never a CDN) and plays
the scene from a double-clicked file. Every value derived from the scene is written with
:func:`js_literal` (JSON with ``<``, ``>``, ``&`` and the JS line separators escaped), so no prompt
text can close a ``<script>`` element or break out of a string; the page also carries a
Content-Security-Policy that allows only its own inline scripts, by hash, and no network access.

Shapes are drawn in white and coloured with ``tint`` so that colour animations are a tint tween.
Every object is positioned by its centre, so rotation and scale happen around it, unless a compiled scene gives
it a ``pivot`` (Pixi's ``pivot``, with ``position`` = centre + that offset). Animation state is
a pure function of time (``seek(t)``), which makes replay, pausing and tests exact. The fixed JavaScript
(that runtime, the page's start) lives in ``core/runtime/*.js``; only ``mount`` is generated here.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from functools import cache
from importlib.resources import files
from typing import Any

from text2pixi.core import scene as s
from text2pixi.core.colors import color_to_hex

GENERATOR = "text2pixi"

_CLASSIC_HEAD = "(() => {\nconst { Application, Graphics, Text } = globalThis.PIXI;\n"
"""Opens the classic-script wrappers (playground script, standalone page): Pixi.js from the global IIFE build."""


@cache
def runtime_js(name: str) -> str:
    """The text of ``core/runtime/<name>`` (read once): JavaScript kept as real files, shipped as package data.

    ``runtime.js`` is the tween runtime every output shares, ``page_boot.js`` starts the standalone page,
    ``viewer_controls.js`` is the ``text2pixi view`` control bar.
    """
    return files("text2pixi.core").joinpath("runtime", name).read_text(encoding="utf-8")


def js_literal(value: Any) -> str:
    """A JavaScript literal for ``value`` that is safe inside an HTML ``<script>`` element."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return (
        text.replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _num(value: float) -> str:
    """Numbers as JS literals: integers without a trailing .0."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _draw(obj: Any) -> str:
    """The Pixi.js v8 constructor expression for one object, drawn in white around (0, 0)."""
    if isinstance(obj, s.Circle):
        return f"new Graphics().circle(0, 0, {obj.r}).fill(0xffffff)"
    if isinstance(obj, s.Rect):
        return f"new Graphics().rect({_num(-obj.w / 2)}, {_num(-obj.h / 2)}, {obj.w}, {obj.h}).fill(0xffffff)"
    if isinstance(obj, s.RoundRect):
        return (f"new Graphics().roundRect({_num(-obj.w / 2)}, {_num(-obj.h / 2)}, {obj.w}, {obj.h}, "
                f"{obj.radius}).fill(0xffffff)")
    if isinstance(obj, s.Ellipse):
        return f"new Graphics().ellipse(0, 0, {_num(obj.w / 2)}, {_num(obj.h / 2)}).fill(0xffffff)"
    if isinstance(obj, s.Triangle):
        hw, hh = _num(obj.w / 2), _num(obj.h / 2)
        return f"new Graphics().poly([0, -{hh}, {hw}, {hh}, -{hw}, {hh}]).fill(0xffffff)"
    if isinstance(obj, s.Star):
        inner = obj.inner if obj.inner is not None else obj.r / 2
        return f"new Graphics().star(0, 0, {obj.points}, {obj.r}, {_num(inner)}).fill(0xffffff)"
    if isinstance(obj, s.Polygon):
        pts = obj.pts[: len(obj.pts) - len(obj.pts) % 2]
        return f"new Graphics().poly({js_literal(pts)}).fill(0xffffff)"
    if isinstance(obj, s.Line):
        dx, dy = (obj.x2 - obj.x) / 2, (obj.y2 - obj.y) / 2
        return (f"new Graphics().moveTo({_num(-dx)}, {_num(-dy)}).lineTo({_num(dx)}, {_num(dy)})"
                f".stroke({{ width: {obj.width}, color: 0xffffff, cap: \"round\" }})")
    if isinstance(obj, s.Text):
        style = {"fontFamily": "sans-serif", "fontSize": obj.size, "fill": "#ffffff"}
        return (f"new Text({{ text: {js_literal(obj.text)}, style: {js_literal(style)}, "
                f"anchor: 0.5 }})")
    raise TypeError(f"no renderer for {type(obj).__name__}")  # pragma: no cover - schema is closed


def _centre(obj: Any) -> tuple[float, float]:
    """Where the object's origin goes: its centre (a line's midpoint)."""
    if isinstance(obj, s.Line):
        return (obj.x + obj.x2) / 2, (obj.y + obj.y2) / 2
    return obj.x, obj.y


def _anim_data(anim: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"target": anim.target}
    if isinstance(anim, s.Move):
        data.update(prop="pos", to=[anim.x, anim.y])
    elif isinstance(anim, s.Rotate):
        data.update(prop="angle", by=anim.by)
    elif isinstance(anim, s.Scale):
        data.update(prop="scale", to=anim.to)
        if anim.axis != "xy":
            data.update(axis=anim.axis)
    elif isinstance(anim, s.Fade):
        data.update(prop="alpha", to=anim.to)
    elif isinstance(anim, s.Tint):
        data.update(prop="tint", to=color_to_hex(anim.to))
    data.update(dur=anim.dur, delay=anim.delay, ease=anim.ease, repeat=anim.repeat, yoyo=anim.yoyo)
    if anim.cycle is not None:
        data.update(cycle=anim.cycle.model_dump())
    return data


def mount_source(scene: s.Scene) -> str:
    """The ``mount(container)`` function that builds and plays ``scene``."""
    lines = [
        "async function mount(container, options = {}) {",
        "  const app = new Application();",
        f"  await app.init({{ width: {scene.w}, height: {scene.h}, "
        f"background: {js_literal(color_to_hex(scene.bg))}, antialias: true, preference: options.preference }});",
        "  container.appendChild(app.canvas);",
        "  const objects = {};",
    ]
    for obj in scene.objects:
        x, y = _centre(obj)
        paint = {"x": x, "y": y, "rot": obj.rot, "alpha": obj.alpha, "color": color_to_hex(obj.color)}
        if obj.pivot is not None:
            paint["pivot"] = list(obj.pivot)
        lines.append(f"  objects[{js_literal(obj.id)}] = app.stage.addChild(place({_draw(obj)}, "
                     f"{js_literal(obj.id)}, {js_literal(paint)}));")
    anims = ",\n".join(f"    {js_literal(_anim_data(a))}" for a in scene.anims)
    lines += [
        f"  const controller = animate(app, objects, [\n{anims}\n  ]);" if anims
        else "  const controller = animate(app, objects, []);",
        "  globalThis.__PIXI_APP__ = app;",
        "  globalThis.__TEXT2PIXI__ = controller;",
        "  return controller;",
        "}",
    ]
    return "\n".join(lines) + "\n"


def render_module(scene: s.Scene) -> str:
    """An ES module exporting ``mount(container)``; needs the ``pixi.js`` package (v8)."""
    return (
        f"// Generated by {GENERATOR} from a validated scene. Pixi.js v8.\n"
        f"// Scene: {scene.w}x{scene.h}, {len(scene.objects)} objects, {len(scene.anims)} animations.\n"
        'import { Application, Graphics, Text } from "pixi.js";\n\n'
        f"{runtime_js('runtime.js')}\n"
        f"export {mount_source(scene)}\n"
        "export default mount;\n"
    )


def render_script(scene: s.Scene) -> str:
    """A classic script that defines ``globalThis.__TEXT2PIXI_MOUNT__`` for ``scene``; needs ``globalThis.PIXI``.

    The playground loads it from its own origin (CSP ``script-src 'self'``), so a result plays with the same
    runtime and ``mount`` as the module and the standalone page, without ``eval`` or inline scripts.
    """
    return (
        f"{_CLASSIC_HEAD}{runtime_js('runtime.js')}\n{mount_source(scene)}\n"
        "globalThis.__TEXT2PIXI_MOUNT__ = mount;\n"
        "})();\n"
    )


def _script_hash(code: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(code.encode("utf-8")).digest()).decode() + "'"


def render_page(scene: s.Scene, pixi_js: str, *, title: str = "text2pixi scene", extra_js: str = "") -> str:
    """A standalone HTML page that plays ``scene`` with the given pixi.js IIFE build inlined.

    ``pixi_js`` is the text of ``pixi.min.js`` (plus its ``unsafe-eval`` add-on, so the page needs
    no ``'unsafe-eval'`` in its policy).
    """
    if "</script" in pixi_js.lower():
        raise ValueError("pixi.js source contains '</script' and cannot be inlined")
    boot = (
        f"{_CLASSIC_HEAD}{runtime_js('runtime.js')}\n{mount_source(scene)}\n"
        f"{runtime_js('page_boot.js')}{extra_js}"
        "})();\n"
    )
    policy = (
        "default-src 'none'; "
        f"script-src {_script_hash(pixi_js)} {_script_hash(boot)}; "
        "style-src 'unsafe-inline'; img-src data: blob:; worker-src blob:; font-src data:; connect-src 'none'"
    )
    return (
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<meta http-equiv=\"Content-Security-Policy\" content=\"{html.escape(policy)}\">\n"
        f"<meta name=\"generator\" content=\"{GENERATOR}\">\n"
        f"<title>{html.escape(title)}</title>\n"
        "<style>html,body{margin:0;background:#222;color:#eee;font-family:sans-serif}"
        "#stage{display:flex;justify-content:center;padding:16px}#stage canvas{max-width:100%;height:auto}"
        "#error{color:#f66;text-align:center}</style>\n"
        "</head>\n<body data-state=\"loading\">\n<div id=\"stage\"></div>\n<p id=\"error\"></p>\n"
        f"<script>{pixi_js}</script>\n<script>{boot}</script>\n</body>\n</html>\n"
    )
