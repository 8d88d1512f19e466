"""Progress events end to end: a real warm worker (SmolLM2) writes them to a real redis-server while it generates,
and ``GET /function/status/ID/events`` sends them as Server-Sent Events over real HTTP, through the python3-llama
template served by waitress (as in the container and the local stack) and through the gateway in front of it."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import redis
import requests
from rq import Queue
from waitress import create_server

from tests.backends import RedisServer, S3Server, import_template
from text2pixi import registry
from text2pixi.core.progress import Event, parse_sse
from text2pixi.service.events import EVENTS_KEY
from text2pixi.service.functions import get_service
from text2pixi.service.store import Store
from text2pixi.settings import GatewaySettings, Settings, get_settings
from text2pixi.web.gateway import Gateway, create_app

pytestmark = pytest.mark.model

ROOT = Path(__file__).resolve().parents[2]
KEY = "events-test-key-0123456789"
QUEUE = "events-test"
PROMPT = "a pink rectangle"  # SmolLM2 answers it validly (tests/integration/test_service.py)


@contextmanager
def serve_waitress(app: Any) -> Iterator[str]:
    """``app`` under waitress on a loopback port, as ``index.py`` serves it (lookahead on: disconnects are seen)."""
    server = create_server(app, host="127.0.0.1", port=0, threads=6, channel_request_lookahead=1)
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"  # type: ignore[union-attr]
    finally:
        # Empty the loop's map first: it ends after its current poll (1 s), and only then are the sockets
        # closed (closing them under a running poll makes it fail with EBADF).
        channels = list(server._map.values())  # type: ignore[union-attr]
        server._map.clear()  # type: ignore[union-attr]
        thread.join(5)
        for channel in channels:
            channel.close()
        server.task_dispatcher.shutdown(timeout=5)


@dataclass
class Env:
    status_url: str  # the status function, served by the template
    gateway_url: str
    redis: redis.Redis
    settings: Settings

    def enqueue(self, **options: Any) -> str:
        response = requests.post(f"{self.gateway_url}/function/translate", headers={"X-API-Key": KEY},
                                 json={"prompt": PROMPT, "options": options}, timeout=10)
        assert response.status_code == 202, response.text
        return str(response.json()["id"])

    def drain(self) -> None:
        """Run the queued jobs in this thread with the warm worker class, as python-rq's own tests do."""
        from text2pixi.worker import WarmWorker

        WarmWorker([Queue(QUEUE, connection=self.redis)], connection=self.redis).work(burst=True)


@pytest.fixture(scope="module")
def env(backends: tuple[RedisServer, S3Server], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    r, s3 = backends
    variables = {
        "TEXT2PIXI_REDIS_URL": r.url, "TEXT2PIXI_S3_ENDPOINT_URL": s3.url, "TEXT2PIXI_S3_ACCESS_KEY": s3.access_key,
        "TEXT2PIXI_S3_SECRET_KEY": s3.secret_key, "TEXT2PIXI_API_KEY": KEY, "TEXT2PIXI_QUEUE_NAME": QUEUE,
        "TEXT2PIXI_SECRETS_DIR": str(tmp_path_factory.mktemp("no-secrets")), "TEXT2PIXI_MODEL": registry.SMALL_MODEL,
        "TEXT2PIXI_N_THREADS": "2", "TEXT2PIXI_MAX_RETRIES": "1", "TEXT2PIXI_JOB_RETRIES": "0",
        "TEXT2PIXI_REFINE_CHECKPOINTS": "0",
        "TEXT2PIXI_EVENTS_MAX_SECONDS": "900",  # one stream for the whole job, however slow this machine is
    }
    with pytest.MonkeyPatch.context() as mp:
        for name, value in variables.items():
            mp.setenv(name, value)
        get_settings.cache_clear()
        get_service.cache_clear()
        settings = Settings()
        Store(settings).ensure_buckets()
        from text2pixi.worker.warm import Warm, setup

        Warm.worker_name = "events-worker"
        setup(settings)
        index = import_template(mp)
        apps = {name: index.create_app(index.load_handler(ROOT / "functions" / name)) for name in ("status",
                                                                                                   "translate")}
        with serve_waitress(apps["status"]) as status_url, serve_waitress(apps["translate"]) as translate_url:
            gateway = Gateway(GatewaySettings(functions=f"status={status_url},translate={translate_url}"))
            with serve_waitress(create_app(gateway)) as gateway_url:
                yield Env(status_url, gateway_url, redis.Redis.from_url(r.url), settings)
            gateway.close()
        get_settings.cache_clear()
        get_service.cache_clear()


@dataclass
class Reader:
    """An SSE client in a thread: every event with the time it arrived."""

    url: str
    headers: dict[str, str] = field(default_factory=dict)
    stop_after: int | None = None  # disconnect after this many events
    got: list[tuple[float, Event]] = field(default_factory=list)
    status: int = 0
    content_type: str = ""
    error: BaseException | None = None
    thread: threading.Thread | None = None

    def start(self) -> Reader:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        return self

    def _run(self) -> None:
        try:
            with requests.get(self.url, headers={"X-API-Key": KEY, **self.headers}, stream=True,
                              timeout=(5, 60)) as response:
                self.status, self.content_type = response.status_code, response.headers.get("Content-Type", "")
                for event in parse_sse(response.iter_lines(decode_unicode=True)):
                    self.got.append((time.monotonic(), event))
                    if self.stop_after is not None and len(self.got) >= self.stop_after:
                        return
        except BaseException as exc:  # noqa: BLE001 - reported by join()
            self.error = exc

    def join(self, timeout: float = 120) -> list[Event]:
        assert self.thread is not None
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the event stream did not end"
        if self.error is not None:
            raise self.error
        return [event for _, event in self.got]


@pytest.fixture(scope="module")
def generation(env: Env) -> dict[str, Any]:
    """One real generation watched by three clients: straight, through the gateway, and one that reconnects."""
    job_id = env.enqueue()
    direct = Reader(f"{env.status_url}/{job_id}/events").start()
    gateway = Reader(f"{env.gateway_url}/function/status/{job_id}/events").start()
    first_half = Reader(f"{env.gateway_url}/function/status/{job_id}/events", stop_after=6).start()
    time.sleep(0.5)  # all three connected while the job is still queued
    t0 = time.monotonic()
    env.drain()
    t_end = time.monotonic()
    first_events = first_half.join()
    last_id = next(e.id for e in reversed(first_events) if e.id)
    second_half = Reader(f"{env.gateway_url}/function/status/{job_id}/events",
                         {"Last-Event-ID": last_id}).start()
    status = requests.get(f"{env.gateway_url}/function/status/{job_id}", headers={"X-API-Key": KEY}, timeout=10)
    return {"id": job_id, "direct": direct, "gateway": gateway, "first": first_events, "second": second_half.join(),
            "t0": t0, "t_end": t_end, "view": status.json()}


def test_events_arrive_in_order_while_the_model_writes(generation: dict[str, Any]) -> None:
    direct: Reader = generation["direct"]
    events = direct.join()
    assert direct.status == 200 and direct.content_type.startswith("text/event-stream")
    kinds = [e.type for e in events]
    assert kinds[0] == "queued" and events[0].payload() == {"position": 0} and events[0].id is None
    assert kinds[1:3] == ["started", "attempt"] and kinds[-1] == "finished", kinds
    assert events[1].payload()["worker"] == "events-worker" and events[1].payload()["expected_tokens"] > 0
    assert "tokens" in kinds and "object" in kinds and "stage" in kinds
    ids = [e.id for e in events if e.id]
    assert len(ids) == len(events) - 1 and ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-"))))
    view = generation["view"]
    assert view["status"] == "finished" and events[-1].payload() == {"id": generation["id"], "status": "finished"}
    # The last attempt's objects are the scene's, each once, in order, as they came complete.
    attempt = max(e.payload()["attempt"] for e in events if e.type == "attempt")
    objects = [e.payload() for e in events if e.type == "object" and e.payload()["attempt"] == attempt]
    assert [o["index"] for o in objects] == list(range(len(view["result"]["scene"]["objects"])))
    final = view["result"]["scene"]["objects"]
    if view["result"].get("fixes"):  # the sanity review moved or changed objects after they were written
        assert [(o["object"]["type"], o["object"]["id"]) for o in objects] == [(o["type"], o["id"]) for o in final]
    else:
        assert [o["object"] for o in objects] == final
    stage = [e.payload() for e in events if e.type == "stage"][-1]
    scene = view["result"]["scene"]
    assert stage == {"w": scene.get("w", 800), "h": scene.get("h", 600), "bg": scene.get("bg", "black")}
    tokens = [e.payload() for e in events if e.type == "tokens"]
    assert all(t["tokens"] > 0 and t["expected_tokens"] > 0 for t in tokens)
    assert [t["elapsed_s"] for t in tokens] == sorted(t["elapsed_s"] for t in tokens)
    # During the generation, not after it: the first object came well before the stream's end.
    arrival = {e.type: t for t, e in reversed(direct.got)}
    assert arrival["object"] < arrival["finished"] - 0.2, (arrival, generation["t_end"] - generation["t0"])


def test_the_gateway_passes_the_stream_on_unbuffered(generation: dict[str, Any]) -> None:
    direct, through = generation["direct"].join(), generation["gateway"].join()
    assert [(e.type, e.id, e.data) for e in through] == [(e.type, e.id, e.data) for e in direct]
    arrival = {e.type: t for t, e in reversed(generation["gateway"].got)}
    assert arrival["started"] < arrival["object"] < arrival["finished"] - 0.2


def test_a_client_that_reconnects_with_last_event_id_misses_nothing_and_sees_nothing_twice(
        generation: dict[str, Any], env: Env) -> None:
    full = [e for e in generation["direct"].join() if e.id]
    resumed = [e for e in generation["first"] + generation["second"] if e.id]
    assert [(e.id, e.data) for e in resumed] == [(e.id, e.data) for e in full]
    # After the end too, from the stream kept in Redis: header or query parameter, the same answer.
    k = len(full) // 2
    for headers, params in (({"Last-Event-ID": full[k].id}, None), ({}, {"last_event_id": full[k].id})):
        with requests.get(f"{env.status_url}/{generation['id']}/events", headers={"X-API-Key": KEY, **headers},
                          params=params, stream=True, timeout=10) as response:
            got = list(parse_sse(response.iter_lines(decode_unicode=True)))
        assert [(e.id, e.data) for e in got] == [(e.id, e.data) for e in full[k + 1:]]


def test_an_ended_job_whose_events_expired_gets_one_last_event(generation: dict[str, Any], env: Env) -> None:
    env.redis.delete(EVENTS_KEY.format(generation["id"]))
    got = Reader(f"{env.status_url}/{generation['id']}/events").start().join(10)
    assert [(e.type, e.id) for e in got] == [("finished", None)]


def test_a_failed_job_ends_with_failed(env: Env) -> None:
    job_id = env.enqueue(max_tokens=16)  # never enough for a scene: output_truncated
    reader = Reader(f"{env.gateway_url}/function/status/{job_id}/events").start()
    env.drain()
    events = reader.join()
    assert [e.type for e in events][:3] == ["queued", "started", "attempt"]
    assert events[-1].type == "failed"
    error = events[-1].payload()
    assert error["id"] == job_id and error["status"] == "failed" and error["error"]["error"] == "output_truncated"


def _blocked_readers(connection: redis.Redis) -> int:
    """Redis clients blocked in a command (flag b): an event stream's XREAD BLOCK that nobody reads any more."""
    return sum(1 for client in connection.client_list() if "b" in client.get("flags", ""))


def test_a_client_that_disconnects_frees_its_thread_and_connection(env: Env) -> None:
    job_id = env.enqueue()  # stays queued: no worker runs in this test
    events = get_service().events
    assert events.open_streams == 0
    events.heartbeat_s = 1.0  # through the gateway, the function learns of the disconnect when it next writes
    threads = threading.active_count()
    for url in (f"{env.status_url}/{job_id}/events", f"{env.gateway_url}/function/status/{job_id}/events"):
        with requests.get(url, headers={"X-API-Key": KEY}, stream=True, timeout=10) as response:
            first = next(parse_sse(response.iter_lines(decode_unicode=True)))
            assert first.type == "queued" and events.open_streams == 1
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and (events.open_streams or _blocked_readers(env.redis)):
            time.sleep(0.2)
        assert events.open_streams == 0, url
        assert _blocked_readers(env.redis) == 0
    assert threading.active_count() <= threads
    events.heartbeat_s = 15.0
    env.redis.delete(f"rq:queue:{QUEUE}")


def test_unknown_job_is_404_and_no_key_is_401_both_json(env: Env) -> None:
    for base in (env.status_url, f"{env.gateway_url}/function/status"):
        unknown = requests.get(f"{base}/{'0' * 32}/events", headers={"X-API-Key": KEY}, timeout=10)
        assert unknown.status_code == 404 and unknown.json()["error"] == "not_found"
        anonymous = requests.get(f"{base}/{'0' * 32}/events", timeout=10)
        assert anonymous.status_code == 401 and anonymous.json()["error"] == "unauthorized"
        bad = requests.get(f"{base}/{'0' * 32}/events", headers={"X-API-Key": KEY, "Last-Event-ID": "x"}, timeout=10)
        assert bad.status_code == 400 and json.loads(bad.text)["error"] == "invalid_request"


def test_submit_shows_progress_from_the_events(env: Env) -> None:
    import subprocess
    import sys

    queue = Queue(QUEUE, connection=env.redis)
    queue.empty()
    cli = subprocess.Popen([sys.executable, "-m", "text2pixi.ops.cli", "submit", PROMPT, "--gateway", env.gateway_url,
                            "--api-key", KEY, "--timeout", "600"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True)
    deadline = time.monotonic() + 30
    while queue.count == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # the command is following the stream by now
    env.drain()
    out, err = cli.communicate(timeout=600)
    assert cli.returncode == 0, err
    assert json.loads(out.splitlines()[0])["objects"]
    lines = err.splitlines()
    assert lines[0].startswith("# started on events-worker, about ")
    assert any(line.startswith("# object 0: ") for line in lines) and "# finished" in lines, err
    assert lines.index("# finished") > next(n for n, line in enumerate(lines) if line.startswith("# object 0: "))
