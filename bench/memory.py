"""Memory per worker: peak RSS of a warm engine per model, and the KV cache at the configured n_ctx.

Each model is measured in a fresh child process that does what a worker does (load, prime, translate
one prompt with the fast decoder), so the peak resident set (VmHWM) is the worker's. The KV cache
size is computed from the GGUF metadata (layers × KV heads × head size × 2 (K and V) × 2 bytes, f16)
and printed beside it; the last column is how many such workers fit in the worker pod's memory limit.

    python bench/memory.py --models qwen2.5-coder-1.5b-instruct-q4_k_m smollm2-135m-instruct-q4_1

Prints a table; writes ``bench/results/memory-*.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from text2pixi import registry

LIMIT_MIB = 6 * 1024  # the worker pod's memory limit (infra/k3s, stack.yml): 6Gi
PROMPT = "three blue squares spinning in a row"


def kv_cache_bytes(metadata: dict[str, str], n_ctx: int) -> int:
    """f16 K and V for every layer and position: what llama.cpp allocates for ``n_ctx``."""
    arch = metadata["general.architecture"]
    layers = int(metadata[f"{arch}.block_count"])
    heads = int(metadata[f"{arch}.attention.head_count"])
    kv_heads = int(metadata.get(f"{arch}.attention.head_count_kv", heads))
    embd = int(metadata[f"{arch}.embedding_length"])
    head_dim = int(metadata.get(f"{arch}.attention.key_length", embd // heads))
    return n_ctx * layers * kv_heads * head_dim * 2 * 2


def _vm(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def child(model: str, threads: int, n_ctx: int) -> int:
    """Measure one worker-like process and print one JSON line."""
    logging.getLogger("instructor").setLevel(logging.CRITICAL)
    from text2pixi.core.errors import GenerationError
    from text2pixi.engine import Engine
    from text2pixi.settings import Settings

    before = _vm("VmRSS")
    engine = Engine(Settings(model=model, n_threads=threads, n_ctx=n_ctx))
    loaded = _vm("VmRSS")
    engine.prime()
    try:
        engine.translate(PROMPT)
        valid = True
    except GenerationError:
        valid = False
    print(json.dumps({
        "model": engine.model_id,
        "file_mib": round(engine.model_path.stat().st_size / 2**20, 1),
        "n_ctx": n_ctx,
        "kv_cache_mib": round(kv_cache_bytes(engine.llm.metadata, n_ctx) / 2**20, 1),
        "rss_python_mib": round(before, 1),
        "rss_loaded_mib": round(loaded, 1),
        "peak_rss_mib": round(_vm("VmHWM"), 1),
        "translated": valid,
    }))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", default=[registry.DEFAULT_MODEL, registry.SMALL_MODEL])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child(args.child, args.threads, args.n_ctx)

    rows: list[dict[str, Any]] = []
    print(f"{'model':40s} {'file':>8s} {'KV@' + str(args.n_ctx):>9s} {'loaded':>8s} {'peak':>8s} {'fit in 6Gi':>10s}")
    for model in args.models:
        out = subprocess.run([sys.executable, __file__, "--child", model, "--threads", str(args.threads),
                              "--n-ctx", str(args.n_ctx)], check=True, stdout=subprocess.PIPE, text=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        row["workers_per_6gi"] = int(LIMIT_MIB // row["peak_rss_mib"])
        rows.append(row)
        print(f"{row['model']:40s} {row['file_mib']:7.0f}M {row['kv_cache_mib']:8.0f}M {row['rss_loaded_mib']:7.0f}M "
              f"{row['peak_rss_mib']:7.0f}M {row['workers_per_6gi']:10d}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"memory-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps({"threads": args.threads, "n_ctx": args.n_ctx, "rows": rows}, indent=2) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
