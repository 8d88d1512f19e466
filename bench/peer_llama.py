"""llama.cpp's own tools for the peer benchmark (bench/peer.py): llama-bench, and a llama-server client.

The binaries come from ``scripts/build-llama-server.sh`` (built once from the llama.cpp commit that
llama-cpp-python vendors, then cached). :class:`LlamaServer` runs one server process; its ``slots`` let two
systems share it (v1 and v2 requests), each request pinned to its own slot (``id_slot``) so each keeps its own
prompt cache, as one system alone would.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from text2pixi.ops.localstack import free_port, wait_until

ROOT = Path(__file__).resolve().parent.parent


def llama_bin_dir() -> Path:
    """Build (once, cached) and locate llama-server and llama-bench."""
    out = subprocess.run([str(ROOT / "scripts" / "build-llama-server.sh")], check=True, stdout=subprocess.PIPE,
                         text=True)
    return Path(out.stdout.strip().splitlines()[-1])


def llama_bench(bin_dir: Path, model_path: Path, threads: int, depth: int = 0) -> dict[str, float]:
    """llama-bench pp128 and tg64 (tokens/s, mean of its repetitions), on an empty context and at ``depth``.

    Requests decode after the primed prefix (about 1.2k tokens), where attention costs more per token than
    on llama-bench's default empty context: ``tg64@d<depth>`` is the ceiling at the depth they run at.
    """
    out = subprocess.run(
        [str(bin_dir / "llama-bench"), "-m", str(model_path), "-t", str(threads), "-p", "128", "-n", "64",
         "-d", ",".join(str(d) for d in sorted({0, depth})), "-r", "3", "-o", "json"],
        check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )
    rates: dict[str, float] = {}
    for row in json.loads(out.stdout):
        key = f"pp{row['n_prompt']}" if row["n_prompt"] else f"tg{row['n_gen']}"
        if row.get("n_depth"):
            key += f"@d{row['n_depth']}"
        rates[key] = round(float(row["avg_ts"]), 2)
    return rates


@dataclass
class Completion:
    """One streamed chat completion: the text and its timings."""

    text: str
    wall_s: float
    ttft_s: float
    output_tokens: int
    decode_tps: float


@dataclass
class LlamaServer:
    """A llama-server process on a free loopback port.

    With ``slots`` > 1 the server gets that many slots of ``n_ctx`` each (``-c`` is their sum) and does not copy
    idle slots to its prompt cache on every request (``--no-cache-idle-slots``): each system pins its requests
    to its own slot, so the other system's requests neither evict its prefix nor add copying to its time.
    """

    bin_dir: Path
    model_path: Path
    threads: int
    n_ctx: int
    max_tokens: int
    log_path: Path
    slots: int = 1
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        shared = ["--no-cache-idle-slots"] if self.slots > 1 else []
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen(
                [str(self.bin_dir / "llama-server"), "-m", str(self.model_path), "-t", str(self.threads),
                 "-tb", str(self.threads), "-c", str(self.n_ctx * self.slots), "-np", str(self.slots), *shared,
                 "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=log, stderr=subprocess.STDOUT,
            )
        url = f"http://127.0.0.1:{self.port}/health"
        wait_until("llama-server /health", lambda: _ok(url), timeout=120)

    def complete(self, messages: list[dict[str, str]], schema: dict[str, Any], name: str,
                 slot: int | None = None) -> Completion:
        """``/v1/chat/completions`` with ``response_format`` ``json_schema``, temperature 0, streamed."""
        body: dict[str, Any] = {
            "messages": messages,
            "temperature": 0.0,
            "max_tokens": self.max_tokens,
            "stream": True,
            "cache_prompt": True,
            "response_format": {"type": "json_schema", "json_schema": {"name": name, "schema": schema}},
        }
        if slot is not None:
            body["id_slot"] = slot
        t0 = time.perf_counter()
        first: float | None = None
        text, chunks = "", 0
        timings: dict[str, Any] = {}
        with requests.post(f"http://127.0.0.1:{self.port}/v1/chat/completions", json=body, stream=True,
                           timeout=600) as response:
            response.raise_for_status()
            for event in _sse(response.iter_lines()):
                timings = event.get("timings") or timings
                for choice in event.get("choices", []):
                    piece = (choice.get("delta") or {}).get("content")
                    if piece:
                        first = first or time.perf_counter()
                        text += piece
                        chunks += 1
        end = time.perf_counter()
        tokens = int(timings.get("predicted_n", chunks))
        decode = end - (first or end)
        return Completion(text=text, wall_s=end - t0, ttft_s=(first or end) - t0, output_tokens=tokens,
                          decode_tps=(tokens - 1) / decode if decode > 0 else 0.0)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


def _ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


def _sse(lines: Iterator[bytes]) -> Iterator[dict[str, Any]]:
    for raw in lines:
        if raw.startswith(b"data: ") and raw != b"data: [DONE]":
            yield json.loads(raw[6:])
