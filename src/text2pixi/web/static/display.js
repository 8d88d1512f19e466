// What the page shows about the job: its elements by id, the status line and its clock, the progress steps, the
// error line, and which of the player's buttons work.

import { setDownloads } from "./downloads.js";

export const $ = (id) => document.getElementById(id);

const STEPS = ["queued", "started", "finished"];

export const seconds = (ms) => (ms / 1000).toFixed(1) + " s";

export function showError(text) {
  $("error").textContent = text || "";
  $("error").hidden = !text;
}

export function showSteps(status) {
  const at = STEPS.indexOf(status);
  for (const li of $("steps").children) {
    const k = STEPS.indexOf(li.dataset.step);
    li.className = status === "failed" ? (k === 0 ? "done" : k === 1 ? "failed" : "")
      : k < at || (k === at && status === "finished") ? "done" : k === at ? "active" : "";
  }
}

export function startClock(state, t0, label) {
  stopClock(state);
  const tick = () => { $("status").textContent = `${label()} · ${seconds(performance.now() - t0)}`; };
  tick();
  state.ticker = setInterval(tick, 100);
}

export function stopClock(state) {
  if (state.ticker !== null) clearInterval(state.ticker);
  state.ticker = null;
}

export function setBusy(busy) {
  $("submit").disabled = busy;
  document.body.dataset.state = busy ? "working" : document.body.dataset.state;
}

/** Replay and Pause follow the stage; Copy and Download need a stored version (an unsaved edit has none). */
export function setControls(state, job) {
  for (const id of ["replay", "pause"]) $(id).disabled = !job && !state.mainApp;
  $("copy").disabled = !job;
  const link = $("download");
  if (job) {
    link.href = `api/status/${job.id}/page.html`;
    link.setAttribute("download", `text2pixi-${job.id}.html`);
    link.setAttribute("aria-disabled", "false");
  } else {
    link.removeAttribute("href");
    link.setAttribute("aria-disabled", "true");
  }
  $("pause").textContent = "Pause";
  setDownloads(job);
}
