"""Logging set-up for the long-running processes: every line carries the job id it belongs to.

A filter reads the current RQ job (if any) so that log lines from our code, RQ, instructor or
llama-cpp-python inside a job all name it, without passing ids around. ``TEXT2PIXI_LOG_JSON=1``
(:attr:`text2pixi.settings.Settings.log_json`) switches to one JSON object per line for log collectors.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from rq import get_current_job

from text2pixi.settings import Settings, get_settings


class JobIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            job = get_current_job()
        except Exception:  # noqa: BLE001 - outside a job (or no Redis yet): no id
            job = None
        record.job_id = job.id if job is not None else "-"
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "job_id": getattr(record, "job_id", "-"),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure(level: int = logging.INFO, settings: Settings | None = None) -> None:
    """Root logging for a worker or gateway process (idempotent)."""
    handler = logging.StreamHandler()
    handler.addFilter(JobIdFilter())
    if (settings or get_settings()).log_json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [job %(job_id)s] %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("instructor").setLevel(logging.CRITICAL)  # we log its final error ourselves
