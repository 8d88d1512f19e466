"""One real local stack for the fault, fuzz, overload and security tests (they run in that order;
the chaos test leaves it healthy). Counts are small here; ``make chaos`` runs the long versions."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from text2pixi.settings import Settings

from . import harness


@pytest.fixture(scope="session")
def fault_stack(tmp_path_factory: pytest.TempPathFactory, small_settings: Settings) -> Iterator[harness.Stack]:
    logging.getLogger("text2pixi.service.jobs").setLevel(logging.ERROR)  # "redis unavailable" is expected here
    stack = harness.start(tmp_path_factory.mktemp("faults") / "stack")
    try:
        yield stack
    finally:
        harness.stop(stack)
