// GET /api/status/<id>/events -> the job's progress as Server-Sent Events (queued, started, attempt, tokens, object,
// stage, reask, then finished or failed), streamed through unchanged from the gateway's
// /function/status/<id>/events with the key added here (an EventSource cannot send headers, and must not hold the
// key anyway). Last-Event-ID, the header EventSource sends when it reconnects (or ?last_event_id=), travels on so
// the stream resumes after it; a client that goes away aborts the upstream call through request.signal.
import { JOB_ID, callGateway, errorResponse, relayError } from "../../../../../lib/gateway";
import type { StatusContext } from "../route";

export const dynamic = "force-dynamic";

export async function GET(request: Request, context: StatusContext): Promise<Response> {
  const { id } = await context.params;
  if (!JOB_ID.test(id)) return errorResponse(400, "invalid_job_id", "a job id is 32 hexadecimal digits");
  const headers: Record<string, string> = { Accept: "text/event-stream" };
  const lastEventId = request.headers.get("Last-Event-ID") ?? new URL(request.url).searchParams.get("last_event_id");
  if (lastEventId) headers["Last-Event-ID"] = lastEventId.slice(0, 200);
  const upstream = await callGateway(`/function/status/${id}/events`, { method: "GET", headers, signal: request.signal },
    true);
  if (!upstream.ok) return relayError(upstream);
  if (!upstream.body) return errorResponse(502, "upstream_error", "the gateway answered without an event stream");
  // The body is passed on as it arrives: no buffering here, and none in proxies that honour X-Accel-Buffering.
  return new Response(upstream.body, {
    status: 200,
    headers: {
      "Content-Type": "text/event-stream; charset=utf-8",
      "Cache-Control": "no-cache, no-transform",
      "X-Accel-Buffering": "no",
    },
  });
}
