// The events route (app/api/status/[id]/events/route.ts) against a local HTTP server that stands in for the
// gateway: a real server on a free loopback port, not a mock of fetch. Chunks come through as they are written,
// Last-Event-ID travels on, the key is added server-side, errors are JSON, and a client that goes away closes the
// upstream connection. No gateway needed:
//   node --import tsx --test test/events.test.ts
// (tests/browser/test_vercel_example.py runs it in the fast tier; test/handlers.test.ts streams a real job.)
import assert from "node:assert/strict";
import { once } from "node:events";
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, test } from "node:test";

import { GET } from "../app/api/status/[id]/events/route";

const KEY = "fake-gateway-key";
const JOB = "ab".repeat(16);
const ORIGIN = "http://localhost:3000";
const STARTED = 'id: 1700000000000-0\nevent: started\ndata: {"worker": "w1", "expected_tokens": 200}\n\n';
const OBJECT = 'id: 1700000000001-0\nevent: object\ndata: {"attempt": 1, "index": 0, "object": {"id": "ball"}}\n\n';
const FINISHED = `id: 1700000000002-0\nevent: finished\ndata: {"id": "${JOB}", "status": "finished"}\n\n`;

interface Upstream {
  path: string;
  key?: string;
  lastEventId?: string;
  closed: Promise<void>;
}

const calls: Upstream[] = [];
let proceed: () => void = () => {};

/** The gateway's events endpoint as the agreed format has it: 401 without the key, 404 for an unknown job, else
 * one event, a pause until the test says so (so the first chunk can only have come through unbuffered), the rest. */
async function gateway(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const call: Upstream = {
    path: req.url ?? "",
    key: req.headers["x-api-key"] as string | undefined,
    lastEventId: req.headers["last-event-id"] as string | undefined,
    closed: once(res, "close").then(() => undefined),
  };
  calls.push(call);
  const json = (status: number, error: string, message: string) => {
    res.writeHead(status, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ error, message }));
  };
  if (call.key !== KEY) return json(401, "unauthorized", "missing or wrong X-API-Key");
  if (call.path !== `/function/status/${JOB}/events`) return json(404, "not_found", "no job with that id");
  res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
  res.write(STARTED);
  await new Promise<void>((resolve) => { proceed = resolve; });
  if (res.destroyed) return;
  res.write(OBJECT);
  res.end(FINISHED);
}

const server = createServer((req, res) => void gateway(req, res));
const saved = { url: process.env.OPENFAAS_URL, key: process.env.TEXT2PIXI_API_KEY };

before(async () => {
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  process.env.OPENFAAS_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  process.env.TEXT2PIXI_API_KEY = KEY;
});

after(async () => {
  proceed();
  server.closeAllConnections();
  server.close();
  process.env.OPENFAAS_URL = saved.url;
  process.env.TEXT2PIXI_API_KEY = saved.key;
});

function events(id: string, init: RequestInit = {}, query = ""): Promise<Response> {
  return GET(new Request(`${ORIGIN}/api/status/${id}/events${query}`, init), { params: Promise.resolve({ id }) });
}

const decoder = new TextDecoder();

async function readAll(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return text;
    text += decoder.decode(value, { stream: true });
  }
}

describe("GET /api/status/[id]/events", () => {
  const name = "streams each chunk through as the gateway writes it, with Last-Event-ID and the key passed on";
  test(name, { timeout: 10_000 }, async () => {
    const response = await events(JOB, { headers: { "Last-Event-ID": "1699999999999-3" } });
    assert.equal(response.status, 200);
    assert.match(response.headers.get("Content-Type") ?? "", /^text\/event-stream/);
    assert.match(response.headers.get("Cache-Control") ?? "", /no-cache/);
    assert.equal(response.headers.get("X-Accel-Buffering"), "no");
    const call = calls.at(-1)!;
    assert.equal(call.key, KEY);
    assert.equal(call.lastEventId, "1699999999999-3");
    const reader = response.body!.getReader();
    const first = await reader.read(); // the upstream is still open and waiting: only an unbuffered relay gets here
    assert.equal(decoder.decode(first.value), STARTED);
    proceed();
    assert.equal(await readAll(reader), OBJECT + FINISHED);
    await call.closed;
  });

  test("?last_event_id= is passed on as the header", async () => {
    const response = await events(JOB, {}, "?last_event_id=1700000000001-0");
    assert.equal(calls.at(-1)!.lastEventId, "1700000000001-0");
    proceed();
    assert.equal(await response.text(), STARTED + OBJECT + FINISHED);
  });

  test("a client that goes away ends the upstream call", { timeout: 10_000 }, async () => {
    const client = new AbortController();
    const response = await events(JOB, { signal: client.signal });
    const reader = response.body!.getReader();
    assert.equal(decoder.decode((await reader.read()).value), STARTED);
    client.abort();
    await reader.read().catch(() => undefined);
    await calls.at(-1)!.closed; // the fake gateway sees its connection closed while it still waits to write
  });

  test("an unknown job is the gateway's 404, as JSON", async () => {
    const response = await events("0".repeat(32));
    assert.equal(response.status, 404);
    assert.match(response.headers.get("Content-Type") ?? "", /^application\/json/);
    assert.deepEqual(await response.json(), { error: "not_found", message: "no job with that id" });
  });

  test("a key the gateway refuses (its 401) is the server's problem, as JSON, without the key", async () => {
    process.env.TEXT2PIXI_API_KEY = "wrong-key";
    try {
      const response = await events(JOB);
      assert.equal(response.status, 502);
      const text = await response.text();
      assert.equal((JSON.parse(text) as { error: string }).error, "upstream_unauthorized");
      assert.ok(!text.includes("wrong-key") && calls.at(-1)!.key === "wrong-key");
    } finally {
      process.env.TEXT2PIXI_API_KEY = KEY;
    }
  });

  test("a malformed id is refused before any call", async () => {
    const before = calls.length;
    const response = await events("../translate");
    assert.equal(response.status, 400);
    assert.equal(((await response.json()) as { error: string }).error, "invalid_job_id");
    assert.equal(calls.length, before);
  });
});
