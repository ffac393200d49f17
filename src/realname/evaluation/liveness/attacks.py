"""Labelled presentation-attack clips for measuring the liveness checks (APCER per attack type).

Four attacks, each a folder of 3-4 s MP4 clips and one row per clip in ``manifest.csv``
(``path,label,attack_type,challenge``; path relative to the manifest, challenge ``;``-separated):

- ``print_moved``: a printed photo (halftone, colour shift, white paper border) held up to the camera and
  tilted, zoomed and rotated to fake the head moves.
- ``two_stills``: two prints of the same person, one after the other: a frontal-ish one, then one that may be
  turned.
- ``identity_switch``: the genuine clip's first ~1.5 s (or a print of one person), then a moved print of
  another person.
- ``wrong_order``: windows of the genuine clip with two head moves A then B, challenged as B then A. The
  moves are found with the same detector the live check uses, so the manifest names what the clip shows.

Every random choice comes from the seed, through one ``random.Random`` per clip named by seed, type and
index: a seed gives the same manifest and the same frames on every run, and the first clips of a small set
are the first clips of a large one.
"""

from __future__ import annotations

import csv
import itertools
import math
import random
import secrets
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

from realname.engine.selection import primary_face, significant_faces
from realname.engine.yunet import YuNetDetector
from realname.errors import DataSourceError, VideoError
from realname.evaluation.liveness.evaluate import MANIFEST_COLUMNS
from realname.evaluation.pairs import identity_folders
from realname.images import BGRImage, read_image
from realname.liveness.actions import Event, detect_events
from realname.liveness.challenges import Action, random_actions
from realname.liveness.features import FrameAnalyzer, FrameFeatures
from realname.liveness.video import read_frames

ATTACK_TYPES = ("print_moved", "two_stills", "identity_switch", "wrong_order")
NEEDS_GENUINE = frozenset({"wrong_order"})
MIN_SECONDS, MAX_SECONDS = 3.0, 4.0
MAX_TILT = 35.0  # degrees a print is tilted about its vertical or horizontal axis
MAX_SPEED = 2.5  # fastest replay of genuine footage (two head moves must fit in 4 s)
# The print shows the photo's central part: LFW centres the face, and a portrait print is mostly face.
PORTRAIT_CROP = 0.66
PRINT_HEIGHT = 420  # pixels of the printed photo before it is placed (about its size in a 480-line frame)
PICK_TRIES = 20  # draws of a photo without bystanders before taking one as it comes
NOISE_PAD = 24  # the per-clip noise field is this much larger than a frame; each frame takes a random crop
FOURCC = "mp4v"
MAX_FOOTAGE_SECONDS = 120.0  # of the genuine clip kept in memory (as JPEG, about 50 kB a frame)

Size = tuple[int, int]  # width, height
Progress = Callable[[int], None]
Vec = npt.NDArray[np.float64]


def make_attacks(photos: Path, out: Path, *, genuine_clip: Path | None, per_type: int = 100, seed: int = 0,
                 fps: float = 15.0, size: Size = (640, 480), progress: Progress | None = None) -> Path:
    """Write ``per_type`` clips of each attack type under ``out`` and return ``out/manifest.csv``.

    ``photos`` is a folder of identity folders (LFW's ``lfw-deepfunneled``); identities with at least two
    photos are used. Without ``genuine_clip`` the types that need real footage are skipped with a warning.
    ``progress`` is called after each clip with the number of clips written so far.
    """
    _check_settings(per_type, fps, size)
    people = _people(photos)
    kinds = [k for k in ATTACK_TYPES if genuine_clip is not None or k not in NEEDS_GENUINE]
    if genuine_clip is None:
        warnings.warn(f"no genuine clip given: {', '.join(sorted(NEEDS_GENUINE))} clips skipped", stacklevel=2)
    footage = None
    if genuine_clip is not None and per_type > 0:
        footage = _load_footage(genuine_clip, find_actions="wrong_order" in kinds)
    if footage is not None and "wrong_order" in kinds and not footage.windows:
        warnings.warn(f"{genuine_clip} shows no two different head moves in a row: wrong_order clips skipped",
                      stacklevel=2)
        kinds.remove("wrong_order")
    studio = _Studio(people, footage, size, fps)
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / "manifest.csv"
    done = 0
    with manifest.open("w", newline="", encoding="utf-8") as f:
        rows = csv.writer(f, lineterminator="\n")
        rows.writerow(MANIFEST_COLUMNS)
        for kind in kinds:
            (out / kind).mkdir(exist_ok=True)
            for i in range(per_type):
                rel = f"{kind}/{kind}_{i:03d}.mp4"
                rng = random.Random(f"{seed}/{kind}/{i}")
                challenge = studio.make(kind, rng, out / rel)
                rows.writerow((rel, "attack", kind, ";".join(a.value for a in challenge)))
                done += 1
                if progress is not None:
                    progress(done)
    return manifest


def _check_settings(per_type: int, fps: float, size: Size) -> None:
    if per_type < 0:
        raise ValueError("per_type must be 0 or more")
    if not 1.0 <= fps <= 120.0:
        raise ValueError("fps must be between 1 and 120")
    w, h = size
    if w < 64 or h < 64 or w % 2 or h % 2:  # MPEG-4 needs even sides
        raise ValueError(f"size {w}x{h}: both sides must be even and at least 64")


def _people(photos: Path) -> dict[str, list[Path]]:
    """Identities with at least two photos (two_stills needs two); at least two identities (identity_switch)."""
    if not photos.is_dir():
        what = "not a folder" if photos.exists() else "no such folder"
        raise DataSourceError(f"{photos}: {what}; expected a folder of identity folders of face photos",
                              code="photos_not_found")
    people = {name: files for name, files in identity_folders(photos).items() if len(files) >= 2}
    if len(people) < 2:
        raise DataSourceError(f"{photos}: {len(people)} identity folder(s) with two or more photos; "
                              "attacks need at least two such identities", code="too_few_identities")
    return people


def _challenge(rng: random.Random) -> tuple[Action, ...]:
    # random_actions only uses choice/sample/shuffle, which a seeded random.Random has too.
    return random_actions(rng.randint(2, 4), cast(secrets.SystemRandom, rng))


# --- Genuine footage --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Window:
    """Two different head moves in a row in the footage, and where a clip showing both may start and end."""

    first: Event
    second: Event
    start: tuple[float, float]
    end: tuple[float, float]


@dataclass(frozen=True)
class _Footage:
    """The genuine clip, kept as JPEG (a 20 s clip decoded would hold hundreds of MB)."""

    jpegs: list[bytes]
    times: Vec
    events: list[Event]
    windows: list[_Window]

    def frame(self, t: float) -> BGRImage:
        """The frame shown at source time ``t``."""
        i = int(np.clip(np.searchsorted(self.times, t, side="right") - 1, 0, len(self.jpegs) - 1))
        return np.asarray(cv2.imdecode(np.frombuffer(self.jpegs[i], np.uint8), cv2.IMREAD_COLOR), dtype=np.uint8)


def _load_footage(path: Path, *, find_actions: bool) -> _Footage:
    """The clip's first MAX_FOOTAGE_SECONDS, and with ``find_actions`` the actions FaceMesh sees in them."""
    analyzer = FrameAnalyzer() if find_actions else None
    jpegs: list[bytes] = []
    times: list[float] = []
    feats: list[FrameFeatures] = []
    try:
        for frame, t in read_frames(path):
            if t > MAX_FOOTAGE_SECONDS:
                break  # the dropped reader closes the file
            ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 95])
            if not ok:  # pragma: no cover - OpenCV always encodes a valid 3-channel frame
                raise VideoError(f"{path}: a frame could not be encoded")
            jpegs.append(buf.tobytes())
            times.append(t)
            if analyzer is not None:
                feats.append(analyzer.analyse(frame, t))
    finally:
        if analyzer is not None:
            analyzer.close()
    events = detect_events(feats)
    return _Footage(jpegs, np.array(times), events, _windows(events, times[-1]))


def _windows(events: Sequence[Event], duration: float) -> list[_Window]:
    """Each pair of consecutive, different head moves that fits a 3-4 s clip at up to MAX_SPEED: the clip
    starts frontal (the live check takes its baseline pose from the first half second) and ends once the
    second move is clearly under way, before the next head move."""
    heads = [e for e in events if e.action.is_head_move]
    out = []
    for k, (a, b) in enumerate(itertools.pairwise(heads)):
        if a.action is b.action:
            continue
        prev_end = heads[k - 1].end if k > 0 else -1.0
        next_start = heads[k + 2].start if k + 2 < len(heads) else duration
        end_lo = min(b.peak, b.start + 1.0) + 0.2
        end_hi = min(next_start - 0.1, b.end + 1.5, duration)
        start_lo = max(prev_end + 0.3, a.start - 2.0, 0.0, end_lo - MAX_SPEED * MAX_SECONDS)
        start_hi = min(a.start - 0.6, end_hi - MIN_SECONDS)
        if start_lo <= start_hi and end_lo <= end_hi:
            out.append(_Window(a, b, (start_lo, start_hi), (end_lo, end_hi)))
    return out


# --- Prints, backgrounds, motion, camera --------------------------------------------------------------------


def _halftone(image: BGRImage, period: float, angle: float) -> BGRImage:
    """Clustered-dot halftone, one screen per ink (cyan, magenta, yellow) at the classic angles."""
    h, w = image.shape[:2]
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    ink = 1.0 - image.astype(np.float32) / 255.0
    out = np.empty_like(ink)
    # BGR channel -> its ink's screen angle: blue/yellow 0, green/magenta 75, red/cyan 15 degrees.
    for c, screen_angle in enumerate((0.0, 75.0, 15.0)):
        a = math.radians(screen_angle + angle)
        u = (x * math.cos(a) + y * math.sin(a)) * (2 * math.pi / period)
        v = (y * math.cos(a) - x * math.sin(a)) * (2 * math.pi / period)
        screen = 0.5 + 0.25 * (np.cos(u) + np.cos(v))
        out[..., c] = ink[..., c] > screen
    return np.asarray((1.0 - out) * 255.0, dtype=np.uint8)


def _portrait(photo: BGRImage) -> BGRImage:
    h, w = photo.shape[:2]
    dy, dx = round(h * (1 - PORTRAIT_CROP) / 2), round(w * (1 - PORTRAIT_CROP) / 2)
    return photo[dy:h - dy, dx:w - dx]


def _printed(photo: BGRImage, rng: random.Random, noise: np.random.Generator) -> BGRImage:
    """The photo as a print: lower contrast, a colour cast, halftone dots, paper grain and a white border."""
    portrait = _portrait(photo)
    big = cv2.resize(portrait, (round(portrait.shape[1] * PRINT_HEIGHT / portrait.shape[0]), PRINT_HEIGHT),
                     interpolation=cv2.INTER_CUBIC)
    gains = np.array([rng.uniform(0.86, 1.06) for _ in range(3)], dtype=np.float32)
    toned = 16.0 + big.astype(np.float32) * (rng.uniform(0.78, 0.9) * gains)  # ink never reaches paper white
    ink = np.asarray(np.clip(toned, 0, 255), dtype=np.uint8)
    dots = cv2.GaussianBlur(_halftone(ink, rng.uniform(3.5, 6.0), rng.uniform(0.0, 90.0)), (0, 0),
                            rng.uniform(0.5, 0.9))  # ink spreads into the paper
    strength = rng.uniform(0.35, 0.6)
    mixed = cv2.addWeighted(ink, 1.0 - strength, dots, strength, 0.0)
    paper = [rng.uniform(228, 250) for _ in range(3)]
    t, b, left, right = (round(PRINT_HEIGHT * rng.uniform(0.04, 0.12)) for _ in range(4))
    card = cv2.copyMakeBorder(mixed, t, b, left, right, cv2.BORDER_CONSTANT, value=paper)
    grain = noise.normal(0.0, rng.uniform(1.5, 4.0), card.shape[:2])[..., None]
    return np.asarray(np.clip(card + grain, 0, 255), dtype=np.uint8)


def _background(size: Size, rng: random.Random, noise: np.random.Generator, photo: BGRImage | None) -> BGRImage:
    """What is behind the print: another photo blurred beyond recognition, or a flat wall with some noise."""
    w, h = size
    if photo is not None:
        small = cv2.GaussianBlur(cv2.resize(photo, (32, 24), interpolation=cv2.INTER_AREA), (0, 0), 2.0)
        base = cv2.resize(small, size, interpolation=cv2.INTER_CUBIC).astype(np.float64)
    else:
        colour = np.array([rng.uniform(40, 220) for _ in range(3)])
        slope = rng.uniform(0.0, 0.25)  # light falls off across a wall
        ramp = np.linspace(1.0 - slope, 1.0 + slope, h)[:, None, None]
        base = np.broadcast_to(colour * ramp, (h, w, 3))
    base = base + noise.normal(0.0, rng.uniform(2.0, 6.0), (h, w, 1))
    return np.asarray(np.clip(base, 0, 255), dtype=np.uint8)


# A print's pose per frame is a row of yaw, pitch, roll (degrees), zoom, and the offset of its centre from
# the frame's (fractions of the frame).


def _moving(n: int, fps: float, rng: random.Random, noise: np.random.Generator, tilt: float) -> Vec:
    """Smooth moves between random key poses every 0.5-1 s, as someone imitating head turns and nods with a
    photo; the first key pose is near frontal, as the customer starts facing the camera."""
    times, keys = [0.0], [_key_pose(rng, 0.1 * tilt)]
    while times[-1] < n / fps:
        times.append(times[-1] + rng.uniform(0.5, 1.0))
        keys.append(_key_pose(rng, tilt))
    return _interpolate(np.array(times), np.array(keys), np.arange(n) / fps) + _tremor(n, noise)


def _still(n: int, rng: random.Random, noise: np.random.Generator, yaw: float) -> Vec:
    """A print held still (turned by ``yaw``), with the hand's tremor."""
    pose = np.array([yaw, rng.uniform(-4, 4), rng.uniform(-3, 3), rng.uniform(0.9, 1.1),
                     rng.uniform(-0.03, 0.03), rng.uniform(-0.03, 0.03)])
    return pose + _tremor(n, noise)


def _key_pose(rng: random.Random, tilt: float) -> list[float]:
    kind = rng.choice(("turn", "nod", "both", "rest"))
    yaw = rng.choice((-1, 1)) * rng.uniform(0.5, 1.0) * tilt if kind in ("turn", "both") else rng.uniform(-3, 3)
    pitch = rng.choice((-1, 1)) * rng.uniform(0.4, 0.9) * tilt if kind in ("nod", "both") else rng.uniform(-3, 3)
    return [yaw, pitch, rng.uniform(-12, 12), rng.uniform(0.8, 1.15), rng.uniform(-0.07, 0.07),
            rng.uniform(-0.05, 0.05)]


def _interpolate(times: Vec, keys: Vec, t: Vec) -> Vec:
    """Eased (smoothstep) moves between key poses."""
    i = np.clip(np.searchsorted(times, t, side="right") - 1, 0, len(times) - 2)
    u = np.clip((t - times[i]) / (times[i + 1] - times[i]), 0.0, 1.0)
    ease = (u * u * (3 - 2 * u))[:, None]
    return np.asarray(keys[i] + (keys[i + 1] - keys[i]) * ease, dtype=np.float64)


def _tremor(n: int, noise: np.random.Generator) -> Vec:
    shake = noise.normal(0.0, 1.0, (n + 2, 6)) * np.array([0.6, 0.6, 0.4, 0.004, 0.002, 0.002])
    return np.asarray((shake[:-2] + shake[1:-1] + shake[2:]) / 3, dtype=np.float64)  # a hand is not white noise


def _projected(print_size: Size, pose: Vec, size: Size) -> Vec:
    """Where the print's corners (clockwise from top left) land in the frame: the print turned by the pose
    and seen through a pinhole camera about two print-heights away (a photo held at arm's length shows clear
    keystone when tilted)."""
    pw, ph = print_size
    w, h = size
    rot = _rotation(*(math.radians(v) for v in pose[:3]))
    corners = np.array([[-pw / 2, -ph / 2, 0], [pw / 2, -ph / 2, 0], [pw / 2, ph / 2, 0], [-pw / 2, ph / 2, 0]])
    focal = 2.0 * ph
    cam = corners @ rot.T + np.array([0.0, 0.0, focal])
    scale = pose[3] * 0.85 * h / ph  # the print's height at zoom 1: most of the frame's
    return np.asarray(focal * cam[:, :2] / cam[:, 2:3] * scale + np.array([w / 2 + pose[4] * w,
                                                                             h / 2 + pose[5] * h]))


def _rotation(yaw: float, pitch: float, roll: float) -> npt.NDArray[np.float64]:
    cy, sy = math.cos(yaw), math.sin(yaw)
    cp, sp = math.cos(pitch), math.sin(pitch)
    cr, sr = math.cos(roll), math.sin(roll)
    about_z = np.array([[cr, -sr, 0.0], [sr, cr, 0.0], [0.0, 0.0, 1.0]])
    about_x = np.array([[1.0, 0.0, 0.0], [0.0, cp, -sp], [0.0, sp, cp]])
    about_y = np.array([[cy, 0.0, sy], [0.0, 1.0, 0.0], [-sy, 0.0, cy]])
    return np.asarray(about_z @ about_x @ about_y, dtype=np.float64)


def _shoot_print(card: BGRImage, pose: Vec, background: BGRImage) -> BGRImage:
    """The background with the print in front of it. Only the print's bounding box is warped: warping is
    the costliest step of a frame."""
    h, w = background.shape[:2]
    ph, pw = card.shape[:2]
    dst = _projected((pw, ph), pose, (w, h))
    x0, y0 = (max(int(v), 0) for v in dst.min(axis=0))
    x1, y1 = min(int(dst[:, 0].max()) + 2, w), min(int(dst[:, 1].max()) + 2, h)
    frame = background.copy()
    if x1 <= x0 or y1 <= y0:
        return frame
    src = np.array([[0, 0], [pw, 0], [pw, ph], [0, ph]], dtype=np.float32)
    hom = cv2.getPerspectiveTransform(src, (dst - [x0, y0]).astype(np.float32))
    cv2.warpPerspective(card, hom, (x1 - x0, y1 - y0), dst=frame[y0:y1, x0:x1], flags=cv2.INTER_LINEAR,
                        borderMode=cv2.BORDER_TRANSPARENT)
    return frame


class _Camera:
    """Capture differences between clips: exposure, sensor noise and, for real footage, JPEG quality."""

    def __init__(self, size: Size, rng: random.Random, noise: np.random.Generator, jpeg: bool) -> None:
        w, h = size
        self._size = size
        self._gain, self._bias = rng.uniform(0.8, 1.2), rng.uniform(-20.0, 20.0)
        # One noise field per clip, cropped at a random place per frame: per-frame noise at a fraction of
        # the cost of drawing a new field every frame. It is split into what is added and what is taken
        # away, so both are saturating uint8 operations.
        field = np.round(noise.normal(0.0, rng.uniform(1.0, 4.0), (h + NOISE_PAD, w + NOISE_PAD, 3)))
        self._lighter = np.asarray(np.clip(field, 0, 255), dtype=np.uint8)
        self._darker = np.asarray(np.clip(-field, 0, 255), dtype=np.uint8)
        self._offsets = noise
        self._quality = rng.randint(30, 95) if jpeg else None

    def __call__(self, frame: BGRImage) -> BGRImage:
        w, h = self._size
        dx, dy = (int(v) for v in self._offsets.integers(0, NOISE_PAD, 2))
        lit = cv2.addWeighted(frame, self._gain, frame, 0.0, self._bias)
        lit = cv2.add(lit, self._lighter[dy:dy + h, dx:dx + w])
        shot = np.asarray(cv2.subtract(lit, self._darker[dy:dy + h, dx:dx + w]), dtype=np.uint8)
        if self._quality is None:
            return shot
        ok, buf = cv2.imencode(".jpg", shot, [cv2.IMWRITE_JPEG_QUALITY, self._quality])
        if not ok:  # pragma: no cover - OpenCV always encodes a valid 3-channel frame
            return shot
        return np.asarray(cv2.imdecode(buf, cv2.IMREAD_COLOR), dtype=np.uint8)


def _fit(frame: BGRImage, size: Size, zoom: float = 1.0, shift: tuple[float, float] = (0.0, 0.0)) -> BGRImage:
    """Letterbox ``frame`` into ``size`` (black bars), zoomed about its centre moved by ``shift`` (fractions of
    the source frame)."""
    h, w = frame.shape[:2]
    out_w, out_h = size
    s = min(out_w / w, out_h / h) * zoom
    cx, cy = w * (0.5 + shift[0]), h * (0.5 + shift[1])
    affine = np.array([[s, 0.0, out_w / 2 - s * cx], [0.0, s, out_h / 2 - s * cy]])
    return np.asarray(cv2.warpAffine(frame, affine, size, flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0)),
                      dtype=np.uint8)


@contextmanager
def _clip_writer(path: Path, fps: float, size: Size) -> Iterator[Callable[[BGRImage], None]]:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*FOURCC), fps, size)
    if not writer.isOpened():
        raise VideoError(f"cannot write {path}: OpenCV has no {FOURCC} MP4 encoder or the folder is not writable",
                         code="video_write_failed")

    def write(frame: BGRImage) -> None:
        # VideoWriter silently drops frames of any other size.
        if frame.shape != (size[1], size[0], 3):
            raise ValueError(f"frame of shape {frame.shape} in a {size[0]}x{size[1]} clip")
        writer.write(frame)

    try:
        yield write
    finally:
        writer.release()


# --- The four attacks -------------------------------------------------------------------------------------


class _Studio:
    """Renders one clip of a given attack type from a per-clip random generator."""

    def __init__(self, people: dict[str, list[Path]], footage: _Footage | None, size: Size, fps: float) -> None:
        self.people = people
        self.names = sorted(people)
        self.footage = footage
        self.size = size
        self.fps = fps
        self._detector = YuNetDetector()
        self._alone: dict[Path, bool] = {}

    def make(self, kind: str, rng: random.Random, path: Path) -> tuple[Action, ...]:
        noise = np.random.default_rng(rng.getrandbits(64))
        n = round(rng.uniform(MIN_SECONDS, MAX_SECONDS) * self.fps)
        render = {"print_moved": self._print_moved, "two_stills": self._two_stills,
                  "identity_switch": self._identity_switch, "wrong_order": self._wrong_order}[kind]
        with _clip_writer(path, self.fps, self.size) as write:
            return render(n, rng, noise, write)

    def _person(self, rng: random.Random, exclude: str | None = None) -> str:
        return rng.choice([p for p in self.names if p != exclude] if exclude else self.names)

    def _pick(self, rng: random.Random, count: int = 1, exclude: str | None = None) -> tuple[str, list[BGRImage]]:
        """``count`` different photos of one person whose portrait crop shows no one else: a bystander in the
        print would fail the one-face check and hide what the attack is meant to test. Identity folders where
        every draw shows several people give their photos as they come."""
        for _ in range(PICK_TRIES):
            name = self._person(rng, exclude)
            files = rng.sample(self.people[name], count)
            if all(self._is_alone(f) for f in files):
                break
        return name, [read_image(f) for f in files]

    def _is_alone(self, path: Path) -> bool:
        if path not in self._alone:
            portrait = _portrait(read_image(path))
            faces = self._detector.detect(portrait)
            primary = primary_face(faces, portrait.shape[1], portrait.shape[0])
            self._alone[path] = primary is None or significant_faces(faces, primary) <= 1
        return self._alone[path]

    def _backdrop(self, rng: random.Random, noise: np.random.Generator, person: str) -> BGRImage:
        if rng.random() < 0.5:
            photo = read_image(rng.choice(self.people[self._person(rng, exclude=person)]))
            return _background(self.size, rng, noise, photo)
        return _background(self.size, rng, noise, None)

    def _print_moved(self, n: int, rng: random.Random, noise: np.random.Generator,
                     write: Callable[[BGRImage], None]) -> tuple[Action, ...]:
        person, (photo,) = self._pick(rng)
        card = _printed(photo, rng, noise)
        back = self._backdrop(rng, noise, person)
        camera = _Camera(self.size, rng, noise, jpeg=False)
        for pose in _moving(n, self.fps, rng, noise, MAX_TILT):
            write(camera(_shoot_print(card, pose, back)))
        return _challenge(rng)

    def _two_stills(self, n: int, rng: random.Random, noise: np.random.Generator,
                    write: Callable[[BGRImage], None]) -> tuple[Action, ...]:
        person, (first, second) = self._pick(rng, 2)
        back = self._backdrop(rng, noise, person)
        camera = _Camera(self.size, rng, noise, jpeg=False)
        cut = round(rng.uniform(1.5, 2.0) * self.fps)
        turned = rng.choice((-1, 1)) * rng.uniform(12.0, 30.0) if rng.random() < 0.7 else rng.uniform(-4, 4)
        shots = [(_printed(first, rng, noise), _still(cut, rng, noise, rng.uniform(-4, 4))),
                 (_printed(second, rng, noise), _still(n - cut, rng, noise, turned))]
        for card, motion in shots:
            for pose in motion:
                write(camera(_shoot_print(card, pose, back)))
        return _challenge(rng)

    def _identity_switch(self, n: int, rng: random.Random, noise: np.random.Generator,
                         write: Callable[[BGRImage], None]) -> tuple[Action, ...]:
        cut = round(rng.uniform(1.3, 1.7) * self.fps)
        other, (photo,) = self._pick(rng)
        back = self._backdrop(rng, noise, other)
        camera = _Camera(self.size, rng, noise, jpeg=False)
        if self.footage is not None:
            start, zoom, shift = rng.uniform(0.0, 0.3), rng.uniform(1.0, 1.2), (0.0, rng.uniform(-0.05, 0.02))
            for k in range(cut):
                write(camera(_fit(self.footage.frame(start + k / self.fps), self.size, zoom, shift)))
        else:
            _, (first,) = self._pick(rng, exclude=other)
            card = _printed(first, rng, noise)
            for pose in _moving(cut, self.fps, rng, noise, 0.3 * MAX_TILT):
                write(camera(_shoot_print(card, pose, back)))
        card = _printed(photo, rng, noise)
        for pose in _moving(n - cut, self.fps, rng, noise, MAX_TILT):
            write(camera(_shoot_print(card, pose, back)))
        return _challenge(rng)

    def _wrong_order(self, n: int, rng: random.Random, noise: np.random.Generator,
                     write: Callable[[BGRImage], None]) -> tuple[Action, ...]:
        assert self.footage is not None and self.footage.windows
        win = rng.choice(self.footage.windows)
        start = rng.uniform(*win.start)
        end = rng.uniform(max(win.end[0], start + MIN_SECONDS), min(win.end[1], start + MAX_SPEED * MAX_SECONDS))
        # The clip's length was drawn for every type alike; here it must also keep the replay speed in range.
        seconds = float(np.clip(n / self.fps, (end - start) / MAX_SPEED, min(MAX_SECONDS, end - start)))
        n = round(seconds * self.fps)
        speed = (end - start) / seconds
        zoom, shift = rng.uniform(1.0, 1.25), (rng.uniform(-0.03, 0.03), rng.uniform(-0.05, 0.02))
        camera = _Camera(self.size, rng, noise, jpeg=True)
        for k in range(n):
            write(camera(_fit(self.footage.frame(start + k * speed / self.fps), self.size, zoom, shift)))
        challenge = [win.second.action, win.first.action]
        if any(e.action is Action.BLINK and start < e.start and e.end < end for e in self.footage.events):
            challenge.insert(rng.randint(0, 2), Action.BLINK)
        return tuple(challenge)
