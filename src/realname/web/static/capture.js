// The camera and the recording: getUserMedia, then JPEG frames (640 wide) drawn from the video on a canvas at
// up to 15 fps, each with its capture time (performance.now() / 1000). A frame is taken only when the camera
// delivered a new one (requestVideoFrameCallback), so a slow camera never yields copies of one picture.

export async function openCamera(video) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw Object.assign(new Error("no camera API"), { name: "NotFoundError" });
  }
  const stream = await navigator.mediaDevices.getUserMedia({
    // resizeMode "none": the camera's own picture, never cropped by the browser to fit the size asked for.
    audio: false, video: { facingMode: "user", width: { ideal: 1280 }, height: { ideal: 720 }, resizeMode: "none" },
  });
  video.srcObject = stream;
  await new Promise((resolve) => {
    if (video.readyState >= 2 && video.videoWidth) resolve();
    else video.addEventListener("loadeddata", resolve, { once: true });
  });
  await video.play().catch(() => {});
  return stream;
}

export function closeCamera(video, stream) {
  if (stream) for (const track of stream.getTracks()) track.stop();
  if (video) video.srcObject = null;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export class Grabber {
  constructor(video, width = 640) {
    this.video = video;
    this.width = width;
    this.canvas = document.createElement("canvas");
    this.ctx = this.canvas.getContext("2d", { alpha: false });
    this.presented = 0;
    this.running = true;
    if ("requestVideoFrameCallback" in video) {
      const tick = (_now, meta) => {
        this.presented = meta.presentedFrames;
        if (this.running) video.requestVideoFrameCallback(tick);
      };
      video.requestVideoFrameCallback(tick);
    }
  }

  stop() {
    this.running = false;
  }

  // Draw the current video frame, 640 wide (never enlarged: enlarging invents no detail and softens the edges the
  // presentation-attack checks look for); returns its time (seconds) and a promise of its JPEG.
  grab(quality = 0.85) {
    const v = this.video;
    const w = Math.min(this.width, v.videoWidth - (v.videoWidth % 2));
    const hgt = Math.max(2, Math.round((w * v.videoHeight) / v.videoWidth / 2) * 2);
    if (this.canvas.width !== w || this.canvas.height !== hgt) {
      this.canvas.width = w;
      this.canvas.height = hgt;
    }
    this.ctx.drawImage(v, 0, 0, w, hgt);
    const t = performance.now() / 1000;
    const blob = new Promise((resolve) => this.canvas.toBlob(resolve, "image/jpeg", quality));
    return { t, blob };
  }
}

// Record for `seconds`: [{ blob, t }]. onTick(elapsed) drives the prompts and the progress bar; onSample(blob)
// receives one frame about every `sampleEvery` seconds (for the positioning hints).
export async function record(video, { seconds, fps = 15, sampleEvery = 0.7, onTick, onSample, signal } = {}) {
  const g = new Grabber(video);
  const frames = [];
  const interval = 1000 / fps;
  const start = performance.now();
  let next = start;
  let lastPresented = -1;
  let lastGrab = start;
  let lastSample = -Infinity;
  try {
    for (;;) {
      if (signal && signal.aborted) throw new DOMException("recording stopped", "AbortError");
      const now = performance.now();
      const elapsed = (now - start) / 1000;
      if (elapsed >= seconds) break;
      if (onTick) onTick(elapsed);
      // Wait for a frame the camera has not given us yet (but never stall on a browser without the callback).
      if (g.presented === lastPresented && now - lastGrab < 250) {
        await sleep(5);
        continue;
      }
      lastPresented = g.presented;
      lastGrab = now;
      const { t, blob } = g.grab();
      const jpeg = await blob;
      if (jpeg) {
        frames.push({ blob: jpeg, t });
        if (t - lastSample >= sampleEvery) {
          lastSample = t;
          if (onSample) onSample(jpeg);
        }
      }
      next += interval;
      const wait = next - performance.now();
      if (wait > 0) await sleep(wait);
      else next = performance.now();
    }
  } finally {
    g.stop();
  }
  if (onTick) onTick(seconds);
  return frames;
}

// One still from the preview (for the hints before the recording starts).
export async function still(video) {
  if (!video.videoWidth) return null;
  const g = new Grabber(video);
  g.stop();
  return g.grab(0.8).blob;
}

export function captureForm(frames) {
  const form = new FormData();
  frames.forEach((f, i) => form.append("frames", f.blob, `frame${String(i).padStart(4, "0")}.jpg`));
  form.append("timestamps", frames.map((f) => f.t.toFixed(4)).join(","));
  return form;
}
