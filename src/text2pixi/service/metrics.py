"""Prometheus metrics, defined once (prometheus-client, one registry per process)."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

REQUESTS = Counter("text2pixi_requests_total", "HTTP requests by function and status code", ["function", "code"])
QUEUE_DEPTH = Gauge("text2pixi_queue_depth", "jobs waiting in the queue, as last seen by this process")
JOB_SECONDS = Histogram("text2pixi_job_seconds", "wall time of one translation job in the worker",
                        buckets=(1, 2, 4, 8, 15, 30, 60, 120, 240))
TOKENS_PER_SECOND = Histogram("text2pixi_generation_tokens_per_second", "decode rate of the final attempt",
                              buckets=(1, 2, 5, 8, 10, 12, 15, 20, 30, 50, 100))
MODEL_LOAD_SECONDS = Gauge("text2pixi_model_load_seconds", "time to load the model in this worker")
JOBS = Counter("text2pixi_jobs_total", "translation jobs by outcome", ["outcome"])


def exposition() -> tuple[bytes, str]:
    """The text exposition of this process's metrics and its content type."""
    return generate_latest(), CONTENT_TYPE_LATEST
CHECKPOINTS = Counter("text2pixi_refine_checkpoints_total",
                      "refinement heads: prepared ahead of time by an idle worker, or at a refinement "
                      "restored from a checkpoint or evaluated in the job", ["event"])
