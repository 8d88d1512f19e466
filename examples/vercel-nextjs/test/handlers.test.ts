// The route handlers called as plain functions with standard Requests, against a running text2pixi gateway:
//   OPENFAAS_URL=http://127.0.0.1:8080 TEXT2PIXI_API_KEY=... node --import tsx --test test/handlers.test.ts
// (pytest's tests/test_vercel_example.py starts a local stack and runs exactly this.)
import assert from "node:assert/strict";
import { after, describe, test } from "node:test";

import { GET as EVENTS } from "../app/api/status/[id]/events/route";
import { GET } from "../app/api/status/[id]/route";
import { POST } from "../app/api/translate/route";
import type { JobView } from "../lib/gateway";

const ORIGIN = "http://localhost:3000";
const PROMPT = process.env.TEXT2PIXI_TEST_PROMPT ?? "a pink rectangle";
const saved = { url: process.env.OPENFAAS_URL, key: process.env.TEXT2PIXI_API_KEY };
if (!saved.url || !saved.key) throw new Error("set OPENFAAS_URL and TEXT2PIXI_API_KEY to a running gateway");

function translate(body: string, headers: Record<string, string> = {}): Promise<Response> {
  return POST(new Request(`${ORIGIN}/api/translate`, {
    method: "POST",
    headers: { "Content-Type": "application/json", ...headers },
    body,
  }));
}

function status(id: string, query = ""): Promise<Response> {
  return GET(new Request(`${ORIGIN}/api/status/${encodeURIComponent(id)}${query}`), { params: Promise.resolve({ id }) });
}

const WAIT_MS = Number(process.env.TEXT2PIXI_TEST_TIMEOUT_MS ?? 240_000);

async function waitDone(id: string, timeoutMs = WAIT_MS): Promise<JobView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const response = await status(id);
    assert.equal(response.status, 200);
    const view = (await response.json()) as JobView;
    if (view.status === "finished" || view.status === "failed") return view;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${view.status}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
}

async function withEnv<T>(env: { url?: string; key?: string }, run: () => Promise<T>): Promise<T> {
  process.env.OPENFAAS_URL = env.url ?? "";
  process.env.TEXT2PIXI_API_KEY = env.key ?? "";
  try {
    return await run();
  } finally {
    process.env.OPENFAAS_URL = saved.url;
    process.env.TEXT2PIXI_API_KEY = saved.key;
  }
}

after(() => {
  process.env.OPENFAAS_URL = saved.url;
  process.env.TEXT2PIXI_API_KEY = saved.key;
});

describe("POST /api/translate then GET /api/status/[id]", () => {
  test("returns a job id (idempotent), polls it to finished, and serves the page", async () => {
    const headers = { "Idempotency-Key": `node-test-${process.pid}-${Date.now()}` };
    const accepted = await translate(JSON.stringify({ prompt: PROMPT }), headers);
    assert.equal(accepted.status, 202, await accepted.clone().text());
    const job = (await accepted.json()) as { id: string; status: string };
    assert.match(job.id, /^[0-9a-f]{32}$/);
    assert.ok(["queued", "started"].includes(job.status));
    assert.equal(accepted.headers.get("Location"), `/api/status/${job.id}`);
    const again = (await (await translate(JSON.stringify({ prompt: PROMPT }), headers)).json()) as { id: string };
    assert.equal(again.id, job.id); // a double submit does not cost a second generation

    const view = await waitDone(job.id);
    assert.equal(view.status, "finished", JSON.stringify(view.error));
    assert.ok(view.result && view.result.scene.objects.length > 0);
    // The stack's language decides what the model wrote: a v2 result carries its source, a v1 result none.
    assert.ok(view.result.language === "v1" || view.result.language === "v2", String(view.result.language));
    if (view.result.language === "v2") assert.ok(view.result.source && view.result.source.items.length > 0);
    else assert.equal(view.result.source ?? null, null);
    assert.match(view.result.js, /from "pixi\.js"/);

    const page = await status(job.id, "?format=html");
    assert.equal(page.status, 200);
    assert.match(page.headers.get("Content-Type") ?? "", /^text\/html/);
    assert.match(page.headers.get("Content-Security-Policy") ?? "", /^sandbox allow-scripts;/);
    const html = await page.text();
    assert.ok(html.includes("__PIXI_APP__") && html.startsWith("<!doctype html>"));
  });
});

interface SseEvent {
  id: string;
  event: string;
  data: Record<string, unknown>;
}

/** Read the events route to its end (the service ends the stream after finished or failed). */
async function readEvents(id: string, headers: Record<string, string> = {}): Promise<SseEvent[]> {
  const response = await EVENTS(new Request(`${ORIGIN}/api/status/${id}/events`, { headers }),
    { params: Promise.resolve({ id }) });
  assert.equal(response.status, 200, await response.clone().text());
  assert.match(response.headers.get("Content-Type") ?? "", /^text\/event-stream/);
  const text = await response.text();
  return text.split("\n\n").filter((block) => /^(id|event|data):/m.test(block)).map((block) => {
    const field = (name: string) => block.split("\n").filter((l) => l.startsWith(name + ":"))
      .map((l) => l.slice(name.length + 1).trimStart()).join("\n");
    return { id: field("id"), event: field("event"), data: JSON.parse(field("data") || "{}") as Record<string, unknown> };
  });
}

describe("GET /api/status/[id]/events", () => {
  test("streams a real job's progress through to finished; Last-Event-ID resumes after an event", async () => {
    const accepted = (await (await translate(JSON.stringify({ prompt: PROMPT }))).json()) as { id: string };
    const events = await readEvents(accepted.id);
    const kinds = events.map((e) => e.event);
    assert.ok(["finished", "failed"].includes(kinds.at(-1) ?? ""), kinds.join(","));
    assert.ok(kinds.includes("tokens") && kinds.indexOf("tokens") < kinds.length - 1, kinds.join(","));
    assert.ok(events.some((e) => e.event === "tokens" && Number(e.data.tokens) > 0), kinds.join(","));
    const view = await waitDone(accepted.id);
    assert.equal(kinds.at(-1), view.status);
    const first = events.find((e) => e.id);
    if (first && events.length > 2) {
      const rest = await readEvents(accepted.id, { "Last-Event-ID": first.id });
      assert.ok(rest.length >= 1 && rest.every((e) => e.id !== first.id));
      assert.equal(rest.at(-1)?.event, view.status);
    }
  });
});

describe("errors are JSON {error, message}", () => {
  test("the service's own check: an empty prompt", async () => {
    const response = await translate(JSON.stringify({ prompt: "   " }));
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: string; message: string };
    assert.equal(body.error, "empty_prompt");
    assert.match(body.message, /prompt is empty/);
  });

  test("bad JSON and a missing prompt never reach the gateway", async () => {
    const bad = await withEnv({}, () => translate("{oops"));
    assert.deepEqual([bad.status, ((await bad.json()) as { error: string }).error], [400, "bad_json"]);
    const missing = await withEnv({}, () => translate(JSON.stringify({ text: "x" })));
    assert.deepEqual([missing.status, ((await missing.json()) as { error: string }).error], [400, "invalid_request"]);
  });

  test("a malformed id is refused before any call; an unknown one is the gateway's 404", async () => {
    for (const id of ["../translate", "ABC", "0".repeat(31)]) {
      const response = await status(id);
      assert.equal(response.status, 400, id);
      assert.equal(((await response.json()) as { error: string }).error, "invalid_job_id");
    }
    const unknown = await status("0".repeat(32));
    assert.equal(unknown.status, 404);
    assert.equal(((await unknown.json()) as { error: string }).error, "not_found");
  });

  test("a wrong server key is reported as the server's problem, without echoing it", async () => {
    const response = await withEnv({ url: saved.url, key: "wrong-key" }, () => translate(JSON.stringify({ prompt: PROMPT })));
    assert.equal(response.status, 502);
    const text = await response.text();
    assert.match(text, /upstream_unauthorized/);
    assert.ok(!text.includes("wrong-key"));
  });

  test("missing configuration and an unreachable gateway", async () => {
    const unset = await withEnv({ key: saved.key }, () => translate(JSON.stringify({ prompt: PROMPT })));
    assert.equal(unset.status, 500);
    assert.match(((await unset.json()) as { message: string }).message, /OPENFAAS_URL/);
    const down = await withEnv({ url: "http://127.0.0.1:9", key: saved.key }, () => status("0".repeat(32)));
    assert.equal(down.status, 502);
    assert.equal(((await down.json()) as { error: string }).error, "gateway_unreachable");
  });
});
