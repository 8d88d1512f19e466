"""The one error path: each error's code, status and headers, answered alike by the functions and the Flask apps."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import pytest
from flask import Flask, request
from pydantic import ValidationError

from text2pixi.core import errors
from text2pixi.core.errors import (
    BasicAuthRequired,
    InvalidScene,
    MethodNotAllowed,
    PlaygroundModeInvalid,
    QueueFull,
    Text2PixiError,
    validation_message,
)
from text2pixi.core.scene import Scene
from text2pixi.service.http import error_response as function_error
from text2pixi.settings import GatewaySettings
from text2pixi.web import playground
from text2pixi.web.errors import install_error_handlers
from text2pixi.web.gateway import Gateway, create_app

SRC = Path(__file__).resolve().parents[2] / "src" / "text2pixi"


CONTROL_FLOW = {("quality/selectors.py", "NoMatch")}
"""Exceptions that never leave the module pair that raises and catches them (a check's selector found nothing)."""


def test_every_error_class_lives_in_core_errors() -> None:
    """No module but core/errors.py defines an error class."""
    defined = {(str(path.relative_to(SRC)), line.split()[1].split("(")[0])
               for path in SRC.rglob("*.py") if path != SRC / "core" / "errors.py"
               for line in path.read_text().splitlines() if line.startswith("class ")
               and any(base in line for base in ("Error)", "Exception)", "UserError)", "ValueError)"))}
    assert defined - CONTROL_FLOW == set()


def test_error_headers_and_the_function_answer() -> None:
    full = QueueFull("full", retry_after=7)
    assert (full.code, full.http_status, full.headers()) == ("queue_full", 429, {"Retry-After": "7"})
    wrong = MethodNotAllowed("PUT", ("GET", "OPTIONS"))
    assert (wrong.http_status, wrong.headers()) == (405, {"Allow": "GET, OPTIONS"})
    assert BasicAuthRequired("x").headers()["WWW-Authenticate"].startswith("Basic ")
    answer = function_error(full)
    assert answer == {"statusCode": 429, "body": {"error": "queue_full", "message": "full"},
                      "headers": {"Content-Type": "application/json", "Retry-After": "7"}}


def test_one_code_for_429() -> None:
    codes = {cls.code for _, cls in inspect.getmembers(errors, inspect.isclass)
             if issubclass(cls, Text2PixiError) and cls.http_status == 429}
    assert codes == {"queue_full"}


def test_flask_apps_answer_named_and_werkzeug_errors_as_the_functions_do() -> None:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 10
    install_error_handlers(app)

    @app.post("/full")
    def full() -> str:
        raise QueueFull("full", retry_after=3)

    @app.get("/bug")
    def bug() -> str:
        raise RuntimeError("secret detail")

    @app.post("/read")
    def read() -> str:
        return str(len(request.get_data()))

    client = app.test_client()
    answer = client.post("/full")
    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "3")
    assert answer.get_json() == function_error(QueueFull("full", retry_after=3))["body"]
    answer = client.get("/bug")
    assert (answer.status_code, answer.get_json()) == (500, {"error": "internal_error", "message": "internal error"})
    assert "secret" not in answer.get_data(as_text=True)
    answer = client.get("/full")
    assert (answer.status_code, answer.get_json()["error"]) == (405, "method_not_allowed")
    assert "POST" in answer.headers["Allow"]
    answer = client.get("/nowhere")
    assert (answer.status_code, answer.get_json()["error"], answer.mimetype) == (404, "not_found", "application/json")
    answer = client.post("/read", data=b"x" * 11)
    assert (answer.status_code, answer.get_json()) == (
        413, {"error": "body_too_large", "message": "request body is larger than 10 bytes"})


def test_the_gateways_full_async_backlog_is_queue_full_with_retry_after() -> None:
    gateway = Gateway(GatewaySettings(functions={"f": "http://127.0.0.1:9"}, async_workers=1, async_queue=1))
    try:
        gateway.slots.acquire()  # the one slot is taken
        answer = create_app(gateway).test_client().post("/async-function/f")
        assert (answer.status_code, answer.get_json()["error"]) == (429, "queue_full")
        assert int(answer.headers["Retry-After"]) >= 1
    finally:
        gateway.close()


def test_one_wording_of_an_invalid_scene() -> None:
    with pytest.raises(ValidationError) as caught:
        Scene.model_validate({"bg": 1, "objects": "none"})
    exc = caught.value
    first = exc.errors()[0]
    place = ".".join(str(p) for p in first["loc"]) or "scene"
    assert validation_message(exc, limit=1) == f"{place}: {first['msg']}"
    assert str(InvalidScene.from_validation(exc)) == "the scene is not valid: " + "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'scene'}: {e['msg']}" for e in exc.errors()[:5])
    assert json.dumps(InvalidScene.from_validation(exc).to_dict())


def test_the_playground_mode_is_a_gateway_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEXT2PIXI_PLAYGROUND", "yes please")
    gateway = Gateway(GatewaySettings(functions={"translate": "http://127.0.0.1:9"}))
    try:
        assert gateway.config.playground == "yes please"
        with pytest.raises(PlaygroundModeInvalid, match="TEXT2PIXI_PLAYGROUND must be auto, on or off"):
            playground.install(create_app(gateway), gateway, bind_host="127.0.0.1")
    finally:
        gateway.close()
    monkeypatch.setenv("TEXT2PIXI_PLAYGROUND", "off")
    gateway = Gateway(GatewaySettings(functions={"translate": "http://127.0.0.1:9"}))
    try:
        assert playground.install(create_app(gateway), gateway, bind_host="127.0.0.1") is False
    finally:
        gateway.close()
