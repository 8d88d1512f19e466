// The variants grid, shown when a job was asked for more than one variant of its scene.

import { $, setControls } from "./display.js";
import { mountInto, nameMainStage, play } from "./player.js";
import { current } from "./state.js";
import { showVersions } from "./versions.js";

export function clearVariants(state) {
  for (const app of state.variantApps) app.destroy(true, { children: true });
  state.variantApps = [];
  $("variants-grid").replaceChildren();
  $("variants-view").hidden = true;
}

/** Every variant in a small stage of its own, side by side; "Use this" makes one the version on screen. */
export async function showVariants(state, result) {
  clearVariants(state);
  if (!result.variants || result.variants.length < 2) return;
  $("variants-view").hidden = false;
  for (const variant of result.variants) {
    const figure = document.createElement("figure");
    figure.dataset.id = variant.id;
    if (variant.id === result.id) figure.className = "chosen";
    const stage = document.createElement("div");
    stage.className = "vstage";
    const caption = document.createElement("figcaption");
    const name = document.createElement("span");
    name.textContent = `Variant ${variant.variant} · ${variant.output_tokens} tokens`;
    const use = document.createElement("button");
    use.type = "button";
    use.textContent = "Use this";
    use.addEventListener("click", () => chooseVariant(state, variant, figure));
    caption.append(name, use);
    figure.append(stage, caption);
    $("variants-grid").appendChild(figure);
    const controller = await mountInto(`api/status/${variant.id}/scene.js`, stage);
    state.variantApps.push(controller.app);
  }
  // The variants' mounts set the globals; they name the main stage.
  nameMainStage(state);
}

async function chooseVariant(state, variant, figure) {
  for (const f of $("variants-grid").children) f.className = f === figure ? "chosen" : "";
  const v = current(state);
  state.versions[state.versions.length - 1] = { id: variant.id, scene: variant.scene, source: variant.source || null,
                                                label: `${v ? v.label : "variant"} (variant ${variant.variant})`,
                                                from: null };
  await play(state, variant.id);
  showVersions(state);
  setControls(state, { id: variant.id });
  $("code").textContent = variant.js;
}
