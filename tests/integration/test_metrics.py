"""The worker's Prometheus metrics as a cluster scrapes them: over HTTP, on a non-loopback address of this
machine (a pod's address stands in for it), parsed with prometheus-client's own parser.

The queue gauges are read from a real redis-server at scrape time; the job metrics come from a real
``text2pixi worker`` process on SmolLM2 that ran one job.
"""

from __future__ import annotations

import ipaddress
import os
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from prometheus_client import start_http_server
from prometheus_client.parser import text_string_to_metric_families
from rq import Queue

from tests.backends import RedisServer, S3Server, wait_until
from text2pixi.core.contracts import TranslateRequest
from text2pixi.ops.localstack import free_port
from text2pixi.service import metrics
from text2pixi.service.jobs import Jobs
from text2pixi.service.store import Store
from text2pixi.settings import Settings

GOOD_PROMPT = "a pink rectangle"  # SmolLM2 answers this one validly (tests/integration/test_service.py)
_NO_PROXY = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def pod_address() -> str | None:
    """A non-loopback IPv4 address of this machine (the address of the route out; no packet is sent)."""
    candidates: list[str] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: only selects the outgoing interface
            candidates.append(probe.getsockname()[0])
        except OSError:
            pass
    try:
        candidates.append(socket.gethostbyname(socket.gethostname()))
    except OSError:
        pass
    return next((a for a in candidates if not ipaddress.ip_address(a).is_loopback), None)


@pytest.fixture(scope="module")
def scrape_host() -> str:
    """Where Prometheus connects: this machine's non-loopback address, or 127.0.0.1 if it has none."""
    address = pod_address()
    print(f"\nmetrics bound to 0.0.0.0, scraped via {address or '127.0.0.1 (no non-loopback address here)'}")
    return address or "127.0.0.1"


def scrape(host: str, port: int) -> dict[str, float]:
    """``{'name{label="v",...}': value}`` for every sample of an exposition, as Prometheus parses it."""
    with _NO_PROXY.open(f"http://{host}:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    samples: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{k}="{v}"' for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


@pytest.fixture()
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


def test_queue_gauges_read_rq_when_scraped(redis_server: RedisServer, scrape_host: str) -> None:
    """Waiting = RQ's queue length, running = its started registry, at scrape time; Redis down keeps the scrape up."""
    settings = Settings(redis_url=redis_server.url, queue_name="metrics-fast")
    jobs = Jobs(settings)  # opening the queue makes this process report it, as a function does
    server, thread = start_http_server(0, addr="0.0.0.0")
    port = server.server_port
    waiting, running = 'text2pixi_num_requests_waiting{queue="metrics-fast"}', \
        'text2pixi_num_requests_running{queue="metrics-fast"}'
    try:
        assert scrape(scrape_host, port)[waiting] == 0
        enqueued = [jobs.enqueue(TranslateRequest(prompt=f"a ball {n}"))[0] for n in range(3)]
        first = scrape(scrape_host, port)
        assert (first[waiting], first[running]) == (3, 0)
        # The operator's view (docs/deploy.md "Operating the queue") agrees: rq's own CLI.
        rq_cli = str(Path(sys.executable).with_name("rq"))
        info = subprocess.run([rq_cli, "info", "--raw", "--only-queues", "--url", redis_server.url, "metrics-fast"],
                              capture_output=True, text=True, timeout=30, check=True)
        assert "queue metrics-fast 3" in info.stdout, info.stdout
        # Running: a real RQ worker (rq's own CLI) busy with a job on a second queue this process reports.
        busy = Queue("metrics-busy", connection=redis.Redis.from_url(redis_server.url))
        metrics.QUEUES.watch([busy])
        busy.enqueue("time.sleep", 8)
        rq_worker = subprocess.Popen([rq_cli, "worker", "--burst", "--url", redis_server.url, "metrics-busy"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            running_busy = 'text2pixi_num_requests_running{queue="metrics-busy"}'
            wait_until(lambda: scrape(scrape_host, port)[running_busy] == 1, 30, "the rq worker to start the job")
            second = scrape(scrape_host, port)
            assert second['text2pixi_num_requests_waiting{queue="metrics-busy"}'] == 0
            assert (second[waiting], second[running]) == (3, 0), "the other queue is untouched"
            assert rq_worker.wait(timeout=60) == 0
            assert scrape(scrape_host, port)[running_busy] == 0
        finally:
            if rq_worker.poll() is None:
                rq_worker.kill()
                rq_worker.wait()
        assert len(enqueued) == 3
        redis_server.stop()
        down = scrape(scrape_host, port)
        assert waiting not in down and running not in down, "no made-up numbers"
        assert any(name.startswith("python_info") for name in down), "the rest of the scrape still answers"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def test_loopback_default_is_not_reachable_from_the_cluster(scrape_host: str) -> None:
    """Why the pod sets TEXT2PIXI_METRICS_HOST=0.0.0.0: the default (127.0.0.1) refuses the pod's address."""
    if scrape_host == "127.0.0.1":
        pytest.skip("this machine has no non-loopback address to try")
    assert str(Settings().metrics_host) == "127.0.0.1"
    server, thread = start_http_server(0, addr=str(Settings().metrics_host))
    try:
        assert scrape("127.0.0.1", server.server_port) is not None
        with pytest.raises(OSError):
            scrape(scrape_host, server.server_port)
    finally:
        server.shutdown()
        thread.join(timeout=5)


@pytest.mark.model
def test_worker_process_serves_job_metrics_on_the_pod_address(
        backends: tuple[RedisServer, S3Server], small_settings: Settings, scrape_host: str, tmp_path: Path) -> None:
    """A real ``text2pixi worker`` (small model) runs one job; its endpoint then shows TTFT/TPOT, tokens, latency."""
    r, s3 = backends
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "text2pixi-s3-access-key").write_text(s3.access_key)
    (secrets / "text2pixi-s3-secret-key").write_text(s3.secret_key)
    port = free_port()
    env = {"TEXT2PIXI_REDIS_URL": r.url, "TEXT2PIXI_S3_ENDPOINT_URL": s3.url, "TEXT2PIXI_SECRETS_DIR": str(secrets),
           "TEXT2PIXI_QUEUE_NAME": "metrics", "TEXT2PIXI_MODEL": small_settings.model, "TEXT2PIXI_N_THREADS": "2",
           "TEXT2PIXI_MAX_RETRIES": "1", "TEXT2PIXI_READY_FILE": str(tmp_path / "ready"),
           "TEXT2PIXI_METRICS_HOST": "0.0.0.0", "TEXT2PIXI_METRICS_PORT": str(port)}
    settings = small_settings.model_copy(update={"redis_url": r.url, "s3_endpoint_url": s3.url, "secrets_dir": secrets,
                                                 "queue_name": "metrics"})
    Store(settings).ensure_buckets()
    job, _ = Jobs(settings).enqueue(TranslateRequest(prompt=GOOD_PROMPT))
    clean = {k: v for k, v in os.environ.items() if not k.startswith("TEXT2PIXI_")}
    worker = subprocess.Popen([sys.executable, "-m", "text2pixi.worker", "--name", "metrics-test"],
                              env={**clean, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: job.get_status(refresh=True) in ("finished", "failed"), 300, "the job")
        outcome = job.return_value()
        assert job.get_status() == "finished" and outcome and outcome["ok"], outcome
        found = scrape(scrape_host, port)
    finally:
        worker.terminate()  # RQ's warm shutdown: it is idle, so it exits at once
        _, err = worker.communicate(timeout=60)
    ask = f'queue="{settings.queue_name}"'
    assert found[f"text2pixi_num_requests_waiting{{{ask}}}"] == 0
    assert found[f"text2pixi_num_requests_running{{{ask}}}"] == 0
    assert found['text2pixi_jobs_total{outcome="finished"}'] == 1
    attempts = found["text2pixi_time_to_first_token_seconds_count"]
    assert attempts >= 1 and found["text2pixi_time_to_first_token_seconds_sum"] > 0
    assert 1 <= found["text2pixi_time_per_output_token_seconds_count"] <= attempts  # attempts of > 1 token
    assert found["text2pixi_prompt_tokens_total"] > 0 and found["text2pixi_generation_tokens_total"] > attempts
    for name in ("e2e_request_latency", "request_queue_time", "request_inference_time"):
        assert found[f"text2pixi_{name}_seconds_count"] == 1, name
    assert found["text2pixi_e2e_request_latency_seconds_sum"] >= found["text2pixi_request_inference_time_seconds_sum"]
    assert found["text2pixi_model_load_seconds"] > 0
    assert "text2pixi_queue_depth" not in found and "text2pixi_job_seconds_count" not in found  # the old names
    assert worker.returncode == 0, err.decode()[-2000:]
    print(f"one job: {attempts:.0f} attempt(s), TTFT {found['text2pixi_time_to_first_token_seconds_sum']:.3f} s, "
          f"{found['text2pixi_generation_tokens_total']:.0f} tokens, "
          f"e2e {found['text2pixi_e2e_request_latency_seconds_sum']:.2f} s")


def test_metric_names_follow_the_inference_servers() -> None:
    """Base units and ``_total`` as vLLM/llama-server name theirs: every metric of ours is ``text2pixi_*``."""
    names = {m.name for c in (metrics.REQUESTS, metrics.JOBS, metrics.E2E_SECONDS, metrics.TTFT_SECONDS,
                              metrics.TPOT_SECONDS, metrics.PROMPT_TOKENS, metrics.GENERATION_TOKENS,
                              metrics.MODEL_LOAD_SECONDS, metrics.QUEUE_SECONDS, metrics.INFERENCE_SECONDS,
                              metrics.CHECKPOINTS) for m in c.describe()}
    assert {"text2pixi_time_to_first_token_seconds", "text2pixi_time_per_output_token_seconds",
            "text2pixi_e2e_request_latency_seconds", "text2pixi_prompt_tokens", "text2pixi_generation_tokens",
            "text2pixi_jobs", "text2pixi_requests"} <= names
    assert {m.name for m in metrics.QUEUES.describe()} == {"text2pixi_num_requests_waiting",
                                                           "text2pixi_num_requests_running"}
