// Step 3 as one call: redeem the challenge, record while showing the actions one at a time (words + icon),
// send a frame now and then for positioning hints, then submit the frames. The customer never sees a score.
import { ApiError, api } from "./api.js";
import { captureForm, record, still } from "./capture.js";
import { h, tx } from "./dom.js";
import { has } from "./i18n.js";
import { icon } from "./icons.js";

export const SECONDS_PER_ACTION = 4;
export const LEAD = 1; // "look at the camera" before the first action
export const TAIL = 1; // "hold still" after the last
export const MAX_SECONDS = 30;
// The screen-light check, before the actions: the screen turns neutral grey, then shows the server's colours,
// then grey again. The server analyses 0.6 s either side of the colours (plus 0.3 s of camera delay after them),
// so grey covers that much; the customer holds still and looks at the screen throughout.
export const LIGHT_LEAD = 0.8;
export const LIGHT_TAIL = 1.0;
export const NEUTRAL = "#808080";
const FEEDBACK_EVERY = 0.7;

export function lightSeconds(flash) {
  return flash && flash.length ? LIGHT_LEAD + flash.reduce((s, f) => s + f.ms, 0) / 1000 + LIGHT_TAIL : 0;
}

export function captureSeconds(actions, light = 0) {
  return Math.min(MAX_SECONDS, light + actions.length * SECONDS_PER_ACTION + LEAD + TAIL);
}

// Show the colours full-screen around the oval, switching on animation frames; resolves with the time each colour
// appeared (the animation frame's timestamp, on the performance.now() clock of the frame timestamps), in seconds.
export function showFlashes(overlay, flashes, delay, signal) {
  return new Promise((resolve, reject) => {
    const onsets = [];
    let i = -1;
    let due = performance.now() + delay * 1000;
    overlay.style.background = NEUTRAL;
    overlay.hidden = false;
    document.body.classList.add("flashing");
    const finish = () => {
      overlay.hidden = true;
      document.body.classList.remove("flashing");
    };
    const step = (ts) => {
      if (signal && signal.aborted) {
        finish();
        reject(new DOMException("recording stopped", "AbortError"));
        return;
      }
      if (ts >= due - 8) { // within half a display frame of the due time: this frame shows the next colour
        i += 1;
        if (i >= flashes.length) {
          overlay.style.background = NEUTRAL;
          setTimeout(finish, LIGHT_TAIL * 1000);
          resolve(onsets);
          return;
        }
        overlay.style.background = flashes[i].color;
        onsets.push(ts / 1000);
        due = ts + flashes[i].ms;
      }
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  });
}

async function start(opened, signal) {
  const resp = await api(`/v1/verifications/${encodeURIComponent(opened.id)}/start`, {
    json: { challenge: opened.challenge.token }, raw: true, signal, proof: true,
  });
  const body = await resp.json();
  // How long the server gives us, measured on its own clock (the kiosk's may be off).
  const serverNow = Date.parse(resp.headers.get("date") || "");
  const deadline = Date.parse(body.capture_deadline || "");
  body.window = Number.isFinite(serverNow) && Number.isFinite(deadline) ? (deadline - serverNow) / 1000 : null;
  return body;
}

const RETRYABLE = ["challenge_expired", "challenge_reused"];

export async function runLiveCheck({ video, customer, reopen, setPrompt, signal, progress, hints }) {
  if (!customer.opened || Date.parse(customer.opened.challenge.expires_at) - Date.now() < 1500) await reopen();
  let started;
  try {
    started = await start(customer.opened, signal);
  } catch (err) {
    if (!(err instanceof ApiError) || !RETRYABLE.includes(err.code)) throw err;
    await reopen(); // the challenge ran out while the customer got ready: a new one, same document and consent
    started = await start(customer.opened, signal);
  }
  const { id, challenge } = customer.opened;
  const actions = challenge.actions;
  const flash = challenge.flash && challenge.flash.length ? challenge.flash : null;
  const light = lightSeconds(flash);
  let seconds = captureSeconds(actions, light);
  if (started.window && started.window > 8) seconds = Math.min(seconds, started.window - 4);

  let shown = null;
  const onTick = (elapsed) => {
    progress.value = Math.min(100, Math.round((100 * elapsed) / seconds));
    const after = elapsed - light;
    const i = elapsed < light ? -2
      : after < LEAD ? -1 : Math.min(actions.length, Math.floor((after - LEAD) / SECONDS_PER_ACTION));
    if (i === shown) return;
    shown = i;
    if (i === -2) setPrompt("face", { key: "live.light" });
    else if (i < 0) setPrompt("face", { key: "live.look" });
    else if (i >= actions.length) setPrompt("face", { key: "live.hold" });
    else {
      const a = actions[i];
      setPrompt(a.action, { bi: { zh: a.zh, en: a.en }, step: { i: i + 1, n: actions.length } });
    }
  };
  const feedback = new Feedback(id, hints, signal);
  let frames;
  let onsets = null;
  try {
    const recording = record(video, { seconds, onTick, signal, sampleEvery: FEEDBACK_EVERY,
                                      onSample: (blob) => feedback.send(blob) });
    if (flash) onsets = await showFlashes(document.getElementById("flash"), flash, LIGHT_LEAD, signal);
    frames = await recording;
  } finally {
    feedback.stop();
  }
  setPrompt("face", { key: "live.sending" });
  hints.replaceChildren();
  const form = captureForm(frames);
  if (onsets) form.append("flash_times", onsets.map((t) => t.toFixed(4)).join(","));
  return api(`/v1/verifications/${encodeURIComponent(id)}/capture`, { form, signal, proof: true });
}

// --- positioning hints ----------------------------------------------------------------------------------------

export function hintItems(reply) {
  const list = (reply && (reply.hints || reply.findings || reply.advice)) || [];
  return list.map((x) => (typeof x === "string" ? { code: x } : x || {}));
}

function hintNode(x) {
  const code = x.code || x.finding || x.hint;
  if (code && has(`hint.${code}`)) return tx(`hint.${code}`);
  if (x.zh || x.en) return h("span", { bi: { zh: x.zh || x.en, en: x.en || x.zh } });
  if (x.message) return h("span", { bi: { zh: x.message_zh || x.message, en: x.message } });
  return null;
}

export function showHints(region, reply) {
  const items = hintItems(reply);
  const key = JSON.stringify(items.map((x) => x.code || x.en || x.message || ""));
  if (region.dataset.shown === key) return; // unchanged: keep the live region quiet
  region.dataset.shown = key;
  if (!items.length) {
    region.replaceChildren(h("span", { class: "hint ok" }, icon("check", { size: 22 }), tx("hint.ok")));
    return;
  }
  region.replaceChildren(...items.map(hintNode).filter(Boolean)
    .map((node) => h("span", { class: "hint" }, icon("warning", { size: 22 }), node)));
}

class Feedback {
  constructor(id, region, signal) {
    this.url = `/v1/verifications/${encodeURIComponent(id)}/feedback`;
    this.region = region;
    this.signal = signal;
    this.inFlight = false;
    this.stopped = false;
    delete region.dataset.shown;
  }

  async send(blob) {
    if (this.inFlight || this.stopped) return;
    this.inFlight = true;
    const form = new FormData();
    form.append("frame", blob, "frame.jpg");
    try {
      const reply = await api(this.url, { form, signal: this.signal });
      if (!this.stopped) showHints(this.region, reply);
    } catch {
      /* hints are a help, never a reason to stop the check */
    } finally {
      this.inFlight = false;
    }
  }

  stop() {
    this.stopped = true;
  }
}

// Hints while the customer gets ready (before "Start"): one frame every FEEDBACK_EVERY seconds. Returns stop().
export function previewHints(video, id, region) {
  const feedback = new Feedback(id, region, null);
  const timer = setInterval(async () => {
    const blob = await still(video);
    if (blob) feedback.send(blob);
  }, FEEDBACK_EVERY * 1000);
  return () => {
    clearInterval(timer);
    feedback.stop();
  };
}
