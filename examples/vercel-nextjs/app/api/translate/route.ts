// POST /api/translate {"prompt": "..."} -> 202 {"id", "status"}: forwards to the gateway's translate function
// with X-API-Key from the server's environment (TEXT2PIXI_API_KEY); the browser never sees the key.
import { MAX_PROMPT_CHARS, callGateway, errorResponse, relayError } from "../../../lib/gateway";

export const dynamic = "force-dynamic";

export async function POST(request: Request): Promise<Response> {
  let body: unknown;
  try {
    body = await request.json();
  } catch {
    return errorResponse(400, "bad_json", 'send JSON like {"prompt": "a red ball bounces"}');
  }
  const prompt = typeof body === "object" && body !== null ? (body as { prompt?: unknown }).prompt : undefined;
  if (typeof prompt !== "string") {
    return errorResponse(400, "invalid_request", 'the body needs a "prompt" string');
  }
  if (prompt.length > MAX_PROMPT_CHARS * 4) {
    // The service checks the exact limit; this only keeps huge bodies off the wire.
    return errorResponse(413, "prompt_too_long", `the prompt is longer than ${MAX_PROMPT_CHARS} characters`);
  }
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  const idempotencyKey = request.headers.get("Idempotency-Key");
  if (idempotencyKey && idempotencyKey.length <= 200) headers["Idempotency-Key"] = idempotencyKey;
  // Only the prompt is forwarded: options such as max_tokens stay under the server's control.
  const upstream = await callGateway("/function/translate", {
    method: "POST",
    headers,
    body: JSON.stringify({ prompt }),
  });
  if (!upstream.ok) return relayError(upstream);
  const job = (await upstream.json()) as { id?: unknown; status?: unknown };
  if (typeof job.id !== "string") return errorResponse(502, "upstream_error", "the gateway answered without a job id");
  return Response.json({ id: job.id, status: job.status }, {
    status: upstream.status === 200 ? 200 : 202,
    headers: { "Cache-Control": "no-store", Location: `/api/status/${job.id}` },
  });
}
