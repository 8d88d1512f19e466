// Talking to /ui/api, the same-origin proxy that adds the API key on the server (this page never sees it), and
// putting its errors in words.

const UNREACHABLE = "Cannot reach the text2pixi gateway. Is the local stack running (make up)?";

const sentence = (text) => (text ? text.charAt(0).toUpperCase() + text.slice(1) : text);

/** An error body ({"error", "message"}) in words a person can act on. */
export function describe(status, body, retryAfter) {
  const code = body && body.error;
  const message = sentence((body && body.message) || "");
  switch (code) {
    case "queue_full":
      return `The queue is full; try again in ${retryAfter || "a few"} seconds.`;
    case "generation_failed":
    case "output_truncated":
    case "runaway_generation":
    case "context_full":
      return `The model could not produce a valid scene (${code.replace("_", " ")}): ${message}`;
    case "service_unavailable":
    case "function_unavailable":
    case "function_timeout":
      return `The service is unavailable: ${message}`;
    case "job_timeout":
      return `The job took too long and was stopped: ${message}`;
    default:
      if (message) return message;
      return status ? `The service answered HTTP ${status}.` : "Something went wrong.";
  }
}

/** Call the proxy; the JSON body, or an Error whose message is the failure in words. */
export async function api(path, options) {
  let response;
  try {
    response = await fetch(path, Object.assign({ cache: "no-store", credentials: "same-origin" }, options));
  } catch (err) {
    throw new Error(UNREACHABLE);
  }
  let body = null;
  try {
    body = await response.json();
  } catch (err) {
    body = null; // not JSON: describe() falls back to the status code
  }
  if (!response.ok) throw new Error(describe(response.status, body, response.headers.get("Retry-After")));
  return body;
}

/** The script that plays a scene edited in this page: the server validates the scene before it answers. */
export const renderUrl = (scene) => "api/render.js?scene=" + encodeURIComponent(JSON.stringify(scene));

/** Ask for a scene script once, so that a scene the server refuses is told in words before it is mounted. */
export async function checkScript(url) {
  let response;
  try {
    response = await fetch(url, { cache: "no-store", credentials: "same-origin" });
  } catch (err) {
    throw new Error(UNREACHABLE);
  }
  if (!response.ok) {
    let body = null;
    try { body = await response.json(); } catch (err) { body = null; }
    throw new Error(describe(response.status, body));
  }
}
