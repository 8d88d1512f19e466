// A job from prompt to stage: submit it (a prompt, or an instruction with the version to refine as its base),
// poll it with the progress steps and a clock, then show the result (stage, scene, code, versions, variants).

import { api, describe } from "./api.js";
import { $, seconds, setBusy, setControls, showError, showSteps, startClock, stopClock } from "./display.js";
import { play } from "./player.js";
import { pause, stopProgress, watchProgress } from "./progress.js";
import { current } from "./state.js";
import { clearVariants, showVariants } from "./variants.js";
import { loadVersions, showScene } from "./versions.js";

const JOB_ID = /^[0-9a-f]{32}$/;

/** Poll the job until it ends; the status line shows the step and the time since submission, and the job's event
 * stream (progress.js), where the browser has one, the tokens and the objects so far. */
async function follow(state, id, t0, mine) {
  let live; // the event stream, opened once the job is known not to have ended (a shared link of an old job)
  let view = { status: "queued" };
  startClock(state, t0, () => view.status === "queued"
    ? `Queued${typeof view.queue_position === "number" ? ` (position ${view.queue_position + 1})` : ""}`
    : "Generating");
  try {
    let delay = 250;
    for (;;) {
      view = await api(`api/status/${id}`);
      if (mine !== state.run) return null;
      showSteps(view.status);
      if (view.status === "finished" || view.status === "failed") return view;
      if (live === undefined) live = watchProgress(state, id, mine);
      await pause(live, delay);
      delay = Math.min(delay * 1.5, 1000);
    }
  } finally {
    stopClock(state);
    await stopProgress(live); // a partial draw under way ends before the finished scene is mounted
  }
}

function serverSeconds(view) {
  const a = Date.parse(view.created_at || ""), b = Date.parse(view.ended_at || "");
  return Number.isFinite(a) && Number.isFinite(b) ? Math.max(0, b - a) : null;
}

/** Follow job ``id`` and show how it ended; ``mine`` is the run it belongs to (a newer run wins). */
export async function show(state, id, t0, mine) {
  const view = await follow(state, id, t0, mine);
  if (view === null) return;
  const took = serverSeconds(view);
  const total = seconds(took === null ? performance.now() - t0 : took);
  if (view.status === "failed") {
    document.body.dataset.state = "failed";
    $("status").textContent = `Failed after ${total}.`;
    showError(describe(422, view.error));
    return;
  }
  const result = view.result;
  showScene(result);
  $("code").textContent = result.js;
  const timings = result.timings || {};
  $("meta").textContent = `${result.model} · ${result.output_tokens} tokens · generation `
    + `${seconds((timings.wall_s || 0) * 1000)} · ${result.worker || "worker"} · job ${view.id}`;
  await play(state, view.id);
  if (mine !== state.run) return;
  state.shown = view;
  setControls(state, view);
  await loadVersions(state, view);
  if (mine !== state.run) return;
  await showVariants(state, result);
  $("status").textContent = `Finished in ${total}.`;
  document.body.dataset.state = "playing";
}

export async function submit(state, prompt, base) {
  const mine = ++state.run;
  clearVariants(state);
  showError("");
  showSteps("");
  setBusy(true);
  const t0 = performance.now();
  $("status").textContent = "Submitting…";
  try {
    const accepted = await api("api/translate", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(Object.assign({ prompt }, base ? { base } : {},
        Number($("variants").value) > 1 ? { variants: Number($("variants").value) } : {})),
    });
    if (mine !== state.run) return;
    if (!JOB_ID.test(accepted.id || "")) throw new Error("The service answered without a job id.");
    history.replaceState(null, "", `#job=${accepted.id}`);
    await show(state, accepted.id, t0, mine);
  } catch (err) {
    if (mine !== state.run) return;
    stopClock(state);
    document.body.dataset.state = "error";
    $("status").textContent = "Not done.";
    showError(err instanceof Error ? err.message : String(err));
  } finally {
    if (mine === state.run) $("submit").disabled = false;
  }
}

/** Refine the version on screen; an unsaved edit is stored first (validated again) so it can be the base: a v2 edit
 * as its source (it stays v2), a v1 edit as its scene. */
export async function refine(state, instruction) {
  const v = current(state);
  if (!v) return;
  if (!v.id) {
    try {
      const saved = await api("api/edit", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(Object.assign({ base: v.from, note: v.label.slice(0, 200) },
                                           v.source ? { source: v.source } : { scene: v.scene })),
      });
      v.id = saved.id;
    } catch (err) {
      showError(err instanceof Error ? err.message : String(err));
      return;
    }
  }
  await submit(state, instruction, v.id);
}
