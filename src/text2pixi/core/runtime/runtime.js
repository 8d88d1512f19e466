const EASE = {
  linear: (t) => t,
  easeIn: (t) => t * t * t,
  easeOut: (t) => 1 - Math.pow(1 - t, 3),
  easeInOut: (t) => (t < 0.5 ? 4 * t * t * t : 1 - Math.pow(-2 * t + 2, 3) / 2),
  bounce: (t) => {
    const n = 7.5625, d = 2.75;
    if (t < 1 / d) return n * t * t;
    if (t < 2 / d) return n * (t -= 1.5 / d) * t + 0.75;
    if (t < 2.5 / d) return n * (t -= 2.25 / d) * t + 0.9375;
    return n * (t -= 2.625 / d) * t + 0.984375;
  },
  elastic: (t) => (t === 0 || t === 1 ? t : Math.pow(2, -10 * t) * Math.sin((t * 10 - 0.75) * ((2 * Math.PI) / 3)) + 1),
  back: (t) => 1 + 2.70158 * Math.pow(t - 1, 3) + 1.70158 * Math.pow(t - 1, 2),
};

function rgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function toHex(c) {
  return "#" + c.map((v) => Math.max(0, Math.min(255, Math.round(v))).toString(16).padStart(2, "0")).join("");
}

function lerp(a, b, p) {
  return Array.isArray(a) ? a.map((v, i) => v + (b[i] - v) * p) : a + (b - a) * p;
}

/** Animated properties; pos is the centre (position minus the pivot offset), scale is two tracks, sx and sy. */
const PROPS = {
  pos: { read: (o) => [o.x - o.pivot.x, o.y - o.pivot.y], write: (o, v) => o.position.set(v[0] + o.pivot.x, v[1] + o.pivot.y) },
  angle: { read: (o) => o.angle, write: (o, v) => { o.angle = v; } },
  sx: { read: (o) => o.scale.x, write: (o, v) => { o.scale.x = v; } },
  sy: { read: (o) => o.scale.y, write: (o, v) => { o.scale.y = v; } },
  alpha: { read: (o) => o.alpha, write: (o, v) => { o.alpha = v; } },
  tint: { read: (o) => rgb(o.__tint), write: (o, v) => { o.tint = toHex(v); } },
};

/** Seconds into one animation at time t, or null before it starts (in a looped sequence: in this cycle). */
function localTime(a, t) {
  const c = a.cycle;
  if (!c) return t - a.delay < 0 ? null : t - a.delay;
  const g = t - c.start;
  if (g < 0) return null;
  const n = Math.floor(g / c.every);
  if (c.times >= 0 && n >= c.times) return a.dur * (a.repeat + 1);
  const local = g - n * c.every - (a.delay - c.start);
  return local < 0 ? null : local;
}

/** Eased progress of one animation at time t (seconds), or null before it starts. */
function progress(a, t) {
  const local = localTime(a, t);
  if (local === null) return null;
  const cycles = a.repeat < 0 ? Infinity : a.repeat + 1;
  let cycle = Math.floor(local / a.dur);
  let p = (local - cycle * a.dur) / a.dur;
  if (cycle >= cycles) { cycle = cycles - 1; p = 1; }
  if (a.yoyo && cycle % 2 === 1) p = 1 - p;
  return EASE[a.ease](p);
}

/** Drive the objects with the animations on app.ticker; returns a controller (seek, play, pause, replay). */
function animate(app, objects, anims) {
  const tracks = new Map();
  const AXES = { xy: ["sx", "sy"], x: ["sx"], y: ["sy"] };
  for (const a of anims) {
    for (const prop of a.prop === "scale" ? AXES[a.axis || "xy"] : [a.prop]) {
      const key = a.target + "|" + prop;
      if (!tracks.has(key)) tracks.set(key, { obj: objects[a.target], prop: PROPS[prop], anims: [] });
      tracks.get(key).anims.push(Object.assign({}, a, { prop }));
    }
  }
  const valueAt = (track, t, upto) => {
    let v = track.initial;
    for (let i = 0; i < upto; i++) {
      const a = track.anims[i];
      const p = progress(a, t);
      if (p !== null) v = lerp(a.from, a.to, p);
    }
    return v;
  };
  for (const track of tracks.values()) {
    track.anims.sort((x, y) => x.delay - y.delay);
    track.initial = track.prop.read(track.obj);
    track.anims.forEach((a, k) => {
      a.from = valueAt(track, a.delay, k);
      if (a.by !== undefined) a.to = a.from + a.by;
      else if (a.prop === "tint") a.to = rgb(a.to);
    });
  }
  let time = 0;
  let playing = true;
  const seek = (t) => {
    time = Math.max(0, t);
    for (const track of tracks.values()) track.prop.write(track.obj, valueAt(track, time, track.anims.length));
  };
  app.ticker.add((ticker) => { if (playing) seek(time + ticker.deltaMS / 1000); });
  seek(0);
  return {
    app,
    objects,
    seek,
    get time() { return time; },
    get playing() { return playing; },
    play() { playing = true; },
    pause() { playing = false; },
    replay() { seek(0); playing = true; },
  };
}

function place(obj, label, p) {
  obj.label = label;
  if (p.pivot) obj.pivot.set(p.pivot[0], p.pivot[1]);
  obj.position.set(p.x + obj.pivot.x, p.y + obj.pivot.y);
  obj.angle = p.rot;
  obj.alpha = p.alpha;
  obj.__tint = p.color;
  obj.tint = p.color;
  return obj;
}
