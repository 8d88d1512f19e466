"""A small client of the service, as a web app's server side would use it: submit, poll, fetch.

It speaks to the OpenFaaS gateway (``/function/translate``, ``/function/status/<id>``) with the API
key in ``X-API-Key``, polls with backoff until the job ends, and can save the scene, the module and
the page. ``text2pixi submit`` is this module on the command line.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, cast

import requests

from text2pixi.core.errors import GenerationFailed, ServiceError, ServiceUnavailable


class Client:
    def __init__(self, gateway: str, api_key: str, *, timeout: float = 30.0) -> None:
        self.gateway = gateway.rstrip("/")
        self.session = requests.Session()
        self.session.headers["X-API-Key"] = api_key
        self.timeout = timeout

    def _call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        try:
            response = self.session.request(method, self.gateway + path, timeout=self.timeout, **kwargs)
        except requests.RequestException as exc:
            raise ServiceUnavailable(f"cannot reach the gateway at {self.gateway}: {exc}") from exc
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = {"error": "http_error", "message": response.text[:200]}
            raise ServiceError(response.status_code, body)
        return response

    def submit(self, prompt: str, *, options: dict[str, Any] | None = None, wait: float = 0,
               idempotency_key: str | None = None, callback_url: str | None = None, base: str | None = None,
               variants: int = 1) -> dict[str, Any]:
        """Queue a translation; with ``base``, a refinement of that result (``prompt`` is the change)."""
        headers = {"Content-Type": "application/json"}
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        if callback_url:
            headers["X-Callback-Url"] = callback_url
        params = {"wait": f"{wait:g}"} if wait else None
        request: dict[str, Any] = {"prompt": prompt, "options": options or {}}
        if base:
            request["base"] = base
        if variants != 1:
            request["variants"] = variants
        body = json.dumps(request)
        return _object(self._call("POST", "/function/translate", data=body, headers=headers, params=params))

    def status(self, job_id: str) -> dict[str, Any]:
        return _object(self._call("GET", f"/function/status/{job_id}"))

    def edit(self, base: str, scene: dict[str, Any], note: str | None = None) -> dict[str, Any]:
        """Store a hand-edited scene as a new version of ``base`` (validated by the service)."""
        body = {"base": base, "scene": scene, **({"note": note} if note else {})}
        return _object(self._call("POST", "/function/translate/edit", json=body))

    def history(self, result_id: str) -> dict[str, Any]:
        """The chain of versions ending at ``result_id``, oldest first."""
        return _object(self._call("GET", f"/function/status/{result_id}/history"))

    def page(self, job_id: str) -> str:
        return self._call("GET", f"/function/status/{job_id}/html").text

    def wait(self, job_id: str, *, timeout: float = 300.0) -> dict[str, Any]:
        """Poll until the job is finished or failed (backoff 0.25 s → 2 s)."""
        deadline = time.monotonic() + timeout
        delay = 0.25
        while True:
            view = self.status(job_id)
            if view["status"] in ("finished", "failed") or time.monotonic() > deadline:
                return view
            time.sleep(delay)
            delay = min(delay * 1.5, 2.0)

    def translate(self, prompt: str, *, timeout: float = 300.0, **kwargs: Any) -> dict[str, Any]:
        """Submit and wait; returns the finished job view or raises :class:`GenerationFailed`."""
        accepted = self.submit(prompt, **kwargs)
        view = accepted if accepted.get("status") in ("finished", "failed") else self.wait(accepted["id"],
                                                                                          timeout=timeout)
        if view["status"] != "finished":
            error = view.get("error") or {"message": f"still {view['status']} after {timeout:g}s"}
            raise GenerationFailed(f"job {view['id']}: {error.get('message')}")
        return view

    def save(self, view: dict[str, Any], out: Path) -> dict[str, Path]:
        """Write scene.json, scene.js and scene.html of a finished job into ``out``."""
        out.mkdir(parents=True, exist_ok=True)
        result = view["result"]
        files = {"scene": out / "scene.json", "js": out / "scene.js", "html": out / "scene.html"}
        files["scene"].write_text(json.dumps(result["scene"], indent=2) + "\n")
        files["js"].write_text(result["js"])
        files["html"].write_text(self.page(view["id"]))
        return files


def _object(response: requests.Response) -> dict[str, Any]:
    """The JSON object a successful call answers (the service's answers are always objects)."""
    return cast(dict[str, Any], response.json())
