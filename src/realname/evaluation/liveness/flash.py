"""A reflection simulator for the screen-light check, and the attacks against it, from recorded clips.

No kiosk captures with a flashing screen exist here, so the kiosk's light is added to recorded clips with a
physical model (:class:`Reflection`):

- the screen adds light in proportion to the surface's own colour (its albedo under the shop's light): a share
  ``strength`` of the face's own linear brightness, per channel, times the displayed colour's channel; the
  background, several times further from the screen, gets ``background`` of that (light falls with distance);
- the camera's auto-exposure and white balance pull the picture back towards its earlier average with a time
  constant ``adapt_seconds``;
- the light appears ``latency`` seconds after the kiosk reports the colour (display and camera delay), averaged
  over the frame's exposure;
- sensor noise, then JPEG as the kiosk encodes its frames.

Attacks (:data:`ATTACKS`), each the kiosk's reported sequence against frames that do not answer it honestly:
``flash_none`` (the clip as it is: a pre-rendered or re-enacted face reflects nothing), ``flash_tint`` (an
injector that reads the kiosk's screen tints the whole picture in step), ``flash_late`` (the right reflection, but
an attacker reacting to the screen, 0.4-0.8 s late), ``flash_wrong`` (a reflection of another random sequence),
``flash_screen`` (a phone or monitor held up to the camera: its glass takes the light evenly over the screen's
area, face and background alike).
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from realname.engine.selection import primary_face
from realname.engine.yunet import YuNetDetector
from realname.errors import VideoError
from realname.evaluation.liveness.evaluate import MANIFEST_COLUMNS, flash_column
from realname.images import BGRImage
from realname.liveness.light import PALETTE, Flash, Shown, random_flashes
from realname.liveness.video import read_frames
from realname.workers import map_in_processes

ATTACKS = ("flash_none", "flash_tint", "flash_late", "flash_wrong", "flash_screen")
Mask = npt.NDArray[np.float32]

_LUT = np.where(np.arange(256) / 255 <= 0.04045, np.arange(256) / 255 / 12.92,
                ((np.arange(256) / 255 + 0.055) / 1.055) ** 2.4).astype(np.float32)


@dataclass(frozen=True)
class Reflection:
    strength: float = 0.08  # added light, as a share of the face's own linear brightness in a flashed channel
    background: float = 1 / 8  # share of the face's added light that reaches the background
    adapt_seconds: float = 0.4  # auto-exposure / white-balance time constant
    latency: float = 0.12  # seconds from a colour's reported onset to its light in the frames
    exposure: float = 1 / 30
    noise: float = 2.0  # sensor noise, grey levels
    jpeg: int = 85  # the kiosk's JPEG quality


def to_linear(frame: BGRImage) -> npt.NDArray[np.float32]:
    return np.asarray(_LUT[frame], np.float32)


def to_srgb(lin: npt.NDArray[np.float32]) -> BGRImage:
    x = np.clip(lin, 0.0, 1.0)
    s = np.where(x <= 0.0031308, 12.92 * x, 1.055 * np.power(x, 1 / 2.4) - 0.055)
    return np.asarray(np.clip(np.rint(s * 255), 0, 255), np.uint8)


def face_mask(shape: tuple[int, ...], box: tuple[float, float, float, float]) -> Mask:
    """1 on the face (an ellipse over the detector's box, a little larger: forehead and jaw), falling smoothly
    to 0 around it."""
    h, w = shape[:2]
    x, y, bw, bh = box
    mask = np.zeros((h, w), np.float32)
    centre = (round(x + bw / 2), round(y + bh * 0.45))
    axes = (max(1, round(bw * 0.62)), max(1, round(bh * 0.72)))
    cv2.ellipse(mask, centre, axes, 0, 0, 360, (1.0,), -1)
    k = max(3, int(bw * 0.15) | 1)
    return np.asarray(cv2.GaussianBlur(mask, (k, k), 0), np.float32)


class Scene:
    """What the camera sees of one clip under the kiosk's light: call with each frame and its time."""

    def __init__(self, shown: Shown, reflection: Reflection, rng: np.random.Generator, *, mode: str = "genuine",
                 lit: Shown | None = None, extra_latency: float = 0.0) -> None:
        self.shown, self.lit = shown, lit or shown  # ``lit``: the sequence that really lights the scene
        self.r, self.rng, self.mode = reflection, rng, mode
        self.latency = reflection.latency + extra_latency
        self.gain: npt.NDArray[np.float32] | None = None
        self.target: npt.NDArray[np.float32] | None = None
        self.last_t: float | None = None
        self.detector = YuNetDetector()
        self.box: tuple[float, float, float, float] | None = None
        self.screen: tuple[int, int, int, int] | None = None

    def light(self, t: float) -> npt.NDArray[np.float32]:
        """The screen's linear colour as the frame at ``t`` integrates it, BGR."""
        ts = t - self.latency - self.r.exposure * np.linspace(0, 1, 5)
        rgb = self.lit.colour_at(ts).mean(axis=0)
        return np.asarray(rgb[::-1], np.float32)

    def __call__(self, frame: BGRImage, t: float) -> BGRImage:
        lin = to_linear(frame)
        if self.mode != "none":
            self._locate(frame)
            lin = self._lit(lin, t)
        lin = self._camera(lin, t)
        noisy = to_srgb(lin).astype(np.float32) + self.rng.normal(0.0, self.r.noise, frame.shape).astype(np.float32)
        out = np.asarray(np.clip(np.rint(noisy), 0, 255), np.uint8)
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, self.r.jpeg])
        if not ok:
            raise VideoError("JPEG encoding failed", code="video_write_failed")
        return np.asarray(cv2.imdecode(buf, cv2.IMREAD_COLOR), np.uint8)

    def _locate(self, frame: BGRImage) -> None:
        face = primary_face(self.detector.detect(frame), frame.shape[1], frame.shape[0])
        if face is not None:
            self.box = (face.box.x, face.box.y, face.box.w, face.box.h)
        if self.mode == "screen" and self.screen is None and self.box is not None:
            # The device held up: its glass spans about 2.6 face widths, 3.2 face heights, around the face.
            x, y, bw, bh = self.box
            cx, cy = x + bw / 2, y + bh / 2
            self.screen = (round(cx - 1.3 * bw), round(cy - 1.6 * bh), round(cx + 1.3 * bw), round(cy + 1.6 * bh))

    def _lit(self, lin: npt.NDArray[np.float32], t: float) -> npt.NDArray[np.float32]:
        added = self.r.strength * self.light(t)  # per channel, relative to the surface's own brightness
        h, w = lin.shape[:2]
        if self.mode == "tint":
            weight = np.ones((h, w), np.float32)
        elif self.mode == "screen":
            weight = np.full((h, w), self.r.background, np.float32)
            if self.screen is not None:
                x0, y0, x1, y1 = self.screen
                weight[max(0, y0):max(0, y1), max(0, x0):max(0, x1)] = 1.0
        else:
            weight = np.full((h, w), self.r.background, np.float32)
            if self.box is not None:
                weight = np.maximum(weight, face_mask(lin.shape, self.box))
        return np.asarray(lin * (1.0 + weight[:, :, None] * added[None, None, :]), np.float32)

    def _camera(self, lin: npt.NDArray[np.float32], t: float) -> npt.NDArray[np.float32]:
        """Auto-exposure and white balance: per-channel gains that pull the picture's mean back to where it was
        before the light changed, with a first-order lag."""
        mean = lin.reshape(-1, 3).mean(axis=0) + 1e-6
        if self.gain is None or self.target is None or self.last_t is None:
            self.gain, self.target = np.ones(3, np.float32), mean.astype(np.float32)
        else:
            dt = max(0.0, t - self.last_t)
            want = self.target / mean
            self.gain = np.asarray(self.gain + (want - self.gain) * (1 - np.exp(-dt / self.r.adapt_seconds)),
                                   np.float32)
        self.last_t = t
        return np.asarray(lin * self.gain[None, None, :], np.float32)


def place(flashes: Sequence[Flash], start: float) -> Shown:
    """A sequence shown from ``start`` with exactly its signed durations."""
    onsets, t = [], start
    for f in flashes:
        onsets.append(round(t, 4))
        t += f.ms / 1000
    return Shown(tuple(flashes), tuple(onsets))


@dataclass(frozen=True)
class FlashClip:
    path: Path
    label: str  # genuine or attack
    attack_type: str
    shown: Shown  # what the kiosk reports


KIOSK_FPS = 15.0
START = 0.4  # seconds into a clip at which the colours begin (the kiosk shows grey before them)
AFTER = 1.2  # seconds of the clip kept after the last colour (the check looks 0.9 s past it)


def render(source: Path, out: Path, *, mode: str, reflection: Reflection, seed: int) -> FlashClip:
    """``source`` as a kiosk would send it (at most 640 wide, 15 fps, JPEG frames) under the screen's light, to
    :data:`AFTER` past the last colour. ``mode``: ``genuine`` (the light as physics says), or an attack of
    :data:`ATTACKS` without its ``flash_`` prefix."""
    rng = random.Random(seed)
    flashes = random_flashes(rng=rng)  # type: ignore[arg-type]
    shown = place(flashes, START)
    lit: Shown | None = None
    extra = 0.0
    scene_mode = mode
    if mode == "wrong":
        lit, scene_mode = place(_other(flashes, rng), START), "genuine"
    elif mode == "late":
        extra, scene_mode = rng.uniform(0.4, 0.8), "genuine"
    latency = rng.uniform(0.05, 0.2)  # display and camera delay differ from kiosk to kiosk
    scene = Scene(shown, replace(reflection, latency=latency), np.random.default_rng(seed), mode=scene_mode,
                  lit=lit, extra_latency=extra)
    # A camera at the kiosk's rate (or the recording's, when that is slower): frame k is taken at k / rate, shows
    # the recording's latest picture by then and the light of that instant. Written at that rate, so the clip's
    # own timestamps are the capture times.
    src_fps = _fps(source)
    rate = min(KIOSK_FPS, src_fps)
    pictures = read_frames(source)
    current, pending = next(pictures, None), next(pictures, None)
    k = 0
    with _writer_lazily(out, rate) as write:
        while current is not None:
            now = k / rate
            while pending is not None and pending[1] <= now + 1e-6:
                current, pending = pending, next(pictures, None)
            if now > shown.end + AFTER or (pending is None and now > current[1] + 1 / src_fps):
                break
            write(scene(current[0], now))
            k += 1
    label = "genuine" if mode == "genuine" else "attack"
    return FlashClip(out, label, "" if label == "genuine" else f"flash_{mode}", shown)


def _fps(source: Path) -> float:
    cap = cv2.VideoCapture(str(source))
    try:
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    finally:
        cap.release()
    return fps if fps > 0 else KIOSK_FPS


@contextmanager
def _writer_lazily(path: Path, fps: float) -> Iterator[Callable[[BGRImage], None]]:
    """A Motion-JPEG writer opened at the first frame's size (every frame a JPEG, as the kiosk sends them)."""
    state: dict[str, cv2.VideoWriter] = {}

    def write(frame: BGRImage) -> None:
        if "w" not in state:
            state["w"] = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps,
                                         (frame.shape[1], frame.shape[0]))
            if not state["w"].isOpened():
                raise VideoError(f"cannot write {path}: no MJPG encoder or the folder is not writable",
                                 code="video_write_failed")
            state["w"].set(cv2.VIDEOWRITER_PROP_QUALITY, 95)
        state["w"].write(frame)

    try:
        yield write
    finally:
        if "w" in state:
            state["w"].release()


def _other(flashes: Sequence[Flash], rng: random.Random) -> tuple[Flash, ...]:
    """Another sequence of the same durations, sharing no colour position with the true one."""
    colours = list(PALETTE.values())
    out: list[Flash] = []
    for f in flashes:
        choices = [c for c in colours if c != f.rgb and (not out or c != out[-1].rgb)]
        out.append(replace(f, rgb=rng.choice(choices)))
    return tuple(out)


@dataclass(frozen=True)
class Source:
    path: Path
    label: str  # genuine or attack (an animated photo)
    name: str


def sources(liveness: Path, min_seconds: float = 4.5) -> list[Source]:
    """The clips of ``../shared/data/liveness`` long enough for the colours: the two genuine clips, and from
    ``more/clips.csv`` the genuine clips and the animated-photo attacks."""
    out = [Source(p, "genuine", p.stem) for p in sorted((liveness / "genuine").glob("*.mp4"))]
    listing = liveness / "more" / "clips.csv"
    with listing.open(encoding="utf-8") as f:
        for r in csv.DictReader(f):
            if float(r["duration_s"] or 0) >= min_seconds:
                rel = Path(r["rel"])
                out.append(Source(liveness / "more" / rel, r["label"], "_".join(rel.with_suffix("").parts[-3:])))
    return out


@dataclass(frozen=True)
class _Job:
    source: Path
    out: Path
    mode: str
    strength: float
    seed: int


def _render(job: _Job) -> FlashClip:
    return render(job.source, job.out, mode=job.mode, reflection=Reflection(strength=job.strength), seed=job.seed)


def make_flash_set(liveness: Path, out: Path, strengths: Sequence[float], *, per_clip: int = 3, seed: int = 0,
                   workers: int | None = None, progress: Callable[[int], None] | None = None) -> list[Path]:
    """The flash evaluation set: every genuine clip lit at every strength (``per_clip`` sequences each), and every
    attack of :data:`ATTACKS` from every animated photo and every genuine clip used as a replay (lit, where the
    attack reflects anything, at the strongest strength). One manifest per strength (``genuine-<strength>.csv``)
    and one for the attacks (``attacks.csv``). Seeds differ per clip, sequence and strength."""
    found = sources(liveness)
    groups: list[tuple[Path, list[_Job]]] = []
    for n, k in enumerate(strengths):
        folder = out / f"genuine-{k:.2f}"
        folder.mkdir(parents=True, exist_ok=True)
        jobs = [_Job(src.path, folder / f"{src.name}-{j}.avi", "genuine", k,
                     seed * 1_000_003 + n * 10_007 + i * 101 + j)
                for i, src in enumerate(s for s in found if s.label == "genuine") for j in range(per_clip)]
        groups.append((out / f"genuine-{k:.2f}.csv", jobs))
    folder = out / "attacks"
    folder.mkdir(parents=True, exist_ok=True)
    attacks = [_Job(src.path, folder / f"{kind}-{src.name}.avi", kind.removeprefix("flash_"), max(strengths),
                    seed * 1_000_003 + 500_009 + a * 1009 + i)
               for a, kind in enumerate(ATTACKS) for i, src in enumerate(found)]
    groups.append((out / "attacks.csv", attacks))
    every = [j for _, jobs in groups for j in jobs]
    done = {c.path: c for c in map_in_processes(_render, every, workers, progress)}
    return [write_manifest([done[j.out] for j in jobs], manifest) for manifest, jobs in groups]


def write_manifest(clips: Sequence[FlashClip], manifest: Path) -> Path:
    with manifest.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(MANIFEST_COLUMNS)
        for c in clips:
            w.writerow([str(c.path.relative_to(manifest.parent)), c.label, c.attack_type, "", flash_column(c.shown)])
    return manifest
