// Server-side only: the gateway URL and the API key come from the server's environment and never reach the
// browser. Route handlers import this; nothing here imports next/*, so the handlers run under plain Node too.

export const JOB_ID = /^[0-9a-f]{32}$/;
export const MAX_PROMPT_CHARS = 1000;
const TIMEOUT_MS = 15_000;

export interface GatewayConfig {
  url: string;
  apiKey: string;
}

/** The stack's error shape, {"error": code, "message": ...}, which the page shows in words. */
export interface ErrorBody {
  error: string;
  message: string;
}

export interface JobView {
  id: string;
  status: "queued" | "started" | "finished" | "failed";
  created_at?: string | null;
  started_at?: string | null;
  ended_at?: string | null;
  queue_position?: number | null;
  error?: ErrorBody | null;
  result?: {
    prompt: string;
    model: string;
    /** What the renderer plays: the compiled scene (objects with pixel positions, a flat animation list). */
    scene: { w?: number; h?: number; bg?: string; objects: unknown[]; anims?: unknown[] };
    /** "v2": the model wrote `source` (items with nested steps), compiled into `scene`; "v1": it wrote `scene`. */
    language?: "v1" | "v2";
    source?: { w?: number; h?: number; bg?: string; items: unknown[] } | null;
    js: string;
    output_tokens: number;
    timings: { wall_s: number };
  } | null;
}

export class ConfigError extends Error {}

/** Read per request, so a changed environment (or a test) takes effect without a restart. */
export function gatewayConfig(env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const url = (env.OPENFAAS_URL ?? "").trim().replace(/\/+$/, "");
  const apiKey = (env.TEXT2PIXI_API_KEY ?? "").trim();
  if (!url) throw new ConfigError("OPENFAAS_URL is not set on the server");
  if (!/^https?:\/\//.test(url)) throw new ConfigError("OPENFAAS_URL must start with http:// or https://");
  if (!apiKey) throw new ConfigError("TEXT2PIXI_API_KEY is not set on the server");
  return { url, apiKey };
}

export function errorResponse(status: number, error: string, message: string, headers?: HeadersInit): Response {
  const body: ErrorBody = { error, message };
  return Response.json(body, { status, headers: { "Cache-Control": "no-store", ...headers } });
}

/** Call the gateway with the key added here; network failures become a 502 Response instead of a throw.
 * With ``stream`` the timeout covers only the wait for the answer's headers (an event stream's body lasts as long
 * as the job), and ``init.signal`` (the client's request.signal) aborts the call when the client goes away. */
export async function callGateway(path: string, init: RequestInit = {}, stream = false): Promise<Response> {
  let config: GatewayConfig;
  try {
    config = gatewayConfig();
  } catch (err) {
    if (err instanceof ConfigError) return errorResponse(500, "server_misconfigured", err.message);
    throw err;
  }
  const headers = new Headers(init.headers);
  headers.set("X-API-Key", config.apiKey);
  const deadline = new AbortController();
  const timer = stream ? setTimeout(() => deadline.abort(), TIMEOUT_MS) : undefined;
  const timeout = stream ? deadline.signal : AbortSignal.timeout(TIMEOUT_MS);
  try {
    return await fetch(config.url + path, {
      ...init,
      headers,
      cache: "no-store",
      redirect: "manual",
      signal: init.signal ? AbortSignal.any([timeout, init.signal]) : timeout,
    });
  } catch (err) {
    const timedOut = deadline.signal.aborted || (err instanceof DOMException && err.name === "TimeoutError");
    return errorResponse(timedOut ? 504 : 502, "gateway_unreachable",
      timedOut ? "the text2pixi gateway did not answer in time" : "cannot reach the text2pixi gateway");
  } finally {
    clearTimeout(timer);
  }
}

/** The gateway's error answer, relayed; a refused key is the server's problem, so it is not blamed on the user. */
export async function relayError(upstream: Response): Promise<Response> {
  let body: Partial<ErrorBody> = {};
  try {
    body = (await upstream.json()) as Partial<ErrorBody>;
  } catch {
    body = {};
  }
  if (upstream.status === 401 || upstream.status === 403) {
    return errorResponse(502, "upstream_unauthorized", "the gateway refused this server's API key");
  }
  const headers: Record<string, string> = {};
  const retryAfter = upstream.headers.get("Retry-After");
  if (retryAfter) headers["Retry-After"] = retryAfter;
  return errorResponse(upstream.status, body.error ?? "upstream_error",
    body.message ?? `the gateway answered HTTP ${upstream.status}`, headers);
}
