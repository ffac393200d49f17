"""Capture variations of genuine clips: the same person and actions as another camera, light or network
would deliver them (brightness, sensor noise, JPEG compression, scale, frame rate). They enlarge the
bona-fide set for BPCER without pretending to add people: every variation is still the same person."""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from realname.errors import VideoError
from realname.evaluation.liveness.evaluate import MANIFEST_COLUMNS
from realname.images import BGRImage
from realname.liveness.video import read_frames


@dataclass(frozen=True)
class Variation:
    name: str
    gain: float = 1.0  # brightness multiplier
    noise: float = 0.0  # Gaussian sensor noise, grey levels
    jpeg: int = 0  # JPEG quality per frame (0 = none)
    scale: float = 1.0  # frame size factor
    fps: float = 0.0  # resample to this rate (0 = keep)


def standard_variations(count: int, seed: int = 0) -> list[Variation]:
    """``count`` seeded combinations within what counter cameras produce."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        out.append(Variation(
            name=f"var{i:02d}",
            gain=rng.choice([0.55, 0.7, 0.85, 1.0, 1.15, 1.3]),
            noise=rng.choice([0.0, 3.0, 6.0, 10.0]),
            jpeg=rng.choice([0, 35, 50, 75]),
            scale=rng.choice([0.6, 0.8, 1.0, 1.25]),
            fps=rng.choice([0.0, 15.0, 20.0, 24.0]),
        ))
    return out


def apply(frame: BGRImage, v: Variation, rng: np.random.Generator) -> BGRImage:
    img = frame.astype(np.float32) * v.gain
    if v.noise:
        img += rng.normal(0.0, v.noise, img.shape).astype(np.float32)
    out = np.clip(img, 0, 255).astype(np.uint8)
    if v.scale != 1.0:
        out = np.asarray(cv2.resize(out, None, fx=v.scale, fy=v.scale,
                                    interpolation=cv2.INTER_AREA if v.scale < 1 else cv2.INTER_LINEAR), np.uint8)
    if v.jpeg:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, v.jpeg])
        if ok:
            out = np.asarray(cv2.imdecode(buf, cv2.IMREAD_COLOR), np.uint8)
    return np.ascontiguousarray(out)


def write_variation(clip: Path, v: Variation, out: Path, seed: int = 0) -> Path:
    frames = list(read_frames(clip))
    if not frames:
        raise VideoError(f"{clip} holds no frames", code="empty_video")
    src_fps = (len(frames) - 1) / frames[-1][1] if frames[-1][1] > 0 else 30.0
    fps = v.fps or src_fps
    rng = np.random.default_rng(seed)
    out.parent.mkdir(parents=True, exist_ok=True)
    writer: cv2.VideoWriter | None = None
    next_t = 0.0
    try:
        for frame, t in frames:
            if t + 1e-9 < next_t:
                continue
            next_t += 1.0 / fps
            img = apply(frame, v, rng)
            if writer is None:
                writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"mp4v"), fps,
                                         (img.shape[1], img.shape[0]))
                if not writer.isOpened():
                    raise VideoError(f"cannot write {out}", code="unwritable_video")
            writer.write(img)
    finally:
        if writer is not None:
            writer.release()
    return out


def make_variations(clips: list[tuple[Path, str]], out: Path, per_clip: int, seed: int = 0) -> Path:
    """Variations of each (clip, challenge) as genuine rows of ``out/manifest.csv``; returns its path."""
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / "manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(MANIFEST_COLUMNS)
        for clip, challenge in clips:
            for i, v in enumerate(standard_variations(per_clip, seed)):
                target = out / f"{clip.stem}_{v.name}.mp4"
                write_variation(clip, v, target, seed + i)
                w.writerow([target.name, "genuine", "", challenge])
    return manifest
