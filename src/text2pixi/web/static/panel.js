// The property panel: direct edits of the object chosen in it (colour, position, size, and its animations' duration,
// easing and loop), re-rendered without the model. A good edit is handed to the commit function main.js gives.
//
// A version with a v2 source (what the model wrote, docs/scene-v2.md) is edited in that source, item by item: the
// server compiles the edited source (/ui/api/compile) and the compiled scene plays, so the edit stays a v2 scene
// (a later refinement patches it). A version without one (v1) is edited in its compiled scene, object by object.

import { api } from "./api.js";
import { $, showError } from "./display.js";
import { playScene } from "./player.js";
import { current } from "./state.js";

const EASES = ["linear", "easeIn", "easeOut", "easeInOut", "bounce", "elastic", "back"];

const SIZE_KEY = { circle: "r", star: "r", text: "size", line: "width", rect: "w", roundrect: "w", ellipse: "w",
                   triangle: "w" };

/** A v2 item's ``size`` (px) read from its compiled object: the diameter, the longer side, or the font size. */
const V2_SIZE = { circle: (o) => 2 * o.r, star: (o) => 2 * o.r, text: (o) => o.size ?? 32,
                  rect: (o) => Math.max(o.w, o.h), roundrect: (o) => Math.max(o.w, o.h),
                  ellipse: (o) => Math.max(o.w, o.h), triangle: (o) => Math.max(o.w, o.h) };
const V2_SHAPE = { square: "rect" };
/** Presets that repeat forever unless ``times`` says otherwise (in the item's last group). */
const FOREVER = ["spin", "pulse", "bounce", "float"];

function toHex(color) {
  if (/^#[0-9a-f]{6}$/i.test(color || "")) return color.toLowerCase();
  const probe = document.createElement("canvas").getContext("2d");
  probe.fillStyle = "#000000";
  probe.fillStyle = color || "white";
  return /^#[0-9a-f]{6}$/i.test(probe.fillStyle) ? probe.fillStyle : "#ffffff";
}

/** Each v2 item's name, as the compiler makes them (core/v2/layout.py item_names): its id, or shape, shape2, ... */
export function itemNames(items) {
  const taken = new Set(items.filter((i) => i.id).map((i) => i.id));
  return items.map((item) => {
    if (item.id) return item.id;
    const shape = item.shape || "circle";
    let k = 1, name = shape;
    while (taken.has(name)) name = `${shape}${++k}`;
    taken.add(name);
    return name;
  });
}

const verb = (step) => Object.keys(step)[0];
const timedSteps = (item) => (item.do || []).filter((s) => verb(s) !== "wait");

/** What the panel shows and edits: one entry per v2 item (with its first compiled object) or per v1 object. */
function entries(v) {
  if (!v) return [];
  if (v.source) {
    return itemNames(v.source.items).map((name, k) => {
      const item = v.source.items[k];
      const id = (item.n || 1) > 1 ? `${name}1` : name;
      return { name, item, k, obj: v.scene.objects.find((o) => o.id === id) };
    });
  }
  return v.scene.objects.map((obj) => ({ name: obj.id, item: null, obj }));
}

/** Show the chosen entry's values (the first one's when the choice is gone) from the version on screen. */
export function fillPanel(state) {
  const v = current(state);
  const select = $("p-object");
  const list = entries(v);
  const names = list.map((e) => e.name);
  const keep = names.includes(select.value) ? select.value : names[0];
  select.replaceChildren(...names.map((id) => Object.assign(document.createElement("option"), { value: id, textContent: id })));
  if (keep) select.value = keep;
  select.disabled = !v;
  select.dataset.language = v && v.source ? "v2" : "v1";
  const entry = list.find((e) => e.name === keep);
  const obj = entry && entry.obj;
  const anims = v && obj ? (v.scene.anims || []).filter((a) => a.target === obj.id) : [];
  for (const id of ["p-color", "p-x", "p-y", "p-size"]) $(id).disabled = !obj;
  const timed = entry && entry.item ? timedSteps(entry.item) : anims;
  for (const id of ["p-dur", "p-ease", "p-loop"]) $(id).disabled = !timed.length;
  if (!obj) return;
  const item = entry.item;
  $("p-color").value = toHex(item ? item.color || obj.color : obj.color);
  $("p-x").value = obj.x;
  $("p-y").value = obj.y;
  if (item && (item.n || 1) > 1) { $("p-x").disabled = true; $("p-y").disabled = true; } // copies follow a layout
  if (item) {
    const size = V2_SIZE[V2_SHAPE[item.shape] || item.shape || "circle"];
    $("p-size").disabled = !size;
    $("p-size").value = typeof item.size === "number" ? item.size : size ? Math.round(size(obj)) : "";
  } else {
    const key = SIZE_KEY[obj.type];
    $("p-size").disabled = !key;
    $("p-size").value = key ? (obj[key] ?? (key === "size" ? 32 : key === "width" ? 4 : "")) : "";
  }
  if (timed.length) {
    const first = item ? timed[0] : anims[0];
    $("p-dur").value = first.dur ?? (anims[0] && anims[0].dur) ?? 1;
    $("p-ease").value = first.ease ?? (anims[0] && anims[0].ease) ?? "linear";
    $("p-loop").checked = anims.length > 0 && anims.every((a) => a.repeat === -1 || (a.cycle && a.cycle.times === -1));
  }
}

/** Play an edited scene and commit it; on a refused scene say why and show the values on screen again. */
async function playAndCommit(state, commit, v, scene, source, name, label) {
  showError("");
  try {
    if (source) scene = (await api("api/compile?source=" + encodeURIComponent(JSON.stringify(source)))).scene;
    await playScene(state, scene);
  } catch (err) {
    showError(err instanceof Error ? err.message : String(err));
    fillPanel(state); // back to the values on screen
    return;
  }
  commit(state, v, scene, name, label, source);
}

/** Apply one property change to a copy of the version on screen (its v1 object or its v2 item), play, commit. */
async function editProperty(state, commit, label, changeV1, changeV2) {
  const v = current(state);
  const name = $("p-object").value;
  if (!v || !name) return;
  const entry = entries(v).find((e) => e.name === name);
  if (!entry || !entry.obj) return;
  if (v.source) {
    const source = structuredClone(v.source);
    changeV2(source.items[entry.k], entry.obj);
    await playAndCommit(state, commit, v, null, source, name, label);
    return;
  }
  const scene = structuredClone(v.scene);
  const obj = scene.objects.find((o) => o.id === name);
  changeV1(obj, (scene.anims || []).filter((a) => a.target === name), scene);
  await playAndCommit(state, commit, v, scene, null, name, label);
}

/** Place a v2 item at absolute pixels (its centre; a line's start, its end moving along). */
function placeAt(item, obj, x, y) {
  if (item.xy2) item.xy2 = [item.xy2[0] + x - obj.x, item.xy2[1] + y - obj.y];
  item.xy = [x, y];
  delete item.at;
  delete item.of;
  delete item.gap;
}

/** Wire the panel's inputs; ``commit(state, base, scene, id, label, source)`` makes a played edit the version on screen. */
export function bindPanel(state, commit) {
  const edit = (label, changeV1, changeV2) => editProperty(state, commit, label, changeV1, changeV2);
  const int = (id) => Math.round(Number($(id).value));
  const dur = () => Math.min(60, Math.max(0.05, Number($("p-dur").value)));
  const ease = () => (EASES.includes($("p-ease").value) ? $("p-ease").value : "linear");
  $("p-object").addEventListener("change", () => fillPanel(state));
  $("p-color").addEventListener("change", () => edit("colour", (o) => { o.color = $("p-color").value; },
    (item) => { item.color = $("p-color").value; delete item.colors; }));
  $("p-x").addEventListener("change", () => edit("x", (o) => {
    const dx = int("p-x") - o.x;
    o.x += dx;
    if (o.type === "line") o.x2 += dx;
  }, (item, obj) => placeAt(item, obj, int("p-x"), obj.y)));
  $("p-y").addEventListener("change", () => edit("y", (o) => {
    const dy = int("p-y") - o.y;
    o.y += dy;
    if (o.type === "line") o.y2 += dy;
  }, (item, obj) => placeAt(item, obj, obj.x, int("p-y"))));
  $("p-size").addEventListener("change", () => edit("size", (o) => {
    const key = SIZE_KEY[o.type];
    const value = Math.max(1, int("p-size"));
    if (key === "w" && o.w) o.h = Math.max(1, Math.round(o.h * value / o.w)); // keep the proportions
    o[key] = value;
  }, (item) => { item.size = Math.max(1, int("p-size")); }));
  $("p-dur").addEventListener("change", () => edit("duration", (o, anims) => {
    for (const a of anims) a.dur = dur();
  }, (item) => { for (const s of timedSteps(item)) s.dur = dur(); }));
  $("p-ease").addEventListener("change", () => edit("easing", (o, anims) => {
    for (const a of anims) a.ease = ease();
  }, (item) => { for (const s of timedSteps(item)) s.ease = ease(); }));
  $("p-loop").addEventListener("change", () => edit("loop", (o, anims) => {
    for (const a of anims) a.repeat = $("p-loop").checked ? -1 : 0;
  }, (item) => {
    // v2: loop the whole sequence (a step repeating forever inside a loop is an error), or play it once.
    for (const s of timedSteps(item)) {
      if (s.times === -1 || (!$("p-loop").checked && s.times === undefined && FOREVER.includes(verb(s)))) {
        if ($("p-loop").checked) delete s.times; else s.times = 1;
      }
    }
    if ($("p-loop").checked) item.loop = true; else delete item.loop;
  }));
  $("props").addEventListener("submit", (event) => event.preventDefault());
}
