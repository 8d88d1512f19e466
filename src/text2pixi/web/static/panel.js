// The property panel: direct edits of the object chosen in it (colour, position, size, and its animations' duration,
// easing and loop), re-rendered without the model. A good edit is handed to the commit function main.js gives.

import { $, showError } from "./display.js";
import { playScene } from "./player.js";
import { current } from "./state.js";

const EASES = ["linear", "easeIn", "easeOut", "easeInOut", "bounce", "elastic", "back"];

const SIZE_KEY = { circle: "r", star: "r", text: "size", line: "width", rect: "w", roundrect: "w", ellipse: "w",
                   triangle: "w" };

function toHex(color) {
  if (/^#[0-9a-f]{6}$/i.test(color || "")) return color.toLowerCase();
  const probe = document.createElement("canvas").getContext("2d");
  probe.fillStyle = "#000000";
  probe.fillStyle = color || "white";
  return /^#[0-9a-f]{6}$/i.test(probe.fillStyle) ? probe.fillStyle : "#ffffff";
}

/** Show the chosen object's values (the first object's when the choice is gone) from the version on screen. */
export function fillPanel(state) {
  const v = current(state);
  const select = $("p-object");
  const ids = v ? v.scene.objects.map((o) => o.id) : [];
  const keep = ids.includes(select.value) ? select.value : ids[0];
  select.replaceChildren(...ids.map((id) => Object.assign(document.createElement("option"), { value: id, textContent: id })));
  if (keep) select.value = keep;
  select.disabled = !v;
  const obj = v && v.scene.objects.find((o) => o.id === keep);
  const anims = v && obj ? (v.scene.anims || []).filter((a) => a.target === obj.id) : [];
  const fields = ["p-color", "p-x", "p-y", "p-size"];
  for (const id of fields) $(id).disabled = !obj;
  for (const id of ["p-dur", "p-ease", "p-loop"]) $(id).disabled = !anims.length;
  if (!obj) return;
  $("p-color").value = toHex(obj.color);
  $("p-x").value = obj.x;
  $("p-y").value = obj.y;
  const key = SIZE_KEY[obj.type];
  $("p-size").disabled = !key;
  $("p-size").value = key ? (obj[key] ?? (key === "size" ? 32 : key === "width" ? 4 : "")) : "";
  if (anims.length) {
    $("p-dur").value = anims[0].dur ?? 1;
    $("p-ease").value = anims[0].ease ?? "linear";
    $("p-loop").checked = anims.every((a) => a.repeat === -1);
  }
}

/** Apply one property change to a copy of the scene on screen, re-render it, and commit it as the new version. */
async function editProperty(state, commit, label, change) {
  const v = current(state);
  const id = $("p-object").value;
  if (!v || !id) return;
  const scene = structuredClone(v.scene);
  const obj = scene.objects.find((o) => o.id === id);
  change(obj, (scene.anims || []).filter((a) => a.target === id), scene);
  showError("");
  try {
    await playScene(state, scene);
  } catch (err) {
    showError(err instanceof Error ? err.message : String(err));
    fillPanel(state); // back to the values on screen
    return;
  }
  commit(state, v, scene, id, label);
}

/** Wire the panel's inputs; ``commit(state, base, scene, id, label)`` makes a played edit the version on screen. */
export function bindPanel(state, commit) {
  const edit = (label, change) => editProperty(state, commit, label, change);
  const int = (id) => Math.round(Number($(id).value));
  $("p-object").addEventListener("change", () => fillPanel(state));
  $("p-color").addEventListener("change", () => edit("colour", (o) => { o.color = $("p-color").value; }));
  $("p-x").addEventListener("change", () => edit("x", (o) => {
    const dx = int("p-x") - o.x;
    o.x += dx;
    if (o.type === "line") o.x2 += dx;
  }));
  $("p-y").addEventListener("change", () => edit("y", (o) => {
    const dy = int("p-y") - o.y;
    o.y += dy;
    if (o.type === "line") o.y2 += dy;
  }));
  $("p-size").addEventListener("change", () => edit("size", (o) => {
    const key = SIZE_KEY[o.type];
    const value = Math.max(1, int("p-size"));
    if (key === "w" && o.w) o.h = Math.max(1, Math.round(o.h * value / o.w)); // keep the proportions
    o[key] = value;
  }));
  $("p-dur").addEventListener("change", () => edit("duration", (o, anims) => {
    for (const a of anims) a.dur = Math.max(0.05, Number($("p-dur").value));
  }));
  $("p-ease").addEventListener("change", () => edit("easing", (o, anims) => {
    const ease = EASES.includes($("p-ease").value) ? $("p-ease").value : "linear";
    for (const a of anims) a.ease = ease;
  }));
  $("p-loop").addEventListener("change", () => edit("loop", (o, anims) => {
    for (const a of anims) a.repeat = $("p-loop").checked ? -1 : 0;
  }));
  $("props").addEventListener("submit", (event) => event.preventDefault());
}
