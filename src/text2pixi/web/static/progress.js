// Progress while a job runs, from the job's Server-Sent Events (/ui/api/status/<id>/events; the proxy adds the key,
// which an EventSource could not send): a bar with tokens so far / expected and the worker's elapsed time, the
// attempt and the re-ask reasons, and the objects drawn as they arrive (a partial scene: the objects so far, on the
// stage once known, no animations), redrawn at most every REDRAW_MS. Polling (jobs.js) still reads how the job
// ended: while the stream is live it polls slowly as a safety net and the stream wakes it at the end; without
// EventSource, or when the stream fails, the poll runs at its usual pace and nothing here is shown.

import { $, seconds } from "./display.js";
import { playScene } from "./player.js";

const REDRAW_MS = 300;
const LIVE_POLL_MS = 3000;
const TYPES = ["queued", "started", "attempt", "tokens", "object", "stage", "reask", "finished", "failed"];

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the stream did, for tests and for a look in the console: events, partial draws, in order, bounded. */
function note(entry) {
  const progress = globalThis.__TEXT2PIXI_PROGRESS__ || (globalThis.__TEXT2PIXI_PROGRESS__ = { log: [] });
  progress.log.push(Object.assign({ at: performance.now() }, entry));
  if (progress.log.length > 1000) progress.log.splice(0, progress.log.length - 1000);
}

function render(w) {
  const panel = $("progress");
  panel.hidden = !w.seen;
  if (!w.seen) return;
  const bar = $("progress-bar");
  const ratio = w.ended === "finished" ? 1 : w.expected > 0 ? Math.min(1, w.tokens / w.expected) : 0;
  bar.value = Math.round(ratio * 1000) / 10;
  const parts = [];
  if (w.position !== null && !w.started) parts.push(`queued, position ${w.position + 1}`);
  if (w.started) parts.push(`attempt ${w.attempt}`);
  if (w.expected > 0 || w.tokens > 0) parts.push(`${w.tokens} / ${w.expected || "?"} tokens`);
  const count = w.objects.filter(Boolean).length;
  if (w.started) parts.push(`${count} object${count === 1 ? "" : "s"}`);
  if (w.elapsed !== null) parts.push(seconds(w.elapsed * 1000));
  $("progress-text").textContent = parts.join(" · ");
  const list = $("reasks");
  list.replaceChildren(...w.reasons.map((text) => Object.assign(document.createElement("li"), { textContent: text })));
  list.hidden = !w.reasons.length;
}

function wake(w) {
  const waiters = w.waiters.splice(0);
  for (const resolve of waiters) resolve();
}

/** The objects so far (in index order) on the stage once known, without animations: what the page can show now. */
function partialScene(w) {
  const scene = { objects: w.objects.filter(Boolean), anims: [] };
  if (w.stage) Object.assign(scene, { w: w.stage.w, h: w.stage.h, bg: w.stage.bg });
  return scene;
}

function kick(state, w) {
  if (w.stopped || !w.dirty || w.timer !== null || w.drawing !== null) return;
  const wait = Math.max(0, w.lastDraw + REDRAW_MS - performance.now());
  w.timer = setTimeout(() => { w.timer = null; draw(state, w); }, wait);
}

function draw(state, w) {
  if (w.stopped || w.mine !== state.run) return;
  const scene = partialScene(w);
  w.dirty = false;
  if (!scene.objects.length) return;
  w.lastDraw = performance.now();
  w.drawing = playScene(state, scene)
    .then(() => note({ kind: "draw", objects: scene.objects.length, attempt: w.attempt }))
    // A partial scene the server refuses (say, two objects with one id) is skipped; the next one may pass.
    .catch((err) => note({ kind: "draw-refused", message: err instanceof Error ? err.message : String(err) }))
    .finally(() => { w.drawing = null; kick(state, w); });
}

function changed(state, w) {
  w.dirty = true;
  kick(state, w);
}

function newAttempt(w, attempt) {
  if (attempt <= w.attempt) return;
  w.attempt = attempt;
  w.objects = []; // a re-ask starts the scene over; the stage keeps the last drawing until its first object
}

function handle(state, w, type, data) {
  note({ kind: "event", type, data });
  if (w.stopped) return;
  switch (type) {
    case "queued":
      w.position = typeof data.position === "number" ? data.position : null;
      break;
    case "started":
      w.started = true;
      w.expected = data.expected_tokens || w.expected;
      break;
    case "attempt":
      w.started = true;
      newAttempt(w, data.attempt);
      break;
    case "tokens":
      w.started = true;
      newAttempt(w, data.attempt);
      w.tokens = data.tokens;
      w.expected = data.expected_tokens || w.expected;
      w.elapsed = typeof data.elapsed_s === "number" ? data.elapsed_s : w.elapsed;
      break;
    case "object":
      w.started = true;
      newAttempt(w, data.attempt);
      if (data.attempt === w.attempt && Number.isInteger(data.index) && data.object) {
        w.objects[data.index] = data.object;
        changed(state, w);
      }
      break;
    case "stage":
      w.stage = data;
      changed(state, w);
      break;
    case "reask":
      w.reasons.push(`Attempt ${data.attempt}: ${data.reason}`);
      break;
    case "finished":
    case "failed":
      w.ended = type;
      w.source.close();
      if (w.timer !== null) clearTimeout(w.timer); // the real scene is next: no partial draw starts now
      w.timer = null;
      wake(w);
      break;
    default:
      return;
  }
  if (type !== "finished" && type !== "failed") w.seen = true; // a job that ended before has nothing to show
  render(w);
}

/** Open the job's event stream for run ``mine`` (a newer run stops it); null when the browser has no EventSource. */
export function watchProgress(state, id, mine) {
  if (state.progress) stopProgress(state.progress);
  const w = { id, mine, current: () => state.progress === w, source: null, live: false, seen: false, started: false, ended: null, stopped: false,
              position: null, attempt: 1, tokens: 0, expected: 0, elapsed: null, objects: [], stage: null,
              reasons: [], dirty: false, timer: null, drawing: null, lastDraw: 0, waiters: [] };
  state.progress = w;
  render(w);
  if (typeof globalThis.EventSource !== "function") return null;
  try {
    w.source = new EventSource(`api/status/${id}/events`);
  } catch (err) {
    return null;
  }
  w.source.onopen = () => { w.live = true; };
  // The browser reconnects by itself (sending Last-Event-ID); meanwhile, and for good once it gives up (an HTTP
  // error such as a 404 from a gateway without the endpoint), the poll runs at its usual pace.
  w.source.onerror = () => { w.live = false; wake(w); };
  for (const type of TYPES) {
    w.source.addEventListener(type, (event) => {
      let data;
      try { data = JSON.parse(event.data); } catch (err) { return; }
      if (data && typeof data === "object") handle(state, w, type, data);
    });
  }
  return w;
}

/** Wait before the next poll: long while the stream is live (it wakes the poll when the job ends), else ``ms``. */
export function pause(w, ms) {
  if (!w || w.stopped || !w.live || w.ended) return sleep(w && w.ended ? Math.min(ms, 250) : ms);
  return new Promise((resolve) => {
    w.waiters.push(resolve);
    setTimeout(resolve, Math.max(ms, LIVE_POLL_MS));
  });
}

/** Close the stream and stop drawing; resolves once a partial draw under way is done, so it cannot replace the
 * finished scene that is mounted next. The view stays only when it has re-ask reasons to read. */
export function stopProgress(w) {
  if (!w) return Promise.resolve();
  if (w.current() && !w.reasons.length) $("progress").hidden = true;
  w.stopped = true;
  if (w.source) w.source.close();
  if (w.timer !== null) clearTimeout(w.timer);
  w.timer = null;
  wake(w);
  return w.drawing || Promise.resolve();
}
