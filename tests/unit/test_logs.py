from __future__ import annotations

import json
import logging

from text2pixi.service.logs import JobIdFilter, JsonFormatter


def test_json_lines_carry_the_job_id() -> None:
    record = logging.LogRecord("text2pixi.worker", logging.INFO, __file__, 1, "job done in %d ms", (12,), None)
    assert JobIdFilter().filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "job done in 12 ms" and entry["job_id"] == "-" and entry["level"] == "INFO"
