// Mounting scenes. A scene script (text2pixi.core.codegen.render_script: the same runtime and mount() as the module
// and the standalone page) defines __TEXT2PIXI_MOUNT__; it is loaded from this origin (CSP script-src 'self', no
// eval). The globals __PIXI_APP__ and __TEXT2PIXI__ name the main stage's app and controller.

import { checkScript, renderUrl } from "./api.js";
import { $ } from "./display.js";

function loadScript(src) {
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = src;
    script.onload = () => { script.remove(); resolve(); };
    script.onerror = () => { script.remove(); reject(new Error("Could not load the scene's script.")); };
    document.head.appendChild(script);
  });
}

/** Load a scene script (it defines __TEXT2PIXI_MOUNT__) and mount it into the container; returns its controller. */
export async function mountInto(src, container) {
  globalThis.__TEXT2PIXI_MOUNT__ = undefined;
  await loadScript(src);
  const mount = globalThis.__TEXT2PIXI_MOUNT__;
  if (typeof mount !== "function") throw new Error("The scene's script did not load.");
  return mount(container);
}

/** Tear down the main stage, then mount the script's scene there (the globals name the main stage). */
async function playSrc(state, src) {
  if (state.mainApp) state.mainApp.destroy(true, { children: true });
  state.mainApp = null;
  globalThis.__PIXI_APP__ = undefined;
  globalThis.__TEXT2PIXI__ = undefined;
  $("stage").replaceChildren();
  const controller = await mountInto(src, $("stage"));
  state.mainApp = controller.app;
  state.mainController = controller;
  globalThis.__PIXI_APP__ = controller.app;
  globalThis.__TEXT2PIXI__ = controller;
}

/** Tear down the previous stage, then mount the finished job's scene with the generated script. */
export async function play(state, id) {
  await playSrc(state, `api/status/${id}/scene.js`);
}

/** Play a scene edited in this page: the server validates it first and says what is wrong, if anything. */
export async function playScene(state, scene) {
  const url = renderUrl(scene);
  await checkScript(url);
  await playSrc(state, url);
}

/** Other mounts (the variants) set the globals too: point them back at the main stage. */
export function nameMainStage(state) {
  if (state.mainApp) {
    globalThis.__PIXI_APP__ = state.mainApp;
    globalThis.__TEXT2PIXI__ = state.mainController;
  }
}
