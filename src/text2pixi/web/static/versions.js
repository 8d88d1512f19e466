// The chain of versions the page shows: the server's history of the job, then the edits made here (unsaved until
// a refinement stores one as its base). Undo steps back one version. A version is {id, scene, source, label, from}:
// ``scene`` the compiled scene (what plays), ``source`` a v2 version's v2 scene (what the model wrote), else null.

import { api } from "./api.js";
import { $, setControls, showError } from "./display.js";
import { fillPanel } from "./panel.js";
import { playScene } from "./player.js";
import { current } from "./state.js";

/** The history list, the controls that need a version, the scene JSON and the panel, for the chain as it is. */
export function showVersions(state) {
  const versions = state.versions;
  const list = $("history");
  list.replaceChildren();
  versions.forEach((v, k) => {
    const li = document.createElement("li");
    li.textContent = (v.id ? "" : "(unsaved) ") + v.label;
    li.title = v.id ? `version ${v.id}` : "edited in this page; stored when you refine it";
    if (k === versions.length - 1) li.className = "current";
    list.appendChild(li);
  });
  $("undo").disabled = versions.length < 2;
  const v = current(state);
  $("instruction").disabled = !v;
  $("refine").disabled = !v;
  if (v) showScene(v);
  fillPanel(state);
}

/** The JSON panes: the source the model wrote for a v2 version (and what it compiles to), else the scene. */
export function showScene(v) {
  $("scene").textContent = JSON.stringify(v.source || v.scene, null, 2);
  $("scene-title").textContent = v.source ? "Scene (v2, as written)" : "Scene (validated JSON)";
  $("compiled-pane").hidden = !v.source;
  $("compiled").textContent = v.source ? JSON.stringify(v.scene, null, 2) : "";
}

/** An edit of ``base`` (already on the stage) becomes the version on screen, unsaved; ``source`` for a v2 edit. */
export function addEdit(state, base, scene, id, label, source) {
  state.versions.push({ id: null, scene, source: source || null, label: `${id}: ${label}`,
                        from: base.id || base.from });
  showVersions(state);
  setControls(state, null);
  $("status").textContent = `Edited ${id} (${label}); not generated, re-rendered.`;
  document.body.dataset.state = "playing";
}

export async function undo(state) {
  if (state.versions.length < 2) return;
  state.versions.pop();
  const v = current(state);
  showError("");
  try {
    await playScene(state, v.scene);
  } catch (err) {
    showError(err instanceof Error ? err.message : String(err));
  }
  showVersions(state);
  setControls(state, v.id ? { id: v.id } : null);
  $("status").textContent = `Back to: ${v.label}.`;
}

/** The stored chain of versions ending at this result (refinements and edits), for the history list. */
export async function loadVersions(state, view) {
  let chain = [];
  try {
    chain = (await api(`api/status/${view.id}/history`)).versions || [];
  } catch (err) {
    chain = [];
  }
  if (!chain.length) {
    chain = [{ id: view.id, scene: view.result.scene, source: view.result.source, prompt: view.result.prompt }];
  }
  state.versions = chain.filter((v) => v.scene).map((v) => ({ id: v.id, scene: v.scene, source: v.source || null,
                                                               label: v.prompt || v.id, from: null }));
  showVersions(state);
}
