// GET /api/status/<id> -> the job's state (queued|started|finished|failed) and, when finished, the scene and code.
// GET /api/status/<id>?format=html -> the standalone page (pixi.js inlined) for a sandboxed <iframe>.
import { JOB_ID, callGateway, errorResponse, relayError } from "../../../../lib/gateway";
import type { JobView } from "../../../../lib/gateway";

export const dynamic = "force-dynamic";

/** Next.js 15+ passes params as a Promise; tests pass Promise.resolve({ id }). */
export interface StatusContext {
  params: Promise<{ id: string }>;
}

const PAGE_CSP =
  "sandbox allow-scripts; default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; " +
  "img-src data: blob:; worker-src blob:; connect-src 'none'; frame-ancestors 'self'";

export async function GET(request: Request, context: StatusContext): Promise<Response> {
  const { id } = await context.params;
  if (!JOB_ID.test(id)) return errorResponse(400, "invalid_job_id", "a job id is 32 hexadecimal digits");
  const wantsPage = new URL(request.url).searchParams.get("format") === "html";
  const upstream = await callGateway(`/function/status/${id}${wantsPage ? "/html" : ""}`, { method: "GET" });
  if (!upstream.ok) return relayError(upstream);
  if (wantsPage) {
    // Model-made code runs only inside this page, in an opaque origin (CSP sandbox), never in the app's origin.
    return new Response(upstream.body, {
      status: 200,
      headers: {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": PAGE_CSP,
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "private, max-age=3600",
      },
    });
  }
  const view = (await upstream.json()) as JobView;
  const done = view.status === "finished" || view.status === "failed";
  return Response.json(view, { headers: { "Cache-Control": done ? "private, max-age=60" : "no-store" } });
}
