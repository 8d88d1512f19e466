"""HTTP fuzzing of the gateway and the functions behind it, driven by the published OpenAPI document.

Hypothesis generates the requests: every documented operation (and every path template with the
wrong methods), with path parameters, queries, headers and bodies drawn from hostile values:
wrong types, invalid UTF-8, NUL bytes, deep JSON, bodies past each size limit, malformed callback
URLs, long and repeated headers. A second strategy writes raw HTTP/1.1 bytes on a socket for what
a client library refuses to send (bytes ≥ 0x80 in the request line and headers, header floods,
bad framing). Each answer is checked against the document:

* no 5xx, and the status is one documented for that operation;
* no traceback or framework page in the body; JSON error bodies have ``error`` and ``message``;
* ``429`` carries ``Retry-After``, and the API key never comes back in a body.

Findings are collected (not raised) so one run reports every kind of failure with its count.

    python -m tests.faults.fuzz --count 10000                  # on a stack of its own
    python -m tests.faults.fuzz --url http://127.0.0.1:8080 --key KEY --count 500
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import socket
import string
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from text2pixi.web import openapi

TRACE = re.compile(r"Traceback \(most recent call last\)|File \"[^\"]+\", line \d+|<title>.*Error</title>|"
                   r"werkzeug\.|Internal Server Error", re.IGNORECASE | re.DOTALL)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD", "TRACE", "PROPFIND", "FOO")
FUNCTIONS = ("translate", "status", "warmup")
MAX_BODY = 16 * 1024  # the functions' TEXT2PIXI_MAX_BODY_BYTES default
GATEWAY_BODY = 1024 * 1024

# --- value strategies ----------------------------------------------------------------------

NASTY_TEXT = st.sampled_from([
    "", " ", "\x00", "\u2028", "\ud7ff", "🙂" * 50, "../../etc/passwd", "..%2f..%2f", "%00", "%ff%fe", "<script>",
    "' OR 1=1 --", "${jndi:ldap://x}", "{{7*7}}", "\\", "\r\nX-Injected: 1", "a" * 3000, "null", "[]", "{}",
    "NaN", "-1", "1e999", "0x10", "results/x.json", "models/x.gguf",
])
TEXT = st.one_of(NASTY_TEXT, st.text(max_size=60), st.text(string.printable, max_size=300))
NUMBER = st.one_of(st.integers(-10**20, 10**20), st.floats(allow_nan=True, allow_infinity=True),
                   st.sampled_from(["nan", "inf", "-inf", "1e309", "-0", "", " 1", "1,5", "0x1", "1_0"]))
JSON_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False), TEXT)
JSON_ANY = st.recursive(JSON_SCALAR, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                             st.dictionaries(TEXT, inner, max_size=4)),
                        max_leaves=12)
JOB_IDS = st.one_of(st.text("0123456789abcdef", min_size=32, max_size=32), TEXT, st.just("0" * 32),
                    st.text("0123456789abcdefABCDEF", min_size=31, max_size=33))
CALLBACKS = st.one_of(
    st.sampled_from(["http://[::1", "http://a:99999/", "http://127.0.0.1:1/x", "http://169.254.169.254/latest",
                     "ftp://x/", "javascript:alert(1)", "http://user:pw@example.com/", "http://" + "a" * 3000,
                     "http://exa mple.com/", "http://\x00/", "//no-scheme", "http://[fe80::1%25eth0]/",
                     "http://0x7f.1/", "http://2130706433/", "http:///", "https://example.com:0/"]),
    TEXT)


def deep_json(depth: int, kind: str) -> bytes:
    opening, closing = ("[", "]") if kind == "list" else ('{"a":', "}")
    return (opening * depth + "1" + closing * depth).encode()


BODIES = st.one_of(
    st.just(b""),
    TEXT.map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.builds(lambda p, o: json.dumps({"prompt": p, "options": o}).encode(), TEXT,
              st.one_of(JSON_ANY, st.fixed_dictionaries({}, optional={
                  "max_tokens": st.one_of(NUMBER, JSON_SCALAR), "temperature": st.one_of(NUMBER, JSON_SCALAR),
                  "seed": st.one_of(NUMBER, JSON_SCALAR), "extra": JSON_SCALAR}))),
    JSON_ANY.map(lambda v: json.dumps(v).encode()),
    st.binary(max_size=600),
    st.builds(lambda b: b"\xff\xfe" + b + b"\xc3\x28\xed\xa0\x80", st.binary(max_size=50)),
    st.builds(deep_json, st.integers(50, 8000), st.sampled_from(["list", "dict"])),
    st.sampled_from([MAX_BODY + 1, GATEWAY_BODY + 1, 3 * GATEWAY_BODY]).map(lambda n: b'{"prompt":"' + b"a" * n),
    st.just(b'{"prompt": "a ball", "prompt": 3}'),
    st.just(b'{"prompt": "\\ud800"}'),
)
CONTENT_TYPES = st.one_of(st.none(), st.sampled_from([
    "application/json", "text/plain", "application/xml", "multipart/form-data; boundary=x",
    "application/json; charset=latin-1", "application/x-www-form-urlencoded", "*/*", "json"]), TEXT)
NAMES = st.one_of(st.sampled_from(
    FUNCTIONS + ("translate.openfaas-fn", "translate.other", "redis", "s3", "results", "models", "..", "%2e%2e")), TEXT)


@dataclass
class Request:
    template: str
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


def fill(template: str, draw: Any) -> str:
    path = template
    if "{id}" in path:
        path = path.replace("{id}", quote(draw(JOB_IDS), safe=draw(st.sampled_from(["", "/", "/%"]))))
    if "{name}" in path:
        path = path.replace("{name}", quote(draw(NAMES), safe=""))
    if draw(st.integers(0, 9)) == 0:  # a tail the function sees as its own path
        path += "/" + quote(draw(TEXT), safe="/")
    return path


def template_of(template: str, path: str) -> str:
    """The operation a concrete path reaches: a tail added to a gateway path makes it an unknown one."""
    fixed = template.split("{")[0]
    if not template.startswith("/function/") and len(path) > len(template) and path.startswith(fixed):
        return "?" if "{" not in template and path != template else template
    return template


@st.composite
def requests_strategy(draw: Any, key: str) -> Request:
    doc = openapi.document()
    template = draw(st.sampled_from(sorted(doc["paths"])))
    documented = [m.upper() for m in doc["paths"][template]]
    method = draw(st.one_of(st.sampled_from(documented), st.sampled_from(METHODS)))
    query: dict[str, str] = {}
    for name in draw(st.lists(st.sampled_from(["wait", "id", "format", "namespace", "x", "prompt"]), max_size=3)):
        query[name] = str(draw(st.one_of(NUMBER, TEXT, st.just("0"), st.floats(0, 1).map(str))))
    if query.get("wait") is not None and draw(st.booleans()):
        query["wait"] = draw(st.sampled_from(["0", "0.2", "-1", "nan", "1e9", "abc"]))
    headers: dict[str, str] = {}
    auth = draw(st.sampled_from(["key", "key", "key", "none", "wrong", "prefix", "padded", "case"]))
    if auth != "none":
        headers["X-API-Key"] = {"key": key, "wrong": draw(TEXT), "prefix": key[:-1], "padded": key + " x",
                                "case": key.swapcase()}[auth]
    ctype = draw(CONTENT_TYPES)
    if ctype is not None:
        headers["Content-Type"] = ctype
    if draw(st.integers(0, 3)) == 0:
        headers["X-Callback-Url"] = draw(CALLBACKS)
    if draw(st.integers(0, 3)) == 0:
        headers["Idempotency-Key"] = draw(st.one_of(TEXT, st.text(min_size=190, max_size=400)))
    if draw(st.integers(0, 4)) == 0:
        headers["Origin"] = draw(st.sampled_from(["https://app.vercel.app", "https://evil.com", "null",
                                                  "https://a.b.vercel.app", "https://app.vercel.app.evil.com"]))
        if method == "OPTIONS":
            headers["Access-Control-Request-Method"] = "POST"
    if draw(st.integers(0, 9)) == 0:  # a header flood (kept under the server's 256 KiB header limit)
        for i in range(draw(st.integers(50, 400))):
            headers[f"X-Flood-{i}"] = "v" * draw(st.integers(0, 200))
    body = draw(BODIES) if method not in ("GET", "HEAD", "OPTIONS") or draw(st.integers(0, 5)) == 0 else b""
    # Clients cannot send non-latin-1 header values; the raw strategy covers those bytes.
    headers = {k: v.encode("latin-1", "replace").decode("latin-1").replace("\r", " ").replace("\n", " ")
               .replace("\x00", " ").strip() for k, v in headers.items()}
    path = fill(template, draw)
    return Request(template_of(template, path), method, path, query, headers, body)


RAW_LINES = st.one_of(
    st.builds(lambda p: b"GET /function/status/" + p + b" HTTP/1.1", st.binary(min_size=1, max_size=40)),
    st.builds(lambda p: b"POST /function/" + p + b" HTTP/1.1", st.binary(min_size=1, max_size=40)),
    st.sampled_from([b"GET / HTTP/1.1", b"GET http://127.0.0.1:1/results/x.json HTTP/1.1",
                     b"CONNECT 127.0.0.1:6379 HTTP/1.1",
                     b"GET /function/translate HTTP/9.9", b"GET /function/translate", b"\x16\x03\x01\x02\x00",
                     b"PRI * HTTP/2.0", b"GET /" + b"a" * 70000 + b" HTTP/1.1", b"G\x00T / HTTP/1.1",
                     b"POST /function/translate HTTP/1.1", b"GET /function/status/..%2f..%2fresults HTTP/1.1"]),
)


@st.composite
def raw_strategy(draw: Any, key: str) -> bytes:
    line = draw(RAW_LINES)
    headers = [b"Host: 127.0.0.1", b"X-API-Key: " + key.encode()]
    kind = draw(st.sampled_from(["plain", "bytes", "flood", "huge", "framing", "chunked", "nul"]))
    body = b""
    if kind == "bytes":
        headers.append(b"X-Callback-Url: http://" + draw(st.binary(min_size=1, max_size=30)).replace(b"\r", b"")
                       .replace(b"\n", b""))
        headers.append(b"Content-Type: application/json; charset=\xff")
    elif kind == "flood":
        headers += [b"X-F%d: %s" % (i, b"v" * 100) for i in range(draw(st.integers(500, 4000)))]
    elif kind == "huge":
        headers.append(b"X-Big: " + b"x" * draw(st.sampled_from([70000, 300000])))
    elif kind == "framing":
        cl = draw(st.sampled_from([b"-1", b"abc", b"99999999999999999999", b"10, 20", b"5"]))
        headers.append(b"Content-Length: " + cl)
        body = draw(st.binary(max_size=20))
    elif kind == "chunked":
        headers.append(b"Transfer-Encoding: chunked")
        body = draw(st.sampled_from([b"zz\r\nabc\r\n0\r\n\r\n", b"5\r\nab", b"ffffffffffffffff\r\n", b"0\r\n\r\n",
                                     b"3\r\n{\xff}\r\n0\r\n\r\n"]))
    elif kind == "nul":
        headers.append(b"X-API-Key: a\x00b")
    if kind not in ("framing", "chunked") and body == b"":
        headers.append(b"Content-Length: 0")
    return line + b"\r\n" + b"\r\n".join(headers) + b"\r\n\r\n" + body


@dataclass
class Tally:
    """What the fuzzer saw: answers by status, and every finding (kind -> count, first example)."""

    requests: int = 0
    raw: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    closed_without_answer: int = 0
    findings: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    def find(self, kind: str, example: str) -> None:
        self.findings[kind] += 1
        self.examples.setdefault(kind, example[:500])

    def summary(self) -> dict[str, Any]:
        wall = time.monotonic() - self.started
        return {"requests": self.requests + self.raw, "structured": self.requests, "raw": self.raw,
                "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
                "5xx": sum(v for k, v in self.statuses.items() if k >= 500),
                "closed_without_answer": self.closed_without_answer, "findings": dict(self.findings),
                "examples": self.examples, "wall_s": round(wall, 1),
                "requests_per_s": round((self.requests + self.raw) / wall, 1) if wall else None}


def check(tally: Tally, req: Request | None, status: int, headers: dict[str, str], body: bytes, key: str,
          what: str) -> None:
    tally.statuses[status] += 1
    text = body.decode("utf-8", "replace")
    if status >= 500:
        tally.find(f"{status} answer", f"{what} -> {text[:300]}")
    if TRACE.search(text) and not (req and "/html" in req.template and status == 200):
        tally.find("stack trace or framework page in body", f"{what} -> {text[:300]}")
    if key and key in text:
        tally.find("API key echoed in body", what)
    if req is not None:
        allowed = openapi.documented_statuses(req.template, req.method) | {200, 204}
        if status not in allowed:
            tally.find(f"undocumented {status} for {req.method} {req.template}", f"{what} -> {text[:300]}")
    if req is not None and req.method == "HEAD":  # no body to check
        return
    content_type = headers.get("content-type", "")
    # The HTTP server answers unparseable framing itself, in plain text, before any of our code runs:
    # 400 (bad request line or header), 413 (Content-Length over 1 GiB), 431 (headers over 256 KiB).
    by_server = status in (400, 413, 431) and "(generated by waitress)" in text
    if status >= 400 and status not in (400, 431) and not by_server and "json" not in content_type:
        tally.find(f"non-JSON {status} error", f"{what} -> {content_type} {text[:200]}")
    if status >= 400 and "json" in content_type:
        try:
            data = json.loads(text)
            if not (isinstance(data, dict) and isinstance(data.get("error"), str) and "message" in data):
                tally.find("JSON error without error/message", f"{what} -> {text[:200]}")
        except ValueError:
            tally.find("JSON content type, body not JSON", f"{what} -> {text[:200]}")
    if status == 429 and not headers.get("retry-after", "").isdigit():
        tally.find("429 without Retry-After", what)


def send(base: str, session: requests.Session, req: Request, key: str, tally: Tally) -> None:
    url = base + req.path
    what = f"{req.method} {req.path[:120]} q={str(req.query)[:120]} body={req.body[:80]!r}"
    try:
        answer = session.request(req.method, url, params=req.query, headers=req.headers, data=req.body,
                                 timeout=30, allow_redirects=False)
    except requests.ConnectionError:
        tally.closed_without_answer += 1
        return
    except requests.RequestException as exc:
        tally.find(f"client error {type(exc).__name__}", what)
        return
    tally.requests += 1
    check(tally, req, answer.status_code, {k.lower(): v for k, v in answer.headers.items()}, answer.content, key,
          what)


def send_raw(base: str, payload: bytes, key: str, tally: Tally) -> None:
    parts = urlsplit(base)
    what = f"raw {payload[:120]!r}"
    try:
        with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
            try:
                sock.sendall(payload)
            except OSError:
                pass
            data = b""
            sock.settimeout(10)
            while True:
                try:
                    chunk = sock.recv(65536)
                except TimeoutError:
                    break
                except OSError:
                    break
                if not chunk:
                    break
                data += chunk
                head, sep, rest = data.partition(b"\r\n\r\n")
                if sep:
                    lengths = re.search(rb"(?i)content-length:\s*(\d+)", head)
                    if lengths and len(rest) >= int(lengths.group(1)):
                        break
    except OSError:
        data = b""
    tally.raw += 1
    match = re.match(rb"HTTP/1\.[01] (\d{3})", data)
    if not match:
        tally.closed_without_answer += 1
        return
    head, _, body = data.partition(b"\r\n\r\n")
    headers = {}
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    check(tally, None, int(match.group(1)), headers, body, key, what)


def run_fuzz(base: str, key: str, count: int, *, raw_share: float = 0.1) -> dict[str, Any]:
    """Send ``count`` generated requests (``raw_share`` of them as raw bytes); returns the tally's summary."""
    tally = Tally()
    session = requests.Session()
    n_raw = int(count * raw_share)
    common = settings(max_examples=count - n_raw, deadline=None, phases=[Phase.generate], database=None,
                      derandomize=True, suppress_health_check=list(HealthCheck))

    @common
    @given(requests_strategy(key))
    def structured(req: Request) -> None:
        send(base, session, req, key, tally)

    @settings(common, max_examples=max(1, n_raw))
    @given(raw_strategy(key))
    def raw(payload: bytes) -> None:
        send_raw(base, payload, key, tally)

    structured()
    if n_raw:
        raw()
    session.close()
    return tally.summary()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=None, help="a running gateway (default: start a stack of our own)")
    parser.add_argument("--key", default=None, help="its API key (sent on most requests to reach the parsers)")
    parser.add_argument("--count", type=int, default=10000)
    parser.add_argument("--json", type=Path, default=None, help="write the report here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    if args.url:
        result = run_fuzz(args.url.rstrip("/"), args.key or "", args.count)
    else:
        from tests.faults import harness

        with tempfile.TemporaryDirectory(prefix="text2pixi-fuzz-") as tmp:
            # ?wait= and warmup block up to MAX_WAIT: 1 s keeps 10,000 requests within minutes.
            stack = harness.start(Path(tmp) / "stack", extra_env={"TEXT2PIXI_MAX_WAIT": "1"})
            try:
                result = run_fuzz(stack.cfg.gateway_url, stack.key, args.count)
                result["restarted_processes"] = [p for p, pid in stack.pids().items() if not pid]
            finally:
                harness.stop(stack)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n")
    return 1 if result["findings"] or result["5xx"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
