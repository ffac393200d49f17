"""A deterministic engine for tests: no model files, instant, and predictable.

- Any image with visible structure "contains" one face in its centre; a flat image contains none.
- A template is the face region shrunk to 16x16 grey, zero-mean and unit-length, so the same picture
  scores 1.0 against itself, and unrelated pictures score near 0. It answers to every model name (the
  mirror model mirrors the crop), so the matcher runs every strategy on it unchanged.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from realname.engine.base import Box, DetectedFace, QualityReport, Template
from realname.engine.quality import QualityLimits, assess
from realname.engine.selection import primary_face
from realname.images import BGRImage

FLAT_STD = 3.0


class FakeEngine:
    name = "fake"
    models: tuple[str, ...] = ("sface", "sface_mirror", "dlib")

    def __init__(self, limits: QualityLimits | None = None) -> None:
        self.limits = limits or QualityLimits()
        self.calls: list[str] = []  # what was asked, for tests that check the cascade's behaviour

    def detect(self, image: BGRImage) -> list[DetectedFace]:
        self.calls.append("detect")
        if float(image.std()) < FLAT_STD:
            return []
        h, w = image.shape[:2]
        box = Box(w * 0.25, h * 0.2, w * 0.5, h * 0.6)
        rel = np.array([(0.3, 0.4), (0.7, 0.4), (0.5, 0.6), (0.35, 0.8), (0.65, 0.8)], dtype=np.float32)
        pts = (rel * np.array([box.w, box.h], dtype=np.float32) + np.array([box.x, box.y], dtype=np.float32))
        return [DetectedFace(box, pts.astype(np.float32), 0.99)]

    def landmarks(self, image: BGRImage, face: DetectedFace) -> npt.NDArray[np.float32]:
        return face.landmarks

    def align(self, image: BGRImage, face: DetectedFace, model: str) -> BGRImage:
        b = face.box
        crop = image[int(b.y): int(b.y + b.h), int(b.x): int(b.x + b.w)]
        return np.asarray(cv2.resize(crop, (112, 112), interpolation=cv2.INTER_AREA), dtype=np.uint8)

    def embed(self, image: BGRImage, face: DetectedFace, model: str) -> Template:
        self.calls.append(f"embed:{model}")
        grey = cv2.cvtColor(self.align(image, face, model), cv2.COLOR_BGR2GRAY)
        if model == "sface_mirror":
            grey = np.ascontiguousarray(grey[:, ::-1])
        v = cv2.resize(grey, (16, 16), interpolation=cv2.INTER_AREA).astype(np.float32).reshape(-1)
        v -= v.mean()
        n = float(np.linalg.norm(v))
        return Template(model, v / n if n > 0 else v)

    def quality(self, image: BGRImage) -> QualityReport:
        faces = self.detect(image)
        return assess(image, faces, primary_face(faces, image.shape[1], image.shape[0]), self.limits)
