// The playground's state, in one object that the modules pass around: no module keeps state of its own.

/** A fresh state for the page. */
export function createState() {
  return {
    run: 0, // bumped by every submit, so an older poll loop stops when a newer one starts
    ticker: null, // the status line's clock (an interval id)
    shown: null, // the finished job on screen
    mainApp: null, // the Pixi application in #stage
    mainController: null,
    progress: null, // the running job's event stream and partial scene (progress.js)
    variantApps: [], // the small ones in the variants grid
    versions: [], // [{id (null until stored), scene, label, from (the stored version it derives from)}]
  };
}

/** The version on screen: the last of the chain, or null. */
export const current = (state) => state.versions[state.versions.length - 1] || null;
