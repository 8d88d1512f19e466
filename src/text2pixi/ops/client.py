"""A small client of the service, as a web app's server side would use it: submit, poll, fetch.

It speaks to the OpenFaaS gateway (``/function/translate``, ``/function/status/<id>``) with the API
key in ``X-API-Key``, polls with backoff until the job ends, and can save the scene, the module and
the page. ``text2pixi submit`` is this module on the command line.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import requests

from text2pixi.core.errors import GenerationFailed, ServiceError, ServiceUnavailable
from text2pixi.core.progress import TERMINAL, Event, parse_sse

log = logging.getLogger(__name__)


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

    def edit(self, base: str, scene: dict[str, Any], note: str | None = None, *, v2: bool = False) -> dict[str, Any]:
        """Store a hand-edited scene as a new version of ``base`` (validated by the service).

        ``scene`` is a compiled (v1) scene, or with ``v2`` a v2 scene sent as the edit's ``source``."""
        body = {"base": base, "source" if v2 else "scene": scene, **({"note": note} if note else {})}
        return _object(self._call("POST", "/function/translate/edit", json=body))

    def history(self, result_id: str) -> dict[str, Any]:
        """The chain of versions ending at ``result_id``, oldest first."""
        return _object(self._call("GET", f"/function/status/{result_id}/history"))

    def page(self, job_id: str) -> str:
        return self._call("GET", f"/function/status/{job_id}/html").text

    def events(self, job_id: str, *, last_event_id: str | None = None) -> Iterator[Event]:
        """The job's progress events (``/status/ID/events``, Server-Sent Events) until its last one.

        The read timeout outlasts the server's 15 s heartbeat; the stream is chunked, so each event is
        handed over as it arrives.
        """
        headers = {"Accept": "text/event-stream", **({"Last-Event-ID": last_event_id} if last_event_id else {})}
        with self._call("GET", f"/function/status/{job_id}/events", headers=headers, stream=True) as response:
            yield from parse_sse(response.iter_lines(chunk_size=1024, decode_unicode=True))

    def watch(self, job_id: str, on_event: Callable[[Event], None], *, timeout: float = 300.0) -> dict[str, Any]:
        """Follow the job's events (reconnecting with ``Last-Event-ID`` when a stream breaks), then its final view.

        Falls back to polling :meth:`wait` when the events cannot be read (an older service, a proxy that
        buffers, too many open streams).
        """
        deadline = time.monotonic() + timeout
        last_id: str | None = None
        failures = 0
        while time.monotonic() < deadline and failures < 3:
            started = time.monotonic()
            try:
                for event in self.events(job_id, last_event_id=last_id):
                    last_id = event.id or last_id
                    on_event(event)
                    if event.type in TERMINAL:
                        return self.status(job_id)
                    if time.monotonic() > deadline:
                        break
                # The server ends each stream after TEXT2PIXI_EVENTS_MAX_SECONDS: resume where it stopped.
                failures = failures + 1 if time.monotonic() - started < 1.0 else 0
                continue
            except (ServiceError, ServiceUnavailable, requests.RequestException, ValueError) as exc:
                if isinstance(exc, ServiceError) and exc.http_status in (401, 404):
                    raise
                log.info("job %s: event stream failed (%s); %s", job_id, exc,
                         "reconnecting" if failures < 2 else "polling instead")
            failures += 1
            time.sleep(min(2.0, 0.5 * failures))
        return self.wait(job_id, timeout=max(0.0, deadline - time.monotonic()))

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

    def translate(self, prompt: str, *, timeout: float = 300.0, on_event: Callable[[Event], None] | None = None,
                  **kwargs: Any) -> dict[str, Any]:
        """Submit and wait (following its events with ``on_event``, else polling); returns the finished job view
        or raises :class:`GenerationFailed`."""
        accepted = self.submit(prompt, **kwargs)
        if accepted.get("status") in ("finished", "failed"):
            view = accepted
        elif on_event is not None:
            view = self.watch(accepted["id"], on_event, timeout=timeout)
        else:
            view = self.wait(accepted["id"], timeout=timeout)
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


class SubmitProgress:
    """What ``text2pixi submit`` shows while it waits: a rich progress bar of tokens on a terminal (objects, time,
    re-asks), one line per step (started, objects, re-asks, end) on stderr otherwise."""

    def __init__(self, console: Any = None) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeElapsedColumn

        self.console = console or Console(stderr=True)
        self.live = bool(self.console.is_terminal)
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(),
                                 TextColumn("{task.completed}/{task.total} tokens, {task.fields[objects]} objects"),
                                 TimeElapsedColumn(), console=self.console, transient=True, disable=not self.live)
        self.task: TaskID | None = None
        self.objects = 0

    def __enter__(self) -> SubmitProgress:
        self.progress.start()
        self.task = self.progress.add_task("queued", total=None, objects=0)
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def _say(self, line: str) -> None:
        if self.live:
            self.progress.console.print(line, markup=False, highlight=False)
        else:
            print(line, file=self.console.file, flush=True)

    def __call__(self, event: Event) -> None:
        data, task = event.payload(), self.task
        assert task is not None
        if event.type == "queued":
            self.progress.update(task, description=f"queued (position {data.get('position')})")
        elif event.type == "started":
            self.progress.update(task, description=f"generating on {data.get('worker')}",
                                 total=data.get("expected_tokens"), completed=0)
            self._say(f"# started on {data.get('worker')}, about {data.get('expected_tokens')} tokens expected")
        elif event.type == "attempt":
            self.objects = 0
            self.progress.update(task, description=f"attempt {data['attempt']}", completed=0, objects=0)
        elif event.type == "reask":
            self._say(f"# re-asking (attempt {data.get('attempt')}): {data.get('reason')}")
        elif event.type == "tokens":
            total = max(int(data["expected_tokens"]), int(data["tokens"]))
            self.progress.update(task, completed=data["tokens"], total=total)
        elif event.type == "object":
            self.objects += 1
            obj = data.get("object") or {}
            self.progress.update(task, objects=self.objects)
            self._say(f"# object {data.get('index')}: {obj.get('type')} {obj.get('id')}")
        elif event.type == "stage":
            self._say(f"# stage {data.get('w')}x{data.get('h')} on {data.get('bg')}")
        elif event.type in TERMINAL:
            self.progress.update(task, description=event.type)
            self._say(f"# {event.type}")
