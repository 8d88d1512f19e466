// Download buttons for the stored version on screen: Lottie JSON, GIF, MP4, WebM and a PNG poster, from
// /ui/api/status/<id>/<format> (the proxy adds the key; the status function makes each file once, stores it in S3
// next to the result and serves it from there after). The file is fetched here rather than followed as a link, so
// the seconds a first GIF or video takes show as "Making…" on the button and a refusal is told in words; then it is
// saved as text2pixi-<id>.<ext>. An unsaved edit has no stored version, so the buttons wait for one.

import { describe } from "./api.js";

const FORMATS = { lottie: "json", gif: "gif", mp4: "mp4", webm: "webm", png: "png" };
const shown = { id: null };

const $ = (id) => document.getElementById(id);
const buttons = () => document.querySelectorAll("#downloads button[data-format]");

function say(text, failed) {
  const line = $("downloads-status");
  line.textContent = text;
  line.className = failed ? "failed" : "";
}

function size(bytes) {
  return bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} kB` : `${(bytes / 1048576).toFixed(1)} MB`;
}

/** The name the server gave the file (Content-Disposition), or text2pixi-<id>.<ext>. */
function filename(response, id, format) {
  const match = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "");
  return match ? match[1] : `text2pixi-${id}.${FORMATS[format]}`;
}

function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

async function download(button) {
  const id = shown.id;
  const format = button.dataset.format;
  if (!id || !(format in FORMATS)) return;
  const label = button.textContent;
  button.disabled = true;
  button.textContent = "Making…";
  say(`Making the ${label} of job ${id}…`, false);
  try {
    let response;
    try {
      response = await fetch(`api/status/${id}/${format}`, { cache: "no-store", credentials: "same-origin" });
    } catch (err) {
      throw new Error("Cannot reach the text2pixi gateway. Is the local stack running (make up)?");
    }
    if (!response.ok) {
      let body = null;
      try { body = await response.json(); } catch (err) { body = null; }
      throw new Error(describe(response.status, body, response.headers.get("Retry-After")));
    }
    const blob = await response.blob();
    if (id !== shown.id) return; // another version came on screen meanwhile
    const name = filename(response, id, format);
    save(blob, name);
    say(`Saved ${name} (${size(blob.size)}).`, false);
  } catch (err) {
    say(`${label}: ${err instanceof Error ? err.message : String(err)}`, true);
  } finally {
    button.textContent = label;
    button.disabled = shown.id === null;
  }
}

/** Wire the buttons once, when the page starts. */
export function bindDownloads() {
  for (const button of buttons()) button.addEventListener("click", () => download(button));
}

/** The stored version on screen ({id}), or null for none (an unsaved edit, a job that is not finished). */
export function setDownloads(job) {
  const id = job && /^[0-9a-f]{32}$/.test(job.id || "") ? job.id : null;
  if (id !== shown.id) say("", false);
  shown.id = id;
  for (const button of buttons()) if (button.textContent !== "Making…") button.disabled = id === null;
}
