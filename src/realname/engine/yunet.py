"""YuNet face detector (OpenCV's FaceDetectorYN) with the retries that keep failures to acquire rare.

Detection runs first on a small copy (fast: a face at the counter is large), and only when that finds no
face, or only a small one whose landmarks would be coarse, on larger copies and with lower score thresholds.
Small images (ID-chip portraits are 102x126) are enlarged so the landmarks sit on a finer grid.
"""

from __future__ import annotations

import threading

import cv2
import numpy as np

from realname.engine.base import DetectedFace
from realname.engine.models import model_path
from realname.engine.selection import primary_face
from realname.images import BGRImage

MIN_SIDE = 200  # smaller images are enlarged to this
FAST_SIDE = 320  # first look
FULL_SIDE = 1280  # later looks; twice that when enlarging for a last try
# A pass is accepted when its primary face is at least this many pixels tall at the scale searched.
GOOD_FACE = 64


def _scale(longest: int, side: int) -> float:
    if longest < MIN_SIDE:
        return MIN_SIDE / longest
    return min(1.0, side / longest)


class YuNetDetector:
    def __init__(self) -> None:
        self._path = str(model_path("yunet"))
        self._local = threading.local()  # cv2 detectors are stateful (input size): one per thread

    def _detector(self) -> cv2.FaceDetectorYN:
        det = getattr(self._local, "det", None)
        if det is None:
            det = cv2.FaceDetectorYN.create(self._path, "", (320, 320), 0.6, 0.3, 5000)
            self._local.det = det
        return det

    def _run(self, image: BGRImage, scale: float, threshold: float) -> list[DetectedFace]:
        work = image if scale == 1.0 else cv2.resize(
            image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC)
        det = self._detector()
        det.setInputSize((work.shape[1], work.shape[0]))
        det.setScoreThreshold(threshold)
        _, rows = det.detect(work)
        if rows is None:
            return []
        faces = [DetectedFace.from_yunet_row(r, scale) for r in np.asarray(rows)]
        return [f for f in faces if f.box.w > 1 and f.box.h > 1]

    def detect(self, image: BGRImage) -> list[DetectedFace]:
        h, w = image.shape[:2]
        fast, full = _scale(max(h, w), FAST_SIDE), _scale(max(h, w), FULL_SIDE)
        passes = ((fast, 0.6), (full, 0.6), (2 * full, 0.5), (2 * full, 0.3), (full, 0.2))
        found: list[DetectedFace] = []
        tried: set[tuple[float, float]] = set()
        for scale, threshold in passes:
            if (scale, threshold) in tried:
                continue
            tried.add((scale, threshold))
            faces = self._run(image, scale, threshold)
            if faces:
                found = faces
                best = primary_face(faces, w, h)
                if best is not None and best.box.h * scale >= GOOD_FACE:
                    return faces
        return found
