"""Helpers for the browser tests: the server process, pages, screenshots, and clips written as a fake camera."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np
from tests.registry_support import seeded
from tests.servers import serve
from tests.support import ROOT

from realname.context import Services
from realname.registry.migrate import upgrade

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = ROOT / "artifacts" / "screenshots"
VIEWPORT = {"width": 1280, "height": 800}
GENUINE_ACTIONS = "turn_left,turn_right,look_down,look_up,blink"  # what person_a_turns_nods.mp4 shows, in order

BrowserFactory = Callable[..., "Browser"]


@dataclass
class WebServer:
    url: str
    db_url: str
    svc: Services
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


def start_web_server(tmp: Path, **env: str) -> WebServer:
    """A migrated SQLite database with the demo operator, and `realname serve` on a free port over it."""
    db_url = f"sqlite:///{tmp / 'r.db'}"
    upgrade(db_url)
    svc, _ = seeded(db_url)
    url, proc = serve(db_url, tmp, tmp / "server.log", **env)
    return WebServer(url, db_url, svc, proc, tmp / "server.log")


def new_page(browser: Browser) -> tuple[Page, list[str]]:
    """A 1280x800 page in a Chinese-speaking browser, and the list its script errors go to (tests check it)."""
    page = browser.new_page(viewport=VIEWPORT, locale="zh-CN", accept_downloads=True)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    return page, errors


class Shots:
    """shot("step") writes artifacts/screenshots/<test>-<step>.png."""

    def __init__(self, page: Page, test: str) -> None:
        self.page = page
        self.test = test
        SHOTS.mkdir(parents=True, exist_ok=True)

    def __call__(self, step: str, full_page: bool = False) -> Path:
        path = SHOTS / f"{self.test}-{step}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path


def write_y4m(frames: Iterator[np.ndarray], path: Path, fps: int = 30, width: int | None = None) -> Path:
    """YUV4MPEG2 (4:2:0) that chromium's fake camera plays, at most `width` wide (default: the clip's own size),
    with even dimensions.

    The shared clips are 368 pixels wide and are NOT enlarged to 640: enlarging softens the edges of a phone's
    screen around a replayed face, and the screen cue then misses it (measured on person_a_screen_replay.mp4:
    framed share 0.45 at the clip's size, 0.19 enlarged to 640, against a limit of 0.3). A camera delivers its
    own pixels; the kiosk never enlarges them either.
    """
    with path.open("wb") as out:
        size: tuple[int, int] | None = None
        for frame in frames:
            if size is None:
                h, w = frame.shape[:2]
                scale = min(1.0, width / w) if width else 1.0
                size = (max(2, round(w * scale / 2) * 2), max(2, round(h * scale / 2) * 2))
                out.write(f"YUV4MPEG2 W{size[0]} H{size[1]} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
            img = frame if frame.shape[1::-1] == size else cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
            out.write(b"FRAME\n")
            out.write(cv2.cvtColor(img, cv2.COLOR_BGR2YUV_I420).tobytes())
    if size is None:
        raise AssertionError(f"no frames for {path}")
    return path


def clip_frames(clip: Path) -> Iterator[np.ndarray]:
    cap = cv2.VideoCapture(str(clip))
    try:
        while True:
            ok, frame = cap.read()
            if not ok:
                return
            yield frame
    finally:
        cap.release()


def frame_at(clip: Path, seconds: float) -> np.ndarray:
    cap = cv2.VideoCapture(str(clip))
    try:
        cap.set(cv2.CAP_PROP_POS_MSEC, seconds * 1000)
        ok, frame = cap.read()
    finally:
        cap.release()
    assert ok, f"no frame at {seconds} s in {clip}"
    return np.asarray(frame)


# A test camera that answers the kiosk's screen light: getUserMedia is swapped (in the test only) for a canvas that
# draws chromium's fake camera and, while the kiosk's colour overlay shows, adds that colour's light: strongly on
# the face (an ellipse where the clip's face is) and an eighth of it on the rest of the picture, as a face near
# the screen and the wall behind it would take it.
TINTING_CAMERA = """
(([cx, cy, rx, ry, strength]) => {
  const original = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const source = await original(constraints);
    const video = document.createElement("video");
    video.muted = true;
    video.playsInline = true;
    video.srcObject = source;
    await video.play();
    const canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    const g = canvas.getContext("2d");
    const draw = () => {
      g.globalCompositeOperation = "source-over";
      g.globalAlpha = 1;
      g.drawImage(video, 0, 0, canvas.width, canvas.height);
      const overlay = document.getElementById("flash");
      if (overlay && !overlay.hidden) {
        g.globalCompositeOperation = "lighter";
        g.fillStyle = getComputedStyle(overlay).backgroundColor;
        g.globalAlpha = strength / 8;
        g.fillRect(0, 0, canvas.width, canvas.height);
        g.globalAlpha = strength;
        g.beginPath();
        g.ellipse(cx * canvas.width, cy * canvas.height, rx * canvas.width, ry * canvas.height, 0, 0, 2 * Math.PI);
        g.fill();
      }
      requestAnimationFrame(draw);
    };
    draw();
    return canvas.captureStream(30);
  };
})(%s);
"""


def login(page: Page, base: str, path: str, username: str, password: str) -> None:
    page.goto(base + path)
    page.fill("#login-username", username)
    page.fill("#login-password", password)
    page.press("#login-password", "Enter")


UNNAMED_CONTROLS = """() => {
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  const named = (el) => {
    if ((el.getAttribute("aria-label") || "").trim()) return true;
    const by = el.getAttribute("aria-labelledby");
    if (by && by.split(/\\s+/).some((id) => (document.getElementById(id)?.textContent || "").trim())) return true;
    if (el.labels && [...el.labels].some((l) => l.textContent.trim())) return true;
    if (el.tagName === "BUTTON" && el.textContent.trim()) return true;
    return !!(el.getAttribute("title") || "").trim();
  };
  return [...document.querySelectorAll("input, select, textarea, button")]
    .filter((el) => el.type !== "hidden" && visible(el) && !named(el))
    .map((el) => el.outerHTML.slice(0, 120));
}"""
