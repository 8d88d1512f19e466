"""Peer benchmark: our engine (fast and reference decoders, v2 and v1) and our service against llama.cpp's llama-server.

All systems run on the same model file, thread count, context size and prompt set, in one run:

* ``llama-bench`` (pp128 / tg64): the engine's ceiling for this model and thread count;
* ``fast``: our engine as deployed: the model writes a v2 scene (``scene_language`` v2, compiled by
  ``text2pixi.core.v2``), fast decoder (sample first, forced tokens evaluated in batches);
* ``fast-v1``: the same engine and decoder with ``scene_language`` v1 (the model writes the compiled scene);
* ``reference``: our engine (v2) with the full-vocabulary grammar mask at every step, what
  llama-cpp-python's own ``response_format`` path does;
* ``llama-server``: llama.cpp's server built from the llama.cpp commit llama-cpp-python vendors
  (``scripts/build-llama-server.sh``, client in ``bench/peer_llama.py``), ``/v1/chat/completions`` with the
  v1 messages and ``response_format`` ``json_schema`` the v1 scene schema, ``cache_prompt``, temperature 0,
  streamed; the peer of the target ``fast / llama-server median wall <= 0.5``;
* ``llama-server-v2``: the same server process given the v2 messages and the schema our decoder enforces
  (``text2pixi.engine.replies.grammar_schema``); valid when the reply is a V2Scene that compiles. With both
  server systems the server has two slots (``n_ctx`` each) and each system's requests are pinned to its own;
* ``service`` (with ``--gateway``): ``translate`` → queue → warm worker → result, through a running
  local stack (``make up WORKERS=1 THREADS=2``), so it includes the service's overhead.

Each system lives in its own process for the whole run (the engines in child processes of this
script; the two llama-server systems share one), so peak RSS is per process; requests go to one system
at a time, rotating the order per prompt so slow drift on the machine spreads evenly. Every system gets the
chat messages of its scene language (system prompt and examples from ``text2pixi.core.prompt`` for v1,
``text2pixi.core.v2.prompt`` for v2) and a warm-up request before timing.

    python bench/peer.py --model qwen2.5-coder-1.5b-instruct-q4_k_m --threads 2 --prompts 8

Prints a table and a summary with the ratios and targets (and every system's median output tokens: v2
writes fewer); writes ``bench/results/peer-*.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import requests

from text2pixi import registry
from text2pixi.core.errors import SceneCompileError
from text2pixi.core.prompt import build_messages
from text2pixi.core.scene import Scene, scene_json_schema
from text2pixi.core.v2 import V2Scene, compile_scene
from text2pixi.core.v2.prompt import build_v2_messages
from text2pixi.engine.replies import grammar_schema
from text2pixi.settings import Settings

# The llama.cpp client beside this file (on sys.path when run as a script; not when imported by path).
if str(Path(__file__).resolve().parent) not in sys.path:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from peer_llama import LlamaServer, llama_bench, llama_bin_dir  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PROMPTS_FILE = Path(__file__).with_name("prompts.txt")
WARMUP_PROMPT = "a small grey square"
TARGETS = {
    "fast / llama-server median wall": "<= 0.5",
    "fast sampled decode / llama-bench tg": ">= 0.95",
    "fast forced-token rate / sampled decode rate": ">= 1.5",
    "cold / warm time to first token (fast)": ">= 5",
    "peak RSS fast / reference": "<= 1.10",
}
ISSUE_TARGET = {
    "ratio": "fast / llama-server median wall", "target": "<= 0.5",
    "means": "our engine as deployed (v2 scene language, fast decoder) end to end, against llama-server given "
             "the v1 messages and the v1 scene schema",
}
ENGINE_SYSTEMS = {  # system -> (decoder, scene language) of its engine child
    "fast": ("fast", "v2"),
    "fast-v1": ("fast", "v1"),
    "reference": ("reference", "v2"),
    "sample-first": ("sample-first", "v2"),
}
SERVER_SYSTEMS = {"llama-server": "v1", "llama-server-v2": "v2"}  # system -> scene language of its requests


def load_prompts(path: Path = PROMPTS_FILE) -> list[str]:
    """The prompt set: one per line, blank lines and '#' comments skipped."""
    lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


@dataclass
class Sample:
    """One request to one system."""

    system: str
    prompt: str
    valid: bool
    wall_s: float
    ttft_s: float
    output_tokens: int
    decode_tps: float
    attempts: int = 1
    sampled_tokens: int | None = None
    forced_tokens: int | None = None
    sampled_tps: float | None = None
    forced_tps: float | None = None
    max_draft: int | None = None  # drafts one model call may verify (text2pixi.engine.invariance)
    error: str | None = None
    output: str = ""


def validate(text: str) -> str | None:
    """None if ``text`` is a valid scene, else why not (one line)."""
    try:
        Scene.model_validate_json(text)
    except ValueError as exc:
        return " ".join(str(exc).split())[:300]
    return None


def validate_v2(text: str) -> str | None:
    """None if ``text`` is a v2 scene that compiles (:func:`text2pixi.core.v2.compile_scene`), else why not."""
    try:
        compile_scene(V2Scene.model_validate_json(text))
    except (ValueError, SceneCompileError) as exc:  # not valid in the language (pydantic), or does not compile
        return " ".join(str(exc).split())[:300]
    return None


def peak_rss_mb(pid: int) -> float:
    """A process's peak resident set (VmHWM) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


# --- our engine, in a child process -----------------------------------------------------------


def serve_engine(mode: str, model: str, threads: int, n_ctx: int, max_tokens: int) -> int:
    """Child side: load the engine with ``mode``'s decoder and scene language (``"fast:v2"``), answer JSON-line
    requests on stdin."""
    logging.getLogger("instructor").setLevel(logging.CRITICAL)
    from text2pixi.core.errors import GenerationError
    from text2pixi.engine import Engine

    decoder, language = mode.split(":")
    engine = Engine(Settings(model=model, n_threads=threads, n_ctx=n_ctx, decoder=decoder, scene_language=language))
    print(json.dumps({"ready": True, "load_s": engine.load_s}), flush=True)
    for line in sys.stdin:
        prompt = json.loads(line)["prompt"]
        t0 = time.perf_counter()
        prime_s = 0.0 if engine.prefix_tokens else engine.prime()  # the first request pays for the prefix
        try:
            t = engine.translate(prompt, max_tokens=max_tokens)
            answer: dict[str, Any] = {"valid": True, "output": t.scene_json}
        except GenerationError as exc:
            answer = {"valid": False, "error": str(exc), "output": exc.last_output}
        answer.update({"wall_s": time.perf_counter() - t0, "prime_s": prime_s, "max_draft": engine.max_draft})
        attempts = engine.last_attempts
        if attempts:
            first = attempts[0]
            answer.update({
                "attempts": len(attempts), "ttft_s": first.ttft_s,
                "output_tokens": sum(a.output_tokens for a in attempts),
                "forced_tokens": sum(a.forced_tokens for a in attempts),
                "decode_tps": first.decode_tps, "sampled_tps": first.sampled_tps, "forced_tps": first.forced_tps,
            })
        print(json.dumps(answer), flush=True)
    return 0


class EngineProcess:
    """The parent's handle on one engine child."""

    def __init__(self, system: str, model: str, threads: int, n_ctx: int, max_tokens: int) -> None:
        self.system = system
        decoder, language = ENGINE_SYSTEMS[system]
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve-engine", f"{decoder}:{language}", "--model", model,
             "--threads", str(threads),
             "--n-ctx", str(n_ctx), "--max-tokens", str(max_tokens)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
        self.load_s = float(self._read()["load_s"])

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"engine child {self.system} exited ({self.proc.wait()})")
        return dict(json.loads(line))

    def ask(self, prompt: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"prompt": prompt}) + "\n")
        self.proc.stdin.flush()
        return self._read()

    def sample(self, prompt: str) -> Sample:
        a = self.ask(prompt)
        sampled = a.get("output_tokens", 0) - a.get("forced_tokens", 0)
        return Sample(
            system=self.system, prompt=prompt, valid=a["valid"], wall_s=a["wall_s"], ttft_s=a.get("ttft_s", 0.0),
            output_tokens=a.get("output_tokens", 0), decode_tps=a.get("decode_tps", 0.0), attempts=a.get("attempts", 0),
            sampled_tokens=sampled, forced_tokens=a.get("forced_tokens"), sampled_tps=a.get("sampled_tps"),
            forced_tps=a.get("forced_tps"), max_draft=a.get("max_draft"), error=a.get("error"), output=a["output"],
        )

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        self.proc.wait(timeout=60)


# --- llama.cpp's llama-server (bench/peer_llama.py), in v1 or v2 --------------------------------


@dataclass
class ServerSystem:
    """A llama-server system: the (possibly shared) server, the scene language of its requests, its slot."""

    name: str
    server: LlamaServer
    language: str
    slot: int | None = None

    def sample(self, prompt: str) -> Sample:
        v2 = self.language == "v2"
        c = self.server.complete(build_v2_messages(prompt) if v2 else build_messages(prompt),
                                 grammar_schema() if v2 else scene_json_schema(), "V2Scene" if v2 else "Scene",
                                 slot=self.slot)
        error = validate_v2(c.text) if v2 else validate(c.text)
        return Sample(system=self.name, prompt=prompt, valid=error is None, wall_s=c.wall_s, ttft_s=c.ttft_s,
                      output_tokens=c.output_tokens, decode_tps=c.decode_tps, error=error, output=c.text)


# --- our service through a running stack -------------------------------------------------------


@dataclass
class Service:
    """translate → worker → result through a running gateway (``?wait`` holds the call until done)."""

    gateway: str
    api_key: str
    max_tokens: int

    def sample(self, prompt: str) -> Sample:
        t0 = time.perf_counter()
        response = requests.post(
            f"{self.gateway}/function/translate", params={"wait": 300}, timeout=330,
            headers={"X-API-Key": self.api_key},
            json={"prompt": prompt, "options": {"max_tokens": self.max_tokens}},
        )
        wall = time.perf_counter() - t0
        job = response.json()
        result = job.get("result") or {}
        attempts = result.get("attempts") or [{}]
        ok = job.get("status") == "finished"
        return Sample(
            system="service", prompt=prompt, valid=ok, wall_s=wall, ttft_s=float(attempts[0].get("ttft_s", 0.0)),
            output_tokens=sum(int(a.get("output_tokens", 0)) for a in attempts),
            decode_tps=float(attempts[0].get("decode_tps", 0.0)), attempts=len(attempts),
            forced_tokens=sum(int(a.get("forced_tokens", 0)) for a in attempts),
            error=None if ok else json.dumps(job.get("error"))[:300], output=json.dumps(result.get("scene")),
        )


# --- the run -------------------------------------------------------------------------------------


def median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def summarize(samples: list[Sample], bench: dict[str, float], rss: dict[str, float],
              cold: dict[str, float]) -> dict[str, Any]:
    """Per-system medians and the ratios the targets are about."""
    by: dict[str, list[Sample]] = {}
    for s in samples:
        by.setdefault(s.system, []).append(s)
    systems = {
        name: {
            "median_wall_s": round(median([s.wall_s for s in rows]), 3),
            "median_ttft_s": round(median([s.ttft_s for s in rows]), 3),
            "median_output_tokens": median([float(s.output_tokens) for s in rows]),
            "median_decode_tps": round(median([s.decode_tps for s in rows]), 2),
            "validity": round(sum(s.valid for s in rows) / len(rows), 3),
            "first_attempt_validity": round(sum(s.valid and s.attempts == 1 for s in rows) / len(rows), 3),
            "peak_rss_mb": round(rss.get(name, 0.0), 1),
        }
        for name, rows in by.items()
    }
    for name in ("fast", "fast-v1"):
        rows = by.get(name, [])
        if rows:
            systems[name]["median_sampled_tps"] = round(median([s.sampled_tps or 0.0 for s in rows]), 2)
            finite = [s.forced_tps for s in rows if s.forced_tps and s.forced_tps != float("inf")]
            systems[name]["median_forced_tps"] = round(median(finite), 2)
            systems[name]["forced_share"] = round(
                sum(s.forced_tokens or 0 for s in rows) / max(1, sum(s.output_tokens for s in rows)), 3)
    fast = by.get("fast", [])

    def ratio(a: float | None, b: float | None) -> float | None:
        return round(a / b, 3) if a and b else None

    wall = {name: v["median_wall_s"] for name, v in systems.items()}
    per_prompt = [a.wall_s / b.wall_s for a in fast for b in by.get("llama-server", [])
                  if a.prompt == b.prompt and b.wall_s > 0]
    ratios = {
        "fast / llama-server median wall": ratio(wall.get("fast"), wall.get("llama-server")),
        "fast / llama-server median of per-prompt wall ratios": round(median(per_prompt), 3) if per_prompt else None,
        "reference / llama-server median wall": ratio(wall.get("reference"), wall.get("llama-server")),
        "service / llama-server median wall": ratio(wall.get("service"), wall.get("llama-server")),
        "fast / reference median wall": ratio(wall.get("fast"), wall.get("reference")),
        "fast sampled decode / llama-bench tg": ratio(systems.get("fast", {}).get("median_sampled_tps"),
                                                      bench.get("tg64")),
        "fast sampled decode / llama-bench tg at the prompt depth": ratio(
            systems.get("fast", {}).get("median_sampled_tps"),
            next((v for k, v in bench.items() if k.startswith("tg64@d") and k.count("_") == 0), None)),
        "fast forced-token rate / sampled decode rate": ratio(systems.get("fast", {}).get("median_forced_tps"),
                                                              systems.get("fast", {}).get("median_sampled_tps")),
        "cold / warm time to first token (fast)": ratio(cold.get("fast"), systems.get("fast", {}).get("median_ttft_s")),
        "peak RSS fast / reference": ratio(rss.get("fast"), rss.get("reference")),
        # Reported, no target: v2 against the server given v2, and v1 against the server given v1.
        "fast / llama-server-v2 median wall": ratio(wall.get("fast"), wall.get("llama-server-v2")),
        "fast-v1 / llama-server median wall": ratio(wall.get("fast-v1"), wall.get("llama-server")),
    }
    value = ratios[ISSUE_TARGET["ratio"]]
    bound = float(ISSUE_TARGET["target"].removeprefix("<="))
    issue: dict[str, Any] = {**ISSUE_TARGET, "value": value, "met": None if value is None else value <= bound}
    return {"llama_bench": bench, "systems": systems, "cold_ttft_s": cold, "ratios": ratios, "targets": TARGETS,
            "issue_target": issue,
            "median_output_tokens": {name: v["median_output_tokens"] for name, v in systems.items()}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=registry.DEFAULT_MODEL)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--max-tokens", type=int, default=768)
    parser.add_argument("--prompts", type=int, default=8, help="how many prompts of bench/prompts.txt to run")
    parser.add_argument("--systems", default="fast,fast-v1,reference,llama-server,llama-server-v2",
                        help="comma-separated: fast, fast-v1, reference, sample-first, llama-server, "
                             "llama-server-v2, service")
    parser.add_argument("--gateway", default="http://127.0.0.1:8080", help="for the 'service' system")
    parser.add_argument("--api-key-file", type=Path, default=ROOT / ".stack" / "secrets" / "text2pixi-api-key")
    parser.add_argument("--skip-llama-bench", action="store_true")
    parser.add_argument("--bench-depth", type=int, default=2080,
                        help="llama-bench also measures at this context depth (the primed v2 prefix, 2056 "
                             "tokens, plus a prompt)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--serve-engine", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_engine:
        return serve_engine(args.serve_engine, args.model, args.threads, args.n_ctx, args.max_tokens)

    args.out.mkdir(parents=True, exist_ok=True)
    settings = Settings()
    model_path = registry.resolve(args.model, settings.models_dir)
    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    prompts = load_prompts()[: args.prompts]
    load_start = os.getloadavg()  # other processes compete for the same cores: recorded, not hidden
    print(f"model {model_path.name}, {args.threads} threads, n_ctx {args.n_ctx}, {len(prompts)} prompts, "
          f"systems {', '.join(systems)}; load average {load_start[0]:.1f}", flush=True)

    bench: dict[str, float] = {}
    on_server = [name for name in systems if name in SERVER_SYSTEMS]
    unknown = [name for name in systems if name not in ENGINE_SYSTEMS and name not in SERVER_SYSTEMS
               and name != "service"]
    if unknown:
        parser.error(f"unknown systems {', '.join(unknown)}")
    bin_dir = llama_bin_dir() if on_server or not args.skip_llama_bench else None
    if bin_dir is not None and not args.skip_llama_bench:
        bench = llama_bench(bin_dir, model_path, args.threads, args.bench_depth)
        print(f"llama-bench: {bench}", flush=True)

    runners: dict[str, Any] = {}
    cold: dict[str, float] = {}
    pids: dict[str, int] = {}
    server: LlamaServer | None = None
    try:
        if on_server:  # one server process for both languages, a slot each when both run
            assert bin_dir is not None
            server = LlamaServer(bin_dir, model_path, args.threads, args.n_ctx, args.max_tokens,
                                 args.out / "llama-server.log", slots=len(on_server))
            server.start()
        for name in systems:
            if name in ENGINE_SYSTEMS:
                proc = EngineProcess(name, args.model, args.threads, args.n_ctx, args.max_tokens)
                first = proc.ask(WARMUP_PROMPT)  # cold: load done, prefix not yet evaluated
                cold[name] = round(first.get("prime_s", 0.0) + first.get("ttft_s", 0.0), 3)
                runners[name], pids[name] = proc, proc.proc.pid
            elif name in SERVER_SYSTEMS:
                assert server is not None and server.proc is not None
                slot = on_server.index(name) if len(on_server) > 1 else None
                runner = ServerSystem(name, server, SERVER_SYSTEMS[name], slot)
                cold[name] = round(runner.sample(WARMUP_PROMPT).ttft_s, 3)
                runners[name], pids[name] = runner, server.proc.pid  # shared: the same peak RSS
            else:
                service = Service(args.gateway, args.api_key_file.read_text().strip(), args.max_tokens)
                service.sample(WARMUP_PROMPT)
                runners[name] = service

        samples: list[Sample] = []
        for i, prompt in enumerate(prompts):
            order = systems[i % len(systems):] + systems[: i % len(systems)]
            for name in order:
                s = runners[name].sample(prompt)
                samples.append(s)
                print(f"  [{i + 1:2d}] {name:15s} valid={s.valid!s:5s} tokens={s.output_tokens:4d} "
                      f"forced={s.forced_tokens if s.forced_tokens is not None else '-':>4} "
                      f"ttft={s.ttft_s:6.3f}s wall={s.wall_s:7.2f}s decode={s.decode_tps:5.1f} tok/s  {prompt}",
                      flush=True)
            walls = {s.system: s.wall_s for s in samples[-len(order):]}
            if "llama-server" in walls:
                print("       / llama-server wall: " + ", ".join(
                    f"{name} {walls[name] / walls['llama-server']:.2f}" for name in systems
                    if name != "llama-server"), flush=True)
        rss = {name: peak_rss_mb(pid) for name, pid in pids.items()}
        if bin_dir is not None and not args.skip_llama_bench:
            # The ceiling again at the end: on a shared host it drifts; the summary uses the mean.
            after = llama_bench(bin_dir, model_path, args.threads, args.bench_depth)
            print(f"llama-bench (end): {after}", flush=True)
            bench = {f"{key}_start": value for key, value in bench.items()} | {
                f"{key}_end": value for key, value in after.items()} | {
                key: round((bench[key] + after[key]) / 2, 2) for key in bench if key in after}
    finally:
        for runner in runners.values():
            if isinstance(runner, EngineProcess):
                runner.close()
        if server is not None:
            server.stop()

    summary = summarize(samples, bench, rss, cold)
    if server is not None:
        summary["llama_server"] = {"systems": on_server, "slots": server.slots, "n_ctx_per_slot": args.n_ctx}
    write_result("peer", args, argv, model_path, load_start, summary, samples)
    return 0


def write_result(name: str, args: argparse.Namespace, argv: list[str] | None, model_path: Path,
                 load_start: tuple[float, float, float], summary: dict[str, Any], samples: list[Sample]) -> Path:
    """Print the summary and write the whole run (command, machine load, every sample) to ``args.out``."""
    print(json.dumps(summary, indent=2))
    result = {
        "command": f"python bench/{name}.py " + " ".join(argv if argv is not None else sys.argv[1:]),
        "model": model_path.name, "threads": args.threads, "n_ctx": args.n_ctx, "max_tokens": args.max_tokens,
        "host": os.uname().nodename, "load_average_start": load_start, "load_average_end": os.getloadavg(),
        "summary": summary, "samples": [asdict(s) for s in samples],
    }
    path: Path = args.out / f"{name}-{model_path.stem}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {path}")
    return path


if __name__ == "__main__":
    sys.exit(main())
